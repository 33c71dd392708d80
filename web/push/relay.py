"""The outbox relay: sends due push messages, several at once, none able to hold it.

A message is claimed (status "sending" with a lease, one attempt counted) in a short
transaction, sent with no transaction open, and its outcome recorded in another. On PostgreSQL
the claim takes rows with SELECT … FOR UPDATE SKIP LOCKED, and every claim is conditional, so
several relays can run at once and each message is sent by one of them. A relay that dies
mid-send leaves a lease that expires: the message is sent again (at least once), and since the
attempt was counted when it was claimed, a message that kills every relay that takes it is
given up after PUSH_MAX_ATTEMPTS.

Sends run in a pool of PUSH_RELAY_CONCURRENCY threads, each bounded by PUSH_SEND_DEADLINE_SECONDS
(web/push/transport.py). The relay claims only as many messages as it has free threads, high
urgency first ("an authority is asking", escalations), at most one per subscription at a time;
a subscription whose send failed is left alone for a while, so a hung push service holds one
thread, not the queue. A send that ran out of time backs off like a 5xx.
"""

from __future__ import annotations

import http.client
import logging
import random
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from flask import current_app
from py_vapid import Vapid02
from pywebpush import WebPusher
from sqlalchemy import and_, delete, or_, select, update

from web.audit import record_audit_event
from web.extensions import db
from web.models import OutboxMessage, OutboxStatus, PushSubscription, utcnow
from web.push.endpoints import Endpoint, EndpointRefused, endpoint_from_config
from web.push.services import PushMessage
from web.push.transport import AddressRefused, PushTransport, SendTimeout
from web.push.vapid import vapid, vapid_subject

log = logging.getLogger("a1wallet.push")

LEASE = timedelta(minutes=2)  # at least twice the send deadline (see _lease)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
# After a failed send, this relay leaves the subscription's other messages alone for a while.
COOL_DOWN_SECONDS = BACKOFF_BASE_SECONDS
VAPID_TOKEN_SECONDS = 12 * 3600
HIGH_URGENCY = "high"


@dataclass(frozen=True)
class RelayResult:
    sent: int = 0
    retried: int = 0
    gone: int = 0
    dead: int = 0


@dataclass(frozen=True)
class SendJob:
    """Everything a send needs, read in the relay's thread: the pool threads touch no database."""

    message_id: int
    subscription_id: int
    endpoint: Endpoint
    audience: str  # the VAPID `aud`: the endpoint's origin
    subscription_info: dict
    payload: bytes
    headers: dict[str, str]
    ttl: int


@dataclass(frozen=True)
class SendResult:
    status: int | None = None  # the push service's HTTP status, when it answered
    retry_after: str | None = None
    failure: str | None = None  # timeout, refused_address or an exception's class name


def _lease() -> timedelta:
    deadline = float(current_app.config["PUSH_SEND_DEADLINE_SECONDS"])
    return max(LEASE, timedelta(seconds=2 * deadline + 30))


def _pending_due(cutoff: datetime):
    return and_(
        OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_attempt_at <= cutoff
    )


def _lease_expired(now: datetime):
    return and_(OutboxMessage.status == OutboxStatus.SENDING.value, OutboxMessage.lease_until < now)


def claim_due_messages(
    limit: int = 50,
    now: datetime | None = None,
    *,
    cutoff: datetime | None = None,
    busy_subscriptions: set[int] | frozenset[int] = frozenset(),
) -> list[int]:
    """Ids of due messages now leased to this relay (committed), high urgency first, then
    expired leases, then pending by due time; at most one per subscription, none for the
    ``busy_subscriptions``. ``cutoff`` (default now) bounds the due time of pending messages."""
    now = now or utcnow()
    cutoff = min(cutoff or now, now)
    due = or_(_pending_due(cutoff), _lease_expired(now))
    tiers = (
        (and_(OutboxMessage.urgency == HIGH_URGENCY, due), OutboxMessage.next_attempt_at),
        (_lease_expired(now), OutboxMessage.lease_until),
        (_pending_due(cutoff), OutboxMessage.next_attempt_at),
    )
    claimed: list[int] = []
    taken_subscriptions = set(busy_subscriptions)
    for condition, order in tiers:
        if len(claimed) >= limit:
            break
        query = select(OutboxMessage.id, OutboxMessage.subscription_id).where(condition)
        if taken_subscriptions:
            query = query.where(
                or_(
                    OutboxMessage.subscription_id.is_(None),
                    OutboxMessage.subscription_id.not_in(taken_subscriptions),
                )
            )
        query = query.order_by(order, OutboxMessage.id).limit(2 * (limit - len(claimed)))
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for message_id, subscription_id in db.session.execute(query).all():
            if len(claimed) >= limit:
                break
            if subscription_id is not None and subscription_id in taken_subscriptions:
                continue  # one message per device at a time, in order
            # Conditional: if another relay took it meanwhile, the row no longer matches.
            taken = db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, due)
                .values(
                    status=OutboxStatus.SENDING.value,
                    lease_until=now + _lease(),
                    attempts=OutboxMessage.attempts + 1,
                )
            ).rowcount
            if taken == 1:
                claimed.append(message_id)
                if subscription_id is not None:
                    taken_subscriptions.add(subscription_id)
    db.session.commit()
    return claimed


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter: 30 s, 1 min, 2 min … at most 6 h."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


