"""Push: the application server key, subscriptions per device, acknowledgements."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_login import current_user

from web.access import public, roles_required
from web.auth.services import device_label
from web.extensions import csrf, db, limiter
from web.models import Role
from web.push import bp
from web.push.services import (
    acknowledge_shown,
    delete_subscription,
    save_subscription,
    validate_subscription,
)
from web.push.vapid import application_server_key
from web.validation import InputError

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
        data = validate_subscription(request.get_json(silent=True))
    except InputError as exc:
        return jsonify({"errors": exc.errors, "status": 422}), 422
    subscription = save_subscription(
        current_user, data, device_label(request.headers.get("User-Agent", ""))
    )
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
