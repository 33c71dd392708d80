"""Push: the application server key, subscriptions per device, acknowledgements."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_login import current_user

from web.access import public, roles_required
from web.auth.services import device_label
from web.extensions import csrf, db, limiter
from web.models import Role
from web.push import bp
from web.push.services import SubscriptionRefused, acknowledge_shown, delete_subscription
from web.push.services import subscribe as subscribe_user
from web.push.vapid import application_server_key

SUBSCRIBERS = (Role.EMPLOYEE, Role.EMPLOYER_ADMIN, Role.SUPPORT, Role.OPERATOR)


@bp.route("/key")
@roles_required(*SUBSCRIBERS)
def key() -> Response:
    return jsonify({"publicKey": application_server_key()})


@bp.route("/subscriptions", methods=["POST"])
@roles_required(*SUBSCRIBERS)
@limiter.limit("30 per hour")
def subscribe() -> Response | tuple[Response, int]:
    """Store the browser's `subscription.toJSON()` (sent with the X-CSRFToken header)."""
    try:
        subscription = subscribe_user(
            current_user,
            request.get_json(silent=True),
            device_label(request.headers.get("User-Agent", "")),
        )
    except SubscriptionRefused as refused:
        db.session.commit()  # the audit event only
        return jsonify({"errors": refused.errors, "status": refused.status}), refused.status
    db.session.commit()
    return jsonify({"id": subscription.id}), 201


@bp.route("/subscriptions", methods=["DELETE"])
@roles_required(*SUBSCRIBERS)
def unsubscribe() -> tuple[str, int]:
    payload = request.get_json(silent=True) or {}
    delete_subscription(current_user, str(payload.get("endpoint", "")))
    db.session.commit()
    return "", 204


@bp.route("/ack", methods=["POST"])
@public
@csrf.exempt  # the HMAC token from the alert's own URL is the proof, not a cookie
@limiter.limit("120 per minute")
def ack() -> tuple[str, int]:
    payload = request.get_json(silent=True) or {}
    known = acknowledge_shown(str(payload.get("token", ""))[:64])
    db.session.commit()
    return "", 204 if known else 404
