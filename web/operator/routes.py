"""The provider's operator console: push messages that could not be delivered, and the states
where the provider files certificate requests with the authority."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select, update

from web.access import roles_required
from web.audit import record_audit_event
from web.extensions import db
from web.filing.states import filing_states, remove_filing_state, save_filing_state
from web.models import OutboxMessage, OutboxStatus, Role, utcnow
from web.operator import bp
from web.operator.forms import FilingStateForm
from web.validation import InputError

operator_only = roles_required(Role.OPERATOR)


@bp.route("/")
@operator_only
def home() -> Response:
    return redirect(url_for("operator.outbox"))


@bp.route("/outbox")
@operator_only
def outbox() -> str:
    dead = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD.value)
        .order_by(OutboxMessage.created_at.desc())
        .limit(200)
    ).all()
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return render_template("operator/outbox.html", dead=dead, counts=counts)


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@operator_only
def retry(message_id: int) -> Response:
    """Send a dead message again (e.g. after fixing the VAPID contact)."""
    changed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.DEAD.value)
        .values(
            status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=utcnow(), last_error=None
        )
    ).rowcount
    if changed:
        record_audit_event("push.retried", object_type="outbox_message", object_id=message_id)
        db.session.commit()
        flash(_("The message is queued again."), "info")
    return redirect(url_for("operator.outbox"))


@bp.route("/filing-states", methods=["GET", "POST"])
@operator_only
def filing_states_view() -> Response | tuple[str, int] | str:
    """Where the provider files requests itself ("official"); elsewhere it issues provisional
    certificates. Trips are checked against this list when they are saved or checked again."""
    form = FilingStateForm()
    if request.method == "POST":
        try:
            row = save_filing_state(
                form.state.data,
                form.lead_time_days.raw_data[0] if form.lead_time_days.raw_data else "",
                actor=current_user,
            )
        except InputError as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
            return render_template(
                "operator/filing_states.html", form=form, states=filing_states()
            ), 422
        db.session.commit()
        flash(_("%(country)s is on the list.", country=row.state), "info")
        return redirect(url_for("operator.filing_states_view"))
    return render_template("operator/filing_states.html", form=form, states=filing_states())


@bp.route("/filing-states/<state>/remove", methods=["POST"])
@operator_only
def remove_filing_state_view(state: str) -> Response:
    if remove_filing_state(state.upper()[:2], actor=current_user):
        db.session.commit()
        flash(_("%(country)s is off the list.", country=state.upper()[:2]), "info")
    return redirect(url_for("operator.filing_states_view"))
