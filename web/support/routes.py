"""The support console: the queue of "authority is asking" incidents, one incident, actions."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.access import roles_required
from web.ask.services import (
    OUTCOMES,
    acknowledge,
    add_note,
    agent_display_name,
    resolve,
    support_queue,
    time_to_acknowledge,
)
from web.audit import record_audit_event
from web.extensions import db, limiter
from web.i18n import LANGUAGE_NAMES, PUBLIC_LANGUAGES
from web.models import Incident, Role
from web.rendering import render_page_or_fragment
from web.support import bp
from web.support.services import (
    AUTHORITY_MAIL_LIMIT,
    MailUnavailable,
    call_script,
    host_language,
    send_to_authority,
)
from web.validation import InputError
from web.verify.services import verify_for_inspector

support_only = roles_required(Role.SUPPORT)


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.route("/")
@support_only
def queue() -> Response:
    """The queue; its rows refresh every few seconds (htmx) so a new alert shows at once."""
    return render_page_or_fragment(
        "support/queue.html",
        "support/_queue_rows.html",
        queue=support_queue(_page_arg()),
        now=datetime.now(UTC),
        stats=time_to_acknowledge(),
    )


def _incident(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        abort(404)
    return incident


def _incident_page(
    incident: Incident, status: int = 200, errors: dict | None = None, form: dict | None = None
):
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
        agent_display_name=agent_display_name,
        script=call_script(incident, current_user._get_current_object()),
        authority_languages=[(code, LANGUAGE_NAMES[code]) for code in PUBLIC_LANGUAGES],
        authority_form=form or {"language": host_language(incident)},
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


def _agent_key() -> str:
    return f"agent-{current_user.id}"


def _authority_mail_refused(limit) -> None:
    """One audit event per refused burst: an agent mailing many authorities is unusual."""
    record_audit_event("incident.document_refused", outcome="refused", message="rate limit")
    db.session.commit()


@bp.route("/incidents/<int:incident_id>/send-to-authority", methods=["POST"])
@support_only
@limiter.limit(AUTHORITY_MAIL_LIMIT, key_func=_agent_key, on_breach=_authority_mail_refused)
def send_to_authority_view(incident_id: int):
    """E-mail the inspector (an address the agent typed) the verification link and the
    document, in the inspector's language; resolve the incident as "document sent"."""
    item = _incident(incident_id)
    form = {
        "email": request.form.get("authority_email", "")[:254],
        "language": request.form.get("authority_language", ""),
    }
    try:
        address = send_to_authority(
            item, current_user._get_current_object(), form["email"], form["language"]
        )
    except InputError as exc:
        db.session.rollback()
        return _incident_page(item, 422, exc.errors, form)
    except MailUnavailable:
        db.session.commit()  # the audited refusal
        message = _(
            "No mail server is configured, so nothing was sent. Read the verification code to "
            "the inspector, or ask them to scan the QR code."
        )
        return _incident_page(item, 503, {"authority_email": message}, form)
    db.session.commit()
    flash(
        _("Sent to %(address)s; the incident is resolved as “document sent”.", address=address),
        "info",
    )
    return redirect(url_for("support.incident", incident_id=item.id))


@bp.route("/duty", methods=["POST"])
@support_only
def duty() -> Response:
    """On duty: alerts are pushed to this agent at once (escalations reach everyone anyway)."""
    current_user.on_duty = request.form.get("on_duty") == "1"
    db.session.commit()
    return redirect(url_for("support.queue"))
