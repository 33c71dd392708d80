"""Push subscriptions and the outbox: messages are written with the event that causes them and
sent later by the relay (web/push/relay.py)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from web.audit import record_audit_event
from web.extensions import db
from web.models import OutboxMessage, PushSubscription, User, utcnow
from web.push.endpoints import EndpointRefused, endpoint_from_config
from web.validation import InputError

MAX_PAYLOAD_BYTES = 3000  # RFC 8291 allows 3993 bytes of plaintext; keep a margin
TOPIC_MAX = 32  # RFC 8030: at most 32 base64url characters
URGENCIES = ("very-low", "low", "normal", "high")


def _b64url_bytes(value: object) -> bytes | None:
    if not isinstance(value, str) or not value or len(value) > 200:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


MAX_SUBSCRIPTIONS_PER_USER = 10  # a new device beyond this replaces the user's oldest


@dataclass(frozen=True)
class SubscriptionInput:
    endpoint: str
    p256dh: str
    auth: str


class SubscriptionRefused(InputError):
    """A subscription that is not stored: ``reason`` (no personal data) goes to the audit trail."""

    def __init__(self, errors: dict[str, str], reason: str, status: int = 422) -> None:
        super().__init__(errors)
        self.reason = reason
        self.status = status


def validate_subscription(payload: object) -> SubscriptionInput:
    """The browser's `subscription.toJSON()`: {endpoint, keys: {p256dh, auth}}; the endpoint
    must be a push service of PUSH_ALLOWED_HOSTS (web/push/endpoints.py)."""
    errors: dict[str, str] = {}
    reasons: list[str] = []
    if not isinstance(payload, dict):
        raise SubscriptionRefused({"subscription": _("must be a JSON object")}, "not_an_object")
    endpoint = payload.get("endpoint")
    keys = payload.get("keys") if isinstance(payload.get("keys"), dict) else {}
    try:
        endpoint_from_config(endpoint, current_app.config)
    except EndpointRefused as refused:
        reasons.append(f"endpoint {refused.reason}")
        if refused.reason in ("missing", "malformed"):
            errors["endpoint"] = _("must be the push service URL of the subscription")
        else:
            errors["endpoint"] = _("is not a push service this server sends to")
    p256dh = _b64url_bytes(keys.get("p256dh"))
    if p256dh is None or len(p256dh) != 65 or p256dh[0] != 4:
        errors["keys.p256dh"] = _("must be the browser's P-256 public key")
        reasons.append("p256dh")
    auth = _b64url_bytes(keys.get("auth"))
    if auth is None or len(auth) != 16:
        errors["keys.auth"] = _("must be the 16-byte authentication secret")
        reasons.append("auth")
    if errors:
        raise SubscriptionRefused(errors, ", ".join(reasons))
    assert isinstance(endpoint, str)
    return SubscriptionInput(endpoint, keys["p256dh"], keys["auth"])


def _bound_elsewhere() -> SubscriptionRefused:
    return SubscriptionRefused(
        {
            "endpoint": _(
                "Notifications on this browser are turned on for another account. Turn them "
                "off and on again to receive them here."
            )
        },
        "bound_to_another_user",
        status=409,
    )


def save_subscription(
    user: User, data: SubscriptionInput, device_label: str = ""
) -> PushSubscription:
    """Store the subscription of one browser for this user, or refresh it if it is already
    theirs. An endpoint another user holds is refused: whoever learns it must not be able to
    take that person's alerts. Beyond MAX_SUBSCRIPTIONS_PER_USER the oldest device goes."""
    digest = endpoint_hash(data.endpoint)
    if db.engine.dialect.name == "postgresql":
        # Two subscribes at once must not both see room under the cap.
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    subscription = db.session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint_hash == digest)
    )
    if subscription is not None and subscription.user_id != user.id:
        raise _bound_elsewhere()
    if subscription is None:
        subscription = PushSubscription(
            endpoint=data.endpoint,
            endpoint_hash=digest,
            user_id=user.id,
            p256dh=data.p256dh,
            auth=data.auth,
            device_label=device_label[:120],
        )
        try:
            with db.session.begin_nested():
                db.session.add(subscription)
        except IntegrityError:
            raise _bound_elsewhere() from None  # the same endpoint, stored a moment ago
    else:
        subscription.p256dh = data.p256dh
        subscription.auth = data.auth
        subscription.device_label = device_label[:120]
    db.session.flush()
    surplus = db.session.scalars(
        select(PushSubscription.id)
        .where(PushSubscription.user_id == user.id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
        .offset(MAX_SUBSCRIPTIONS_PER_USER)
    ).all()
    if surplus:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(surplus)))
    record_audit_event("push.subscribed", object_type="user", object_id=user.id)
    return subscription


