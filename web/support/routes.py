"""The support console: the queue of "authority is asking" incidents, one incident, actions."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, select

from web.access import roles_required
from web.ask.services import OUTCOMES, acknowledge, add_note, resolve, time_to_acknowledge
from web.extensions import db
from web.models import Incident, IncidentStatus, Role
from web.rendering import render_page_or_fragment
from web.support import bp
from web.validation import InputError
from web.verify.services import verify_for_inspector

support_only = roles_required(Role.SUPPORT)
QUEUE_SIZE = 100


def _queue() -> list[Incident]:
    """Open incidents first (new before acknowledged), the newest tap first; then resolved."""
    order = case(
        (Incident.status == IncidentStatus.NEW.value, 0),
        (Incident.status == IncidentStatus.ACKNOWLEDGED.value, 1),
        else_=2,
    )
    return list(
        db.session.scalars(
            select(Incident).order_by(order, Incident.tapped_at.desc()).limit(QUEUE_SIZE)
        )
    )


@bp.route("/")
@support_only
def queue() -> Response:
    """The queue; its rows refresh every few seconds (htmx) so a new alert shows at once."""
    return render_page_or_fragment(
        "support/queue.html",
        "support/_queue_rows.html",
        incidents=_queue(),
        now=datetime.now(UTC),
        stats=time_to_acknowledge(),
    )


def _incident(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        abort(404)
    return incident


def _incident_page(incident: Incident, status: int = 200, errors: dict | None = None):
    answer = (
        verify_for_inspector(incident.certificate.qr_text)
        if incident.certificate and incident.certificate.qr_text
        else None
    )
    return render_template(
        "support/incident.html",
        incident=incident,
        answer=answer,
        outcomes=OUTCOMES,
        errors=errors or {},
        now=datetime.now(UTC),
    ), status


@bp.route("/incidents/<int:incident_id>")
@support_only
def incident(incident_id: int):
    return _incident_page(_incident(incident_id))


@bp.route("/incidents/<int:incident_id>/acknowledge", methods=["POST"])
@support_only
def acknowledge_incident(incident_id: int) -> Response:
    item = _incident(incident_id)
    if acknowledge(item, current_user._get_current_object()):
        db.session.commit()
        flash(_("You are handling this incident; the employee sees your name."), "info")
    return redirect(url_for("support.incident", incident_id=item.id))


@bp.route("/incidents/<int:incident_id>/notes", methods=["POST"])
@support_only
def note(incident_id: int):
    item = _incident(incident_id)
    try:
        add_note(item, current_user._get_current_object(), request.form.get("text", ""))
    except InputError as exc:
        db.session.rollback()
        return _incident_page(item, 422, exc.errors)
    db.session.commit()
    return redirect(url_for("support.incident", incident_id=item.id, _anchor="notes"))


@bp.route("/incidents/<int:incident_id>/resolve", methods=["POST"])
@support_only
def resolve_incident(incident_id: int):
    item = _incident(incident_id)
    try:
        resolve(
            item,
            current_user._get_current_object(),
            request.form.get("outcome", ""),
            request.form.get("message", ""),
        )
    except InputError as exc:
        db.session.rollback()
        return _incident_page(item, 422, exc.errors)
    db.session.commit()
    flash(_("Resolved; the employee and their employer are informed."), "info")
    return redirect(url_for("support.queue"))


@bp.route("/duty", methods=["POST"])
@support_only
def duty() -> Response:
    """On duty: alerts are pushed to this agent at once (escalations reach everyone anyway)."""
    current_user.on_duty = request.form.get("on_duty") == "1"
    db.session.commit()
    return redirect(url_for("support.queue"))