def _retry_after_seconds(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
        except (TypeError, ValueError):
            return None


def _job(message: OutboxMessage, subscription: PushSubscription, endpoint: Endpoint) -> SendJob:
    headers = {"Urgency": message.urgency}
    if message.topic:
        headers["Topic"] = message.topic
    parts = urlsplit(subscription.endpoint)
    return SendJob(
        message_id=message.id,
        subscription_id=subscription.id,
        endpoint=endpoint,
        audience=f"{parts.scheme}://{parts.netloc}",
        subscription_info={
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        },
        payload=PushMessage(message.kind, message.title, message.body, message.url).payload(),
        headers=headers,
        ttl=message.ttl,
    )


def send(job: SendJob, transport: PushTransport, vapid_key: Vapid02, subject: str) -> SendResult:
    """Encrypt (RFC 8291, by pywebpush), sign (RFC 8292, by py-vapid) and post one message.
    Runs in a pool thread; never raises for what the network or the push service does."""
    try:
        encrypted = WebPusher(job.subscription_info).encode(job.payload, "aes128gcm")["body"]
    except Exception as exc:  # stored keys that cannot encrypt: report it, do not crash
        return SendResult(failure=f"keys unusable ({type(exc).__name__})")
    claims = {"aud": job.audience, "exp": int(time.time()) + VAPID_TOKEN_SECONDS, "sub": subject}
    headers = {
        **job.headers,
        **vapid_key.sign(claims),
        "TTL": str(job.ttl),
        "Content-Encoding": "aes128gcm",
    }
    try:
        response = transport.post(job.endpoint, encrypted, headers)
    except SendTimeout:
        return SendResult(failure="timeout")
    except AddressRefused:
        return SendResult(failure="refused_address")
    except (OSError, http.client.HTTPException) as exc:
        return SendResult(failure=type(exc).__name__)
    return SendResult(status=response.status, retry_after=response.headers.get("Retry-After"))


class Relay:
    """Claims due messages into a bounded pool of sends and records what became of them."""

    def __init__(self, transport: PushTransport | None = None) -> None:
        config = current_app.config
        self.concurrency = int(config["PUSH_RELAY_CONCURRENCY"])
        self.deadline_seconds = float(config["PUSH_SEND_DEADLINE_SECONDS"])
        self.max_attempts = int(config["PUSH_MAX_ATTEMPTS"])
        self.transport = transport or PushTransport(deadline_seconds=self.deadline_seconds)
        self.vapid_key = vapid()
        self.subject = vapid_subject()
        self.in_flight: dict[Future[SendResult], SendJob] = {}
        self.cooling: dict[int, float] = {}  # subscription id → monotonic time it may send again
        self.counts: Counter[str] = Counter()

    def _busy_subscriptions(self) -> set[int]:
        now = time.monotonic()
        self.cooling = {sid: until for sid, until in self.cooling.items() if until > now}
        return {job.subscription_id for job in self.in_flight.values()} | set(self.cooling)

    def _fill(self, pool: ThreadPoolExecutor, cutoff: datetime | None) -> None:
        """Claim while there are free threads and due messages."""
        while (free := self.concurrency - len(self.in_flight)) > 0:
            claimed = claim_due_messages(
                free, cutoff=cutoff, busy_subscriptions=self._busy_subscriptions()
            )
            if not claimed:
                return
            for message_id in claimed:
                job = self._prepare(message_id)
                if job is not None:
                    future = pool.submit(send, job, self.transport, self.vapid_key, self.subject)
                    self.in_flight[future] = job

    def _prepare(self, message_id: int) -> SendJob | None:
        """The job for a claimed message, or None when its outcome is already known."""
        message = db.session.get(OutboxMessage, message_id)
        subscription = (
            db.session.get(PushSubscription, message.subscription_id)
            if message.subscription_id
            else None
        )
        if subscription is None:
            self._finish(message, "gone")
            return None
        if message.attempts > self.max_attempts:
            # Every relay that took it stopped before recording an outcome: give up on it.
            message.last_error = message.last_error or "no outcome: the relay stopped mid-send"
            self._finish(message, "dead")
            return None
        try:
            endpoint = endpoint_from_config(subscription.endpoint, current_app.config)
        except EndpointRefused as refused:
            # Stored before the rules (or the settings) changed: never sent to.
            message.last_error = f"refused: endpoint not allowed ({refused.reason})"
            self._finish(message, "dead")
            return None
        return _job(message, subscription, endpoint)

    def _collect(self, done: set[Future[SendResult]]) -> None:
        for future in done:
            job = self.in_flight.pop(future)
            self._record(job, future.result())

    def run(
        self, *, once: bool, poll_seconds: float = 2.0, stop: threading.Event | None = None
    ) -> RelayResult:
        """Once: send what is due now (not what a retry makes due again meanwhile) and return.
        Otherwise run until ``stop`` is set, claiming what becomes due every ``poll_seconds``."""
        cutoff = utcnow() if once else None
        stop = stop or threading.Event()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="push-send") as pool:
            while not stop.is_set():
                self._fill(pool, cutoff)
                if not self.in_flight:
                    if once:
                        break
                    stop.wait(poll_seconds)
                    continue
                # Wake up for a finished send, or (running on) to claim what became due.
                done, _pending = wait(
                    self.in_flight,
                    timeout=None if once else poll_seconds,
                    return_when=FIRST_COMPLETED,
                )
                self._collect(done)
                if not once and self.counts:
                    self._log_counts()
            self._collect(set(wait(self.in_flight).done))  # stopped: record what was under way
        return self.result()

    def result(self) -> RelayResult:
        return RelayResult(
            self.counts["sent"], self.counts["retry"], self.counts["gone"], self.counts["dead"]
        )

    def _log_counts(self) -> None:  # pragma: no cover - the long-running relay's log
        result = self.result()
        if result.sent or result.dead or result.gone:
            log.info("relay: %s", result)
        self.counts.clear()

    def _record(self, job: SendJob, result: SendResult) -> None:
        message = db.session.get(OutboxMessage, job.message_id)
        db.session.refresh(message)
        if message.status != OutboxStatus.SENDING.value:
            db.session.rollback()  # the lease ran out and another relay took it
            return
        subscription = db.session.get(PushSubscription, job.subscription_id)
        now = utcnow()
        status = result.status
        if result.failure and result.failure.startswith("keys unusable"):
            message.last_error = result.failure
            outcome = "dead"
        elif result.failure == "refused_address":
            message.last_error = "refused: the push service resolved to a non-public address"
            outcome = "dead"
            record_audit_event(
                "push.send_refused",
                object_type="push_subscription",
                object_id=job.subscription_id,
                outcome="refused",
                message="non-public address",
            )
            log.warning(
                "push message %s refused: %s resolved to a non-public address",
                message.id,
                job.endpoint.host,
            )
        elif result.failure is not None:
            message.last_error = (
                f"timeout after {self.deadline_seconds:g} s"
                if result.failure == "timeout"
                else result.failure
            )
            outcome = self._retry(message, now, backoff_seconds(message.attempts))
        elif status is not None and 200 <= status < 300:
            outcome = "sent"
        elif status is not None and 300 <= status < 400:
            # A push service never redirects: whoever answers this is not one.
            message.last_error = f"HTTP {status}: redirect not followed"
            outcome = "dead"
            self._drop_subscription(job.subscription_id, "redirect")
        elif status in (404, 410):
            # The browser unsubscribed or the subscription expired: it will never work again.
            message.last_error = f"HTTP {status}"
            db.session.execute(
                delete(PushSubscription).where(PushSubscription.id == job.subscription_id)
            )
            outcome = "gone"
        elif status == 429:
            message.last_error = "HTTP 429"
            delay = _retry_after_seconds(result.retry_after, now)
            outcome = self._retry(message, now, delay or backoff_seconds(message.attempts))
        elif status is not None and 500 <= status < 600:
            message.last_error = f"HTTP {status}"
            outcome = self._retry(message, now, backoff_seconds(message.attempts))
        else:
            message.last_error = f"HTTP {status}"
            outcome = "dead"  # 400, 401/403 (VAPID), 413: sending again would fail the same way
        if outcome == "retry":
            self.cooling[job.subscription_id] = time.monotonic() + COOL_DOWN_SECONDS
        if outcome == "sent" and subscription is not None:
            subscription.last_success_at = now
        self._finish(message, outcome, now)

    def _retry(self, message: OutboxMessage, now: datetime, delay: float) -> str:
        if message.attempts >= self.max_attempts:
            return "dead"
        message.status = OutboxStatus.PENDING.value
        message.next_attempt_at = now + timedelta(seconds=delay)
        return "retry"

    def _drop_subscription(self, subscription_id: int, reason: str) -> None:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))
        record_audit_event(
            "push.subscription_dropped",
            object_type="push_subscription",
            object_id=subscription_id,
            outcome="refused",
            message=reason,
        )

    def _finish(self, message: OutboxMessage, outcome: str, now: datetime | None = None) -> None:
        now = now or utcnow()
        if outcome == "sent":
            message.status = OutboxStatus.SENT.value
            message.sent_at = now
        elif outcome == "gone":
            message.status = OutboxStatus.GONE.value
        elif outcome == "dead":
            message.status = OutboxStatus.DEAD.value
            log.warning(
                "push message %s is dead after %s attempts: %s",
                message.id,
                message.attempts,
                message.last_error,
            )
        message.lease_until = None
        db.session.commit()
        self.counts[outcome] += 1


def relay_once(transport: PushTransport | None = None) -> RelayResult:
    """Send every message that is due now; returns the counts."""
    return Relay(transport).run(once=True)


def relay_forever(poll_seconds: float = 2.0, stop: threading.Event | None = None) -> None:
    Relay().run(once=False, poll_seconds=poll_seconds, stop=stop)
