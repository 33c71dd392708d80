"""Push subscriptions and the outbox: messages are written with the event that causes them and
sent later by the relay (web/push/relay.py)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, select

from web.audit import record_audit_event
from web.extensions import db
from web.models import OutboxMessage, PushSubscription, User, utcnow
from web.push.vapid import endpoint_allowed
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


@dataclass(frozen=True)
class SubscriptionInput:
    endpoint: str
    p256dh: str
    auth: str


def validate_subscription(payload: object) -> SubscriptionInput:
    """The browser's `subscription.toJSON()`: {endpoint, keys: {p256dh, auth}}."""
    errors: dict[str, str] = {}
    if not isinstance(payload, dict):
        raise InputError({"subscription": _("must be a JSON object")})
    endpoint = payload.get("endpoint")
    keys = payload.get("keys") if isinstance(payload.get("keys"), dict) else {}
    if (
        not isinstance(endpoint, str)
        or not endpoint.startswith(("https://", "http://"))
        or len(endpoint) > 2048
    ):
        errors["endpoint"] = _("must be the push service URL of the subscription")
    elif not endpoint_allowed(endpoint):
        errors["endpoint"] = _("is not a push service this server sends to")
    p256dh = _b64url_bytes(keys.get("p256dh"))
    if p256dh is None or len(p256dh) != 65 or p256dh[0] != 4:
        errors["keys.p256dh"] = _("must be the browser's P-256 public key")
    auth = _b64url_bytes(keys.get("auth"))
    if auth is None or len(auth) != 16:
        errors["keys.auth"] = _("must be the 16-byte authentication secret")
    if errors:
        raise InputError(errors)
    return SubscriptionInput(endpoint, keys["p256dh"], keys["auth"])


def save_subscription(
    user: User, data: SubscriptionInput, device_label: str = ""
) -> PushSubscription:
    """Store (or move to this user) the subscription of one browser."""
    digest = endpoint_hash(data.endpoint)
    subscription = db.session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint_hash == digest)
    )
    if subscription is None:
        subscription = PushSubscription(endpoint=data.endpoint, endpoint_hash=digest)
        db.session.add(subscription)
    subscription.user_id = user.id  # a shared browser now signed in as someone else
    subscription.p256dh = data.p256dh
    subscription.auth = data.auth
    subscription.device_label = device_label[:120]
    record_audit_event("push.subscribed", object_type="user", object_id=user.id)
    return subscription


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
    from flask import current_app

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
