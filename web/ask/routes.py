""" "An authority is asking": the employee's alert and its live status."""

from __future__ import annotations

from flask import Response, abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from web.access import roles_required
from web.ask import bp
from web.ask.services import (
    incident_status_json,
    open_incident,
    parse_idempotency_key,
    validate_ask,
)
from web.extensions import db, limiter
from web.models import Incident, Role, utcnow
from web.validation import InputError


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.route("/ask", methods=["POST"])
@roles_required(Role.EMPLOYEE)
# Never a limit a person reaches by tapping: replays are deduplicated, not refused.
@limiter.limit(lambda: current_app.config["ASK_LIMIT"], key_func=lambda: f"ask:{current_user.id}")
def ask() -> Response | tuple[Response, int]:
    """Open the incident for this tap (201), or find it again for a replayed key (200)."""
    try:
        key = parse_idempotency_key(
            request.headers.get("Idempotency-Key") or request.form.get("idempotency_key")
        )
        payload = validate_ask(
            request.get_json(silent=True) if request.is_json else dict(request.form), utcnow()
        )
        incident, created = open_incident(current_user._get_current_object(), key, payload)
    except InputError as exc:
        db.session.rollback()
        if _wants_json():
            return jsonify({"errors": exc.errors, "status": 422}), 422
        abort(422)
    db.session.commit()
    if not _wants_json():
        target = url_for("wallet.home")
        if incident.certificate_id:
            target = url_for("wallet.inspector", certificate_id=incident.certificate_id)
        return redirect(f"{target}#incident={incident.id}")
    body = incident_status_json(incident)
    return jsonify(
        {k: body[k] for k in ("id", "status", "created_at", "tapped_at")}
    ), 201 if created else 200


@bp.route("/ask/<int:incident_id>/status")
@roles_required(Role.EMPLOYEE)
def status(incident_id: int) -> Response:
    incident = db.session.get(Incident, incident_id)
    if incident is None or incident.user_id != current_user.id:
        abort(404)
    response = jsonify(incident_status_json(incident))
    response.headers["Cache-Control"] = "no-store"
    return response
