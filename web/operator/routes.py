"""The provider's operator console: push messages that could not be delivered."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from web.access import roles_required
from web.audit import record_audit_event
from web.extensions import db
from web.models import OutboxMessage, OutboxStatus, Role, utcnow
from web.operator import bp

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
