"""The outbox relay: sends due push messages with pywebpush (DESIGN §8).

A message is claimed (status "sending" with a lease) in a short transaction, sent with no
transaction open, and its outcome recorded in another. On PostgreSQL the claim takes rows with
SELECT … FOR UPDATE SKIP LOCKED, and every claim is conditional, so several relays can run at
once and each message is sent by one of them. A relay that dies mid-send leaves a lease that
expires: the message is sent again (at least once).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import requests
from flask import current_app
from pywebpush import WebPushException, webpush
from sqlalchemy import and_, delete, or_, select, update

from web.extensions import db
from web.models import OutboxMessage, OutboxStatus, PushSubscription, utcnow
from web.push.services import PushMessage
from web.push.vapid import vapid, vapid_subject

log = logging.getLogger("a1wallet.push")

LEASE = timedelta(minutes=2)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
SEND_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class RelayResult:
    sent: int = 0
    retried: int = 0
    gone: int = 0
    dead: int = 0


def _due(now: datetime):
    return or_(
        and_(
            OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_attempt_at <= now
        ),
        and_(OutboxMessage.status == OutboxStatus.SENDING.value, OutboxMessage.lease_until < now),
    )


def claim_due_messages(limit: int = 50, now: datetime | None = None) -> list[int]:
    """Ids of due messages now leased to this relay (committed)."""
    now = now or utcnow()
    query = (
        select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for message_id in db.session.scalars(query).all():
        # Conditional: if another relay took it meanwhile, the row no longer matches.
        taken = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due(now))
            .values(status=OutboxStatus.SENDING.value, lease_until=now + LEASE)
        ).rowcount
        if taken == 1:
            claimed.append(message_id)
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


def _send(message: OutboxMessage, subscription: PushSubscription) -> None:
    payload = PushMessage(message.kind, message.title, message.body, message.url).payload()
    headers = {"Urgency": message.urgency}
    if message.topic:
        headers["Topic"] = message.topic
    webpush(
        subscription_info={
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        },
        data=payload,
        vapid_private_key=vapid(),
        vapid_claims={"sub": vapid_subject()},  # a fresh dict: pywebpush writes aud/exp into it
        ttl=message.ttl,
        headers=headers,
        timeout=SEND_TIMEOUT_SECONDS,
    )


def deliver(message_id: int) -> str:
    """Send one claimed message and record the outcome: sent, retry, gone or dead."""
    message = db.session.get(OutboxMessage, message_id)
    subscription = (
        db.session.get(PushSubscription, message.subscription_id)
        if message.subscription_id
        else None
    )
    now = utcnow()
    if subscription is None:
        message.status = OutboxStatus.GONE.value
        db.session.commit()
        return "gone"
    max_attempts = current_app.config["PUSH_MAX_ATTEMPTS"]
    message.attempts += 1
    outcome = "sent"
    try:
        _send(message, subscription)
    except WebPushException as exc:
        status = exc.status_code
        message.last_error = f"HTTP {status}"[:500]
        if status in (404, 410):
            # The browser unsubscribed or the subscription expired: it will never work again.
            db.session.execute(
                delete(PushSubscription).where(PushSubscription.id == subscription.id)
            )
            outcome = "gone"
        elif status == 429:
            delay = _retry_after_seconds(exc.retry_after, now) or backoff_seconds(message.attempts)
            outcome = _retry(message, now, delay, max_attempts)
        elif status is not None and 500 <= status < 600:
            outcome = _retry(message, now, backoff_seconds(message.attempts), max_attempts)
        else:
            outcome = "dead"  # 400, 401/403 (VAPID), 413: sending again would fail the same way
    except requests.RequestException as exc:
        message.last_error = type(exc).__name__
        outcome = _retry(message, now, backoff_seconds(message.attempts), max_attempts)
    if outcome == "sent":
        message.status = OutboxStatus.SENT.value
        message.sent_at = now
        subscription.last_success_at = now
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
    return outcome


def _retry(message: OutboxMessage, now: datetime, delay: float, max_attempts: int) -> str:
    if message.attempts >= max_attempts:
        return "dead"
    message.status = OutboxStatus.PENDING.value
    message.next_attempt_at = now + timedelta(seconds=delay)
    return "retry"


def relay_once(limit: int = 50) -> RelayResult:
    """Send every message that is due now; returns the counts."""
    counts = {"sent": 0, "retry": 0, "gone": 0, "dead": 0}
    attempted: set[int] = set()
    while True:
        claimed = claim_due_messages(limit)
        fresh = [message_id for message_id in claimed if message_id not in attempted]
        if not fresh:
            # Due again already (Retry-After: 0): release them for the next run, not this one.
            for message_id in claimed:
                db.session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id)
                    .values(status=OutboxStatus.PENDING.value, lease_until=None)
                )
            db.session.commit()
            break
        for message_id in fresh:
            attempted.add(message_id)
            counts[deliver(message_id)] += 1
    return RelayResult(counts["sent"], counts["retry"], counts["gone"], counts["dead"])


def relay_forever(poll_seconds: float = 2.0) -> None:  # pragma: no cover - a loop for production
    while True:
        result = relay_once()
        if result.sent or result.dead or result.gone:
            log.info("relay: %s", result)
        time.sleep(poll_seconds)
