"""Audit trail: one row per security-relevant action. Messages never carry personal data."""

from __future__ import annotations

from flask_login import current_user

from web.extensions import db
from web.models import AuditEvent


def record_audit_event(
    action: str,
    *,
    object_type: str | None = None,
    object_id: object = None,
    outcome: str = "ok",
    message: str = "",
    company_id: int | None = None,
    actor_id: int | None = None,
    actor_role: str | None = None,
) -> AuditEvent:
    """Add an AuditEvent to the current transaction (the caller commits with its own change)."""
    if actor_id is None and current_user and current_user.is_authenticated:
        actor_id = current_user.id
        actor_role = current_user.role
        if company_id is None:
            company_id = current_user.company_id
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        outcome=outcome,
        message=message[:500],
        company_id=company_id,
        actor_id=actor_id,
        actor_role=actor_role,
    )
    db.session.add(event)
    return event