def subscribe(user: User, payload: object, device_label: str = "") -> PushSubscription:
    """Validate and store; a refusal stores nothing but one audit event (the caller commits)."""
    try:
        return save_subscription(user, validate_subscription(payload), device_label)
    except SubscriptionRefused as refused:
        record_audit_event(
            "push.subscription_refused",
            object_type="user",
            object_id=user.id,
            outcome="refused",
            message=refused.reason,
        )
        raise


def delete_subscription(user: User, endpoint: str) -> bool:
    result = db.session.execute(
        delete(PushSubscription).where(
            PushSubscription.endpoint_hash == endpoint_hash(endpoint or ""),
            PushSubscription.user_id == user.id,
        )
    )
    if result.rowcount:
        record_audit_event("push.unsubscribed", object_type="user", object_id=user.id)
    return bool(result.rowcount)


def user_subscriptions(user_id: int) -> list[PushSubscription]:
    return list(
        db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id))
    )


@dataclass(frozen=True)
class PushMessage:
    kind: str
    title: str
    body: str
    url: str
    topic: str | None = None
    urgency: str = "normal"
    ttl: int = 24 * 3600

    def payload(self) -> bytes:
        """Only a title, a body and a URL: details are fetched when the notification opens."""
        data = json.dumps(
            {"title": self.title, "body": self.body, "url": self.url},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        if len(data) > MAX_PAYLOAD_BYTES:
            raise ValueError("push payload too large")
        return data


def ack_token(message_id: int) -> str:
    """Proof, carried in an alert's URL, that the phone showing it may acknowledge it."""
    mac = hmac.new(
        current_app.config["SECRET_KEY"].encode(), f"push-ack:{message_id}".encode(), hashlib.sha256
    ).hexdigest()[:24]
    return f"{message_id}.{mac}"


def check_ack_token(token: str) -> int | None:
    message_id, _sep, _mac = (token or "").partition(".")
    if not message_id.isdigit() or not hmac.compare_digest(ack_token(int(message_id)), token):
        return None
    return int(message_id)


def acknowledge_shown(token: str) -> bool:
    """The service worker showed the notification: record it once (alerts escalate without)."""
    message_id = check_ack_token(token)
    if message_id is None:
        return False
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return False
    if message.shown_at is None:
        message.shown_at = utcnow()
    return True


def enqueue(user_id: int, message: PushMessage) -> list[OutboxMessage]:
    """Add one outbox row per device of the user, in the caller's transaction."""
    if message.topic is not None and (
        len(message.topic) > TOPIC_MAX or not all(c.isalnum() or c in "-_" for c in message.topic)
    ):
        raise ValueError(f"invalid push topic {message.topic!r}")
    if message.urgency not in URGENCIES:
        raise ValueError(f"invalid urgency {message.urgency!r}")
    message.payload()  # refuse an oversized message now, not at send time
    rows = []
    for subscription in user_subscriptions(user_id):
        row = OutboxMessage(
            subscription_id=subscription.id,
            user_id=user_id,
            kind=message.kind,
            title=message.title[:200],
            body=message.body[:500],
            url=message.url[:500],
            topic=message.topic,
            urgency=message.urgency,
            ttl=message.ttl,
        )
        db.session.add(row)
        rows.append(row)
    if message.kind.startswith("alert"):
        # Alerts carry an acknowledgement token in their URL (the payload has no other room).
        db.session.flush()
        for row in rows:
            separator = "&" if "?" in row.url else "?"
            row.url = f"{row.url}{separator}push={ack_token(row.id)}"[:500]
    return rows
