""" "An authority is asking" (docs/design.md §6): incidents, the alerts they send, escalation.

An incident and its outbox messages are written in one transaction; every state change is an
AuditEvent. The phone's Idempotency-Key makes a replayed alert find its incident.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from web.audit import record_audit_event
from web.countries import localised_country_name
from web.extensions import db
from web.models import (
    Certificate,
    Employee,
    Incident,
    IncidentNote,
    IncidentOutcome,
    IncidentStatus,
    IncidentTap,
    Role,
    User,
    utcnow,
)
from web.push.services import PushMessage, enqueue
from web.urls import public_url
from web.validation import InputError
from web.wallet.services import choose_certificate

MAX_TAP_AGE = timedelta(days=7)  # an alert replayed later than this is refused, not back-dated
OUTCOMES = tuple(o.value for o in IncidentOutcome)


def validate_ask(payload: object, now: datetime) -> dict:
    """The optional JSON body: certificate_id, latitude, longitude, tapped_at."""
    payload = payload if isinstance(payload, dict) else {}
    errors: dict[str, str] = {}
    out: dict = {"certificate_id": None, "latitude": None, "longitude": None, "tapped_at": now}
    certificate_id = payload.get("certificate_id")
    if certificate_id not in (None, ""):
        if not isinstance(certificate_id, str) or len(certificate_id) > 16:
            errors["certificate_id"] = _("is not a certificate of yours")
        else:
            out["certificate_id"] = certificate_id.upper()
    for name, bound in (("latitude", 90), ("longitude", 180)):
        value = payload.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not -bound <= value <= bound
        ):
            errors[name] = _("is not a coordinate")
        else:
            out[name] = float(value)
    tapped = payload.get("tapped_at")
    if tapped not in (None, ""):
        try:
            moment = datetime.fromisoformat(str(tapped).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("naive")
            moment = moment.astimezone(UTC)
        except ValueError:
            errors["tapped_at"] = _("must be an ISO 8601 time in UTC")
        else:
            if moment > now + timedelta(minutes=5) or moment < now - MAX_TAP_AGE:
                errors["tapped_at"] = _("is too far from now")
            else:
                out["tapped_at"] = min(moment, now)
    if errors:
        raise InputError(errors)
    return out


def parse_idempotency_key(value: str | None) -> str:
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        raise InputError({"Idempotency-Key": _("must be a UUID made on the phone")}) from None


def _support_agents(on_duty_only: bool) -> list[User]:
    query = select(User).where(User.role == Role.SUPPORT.value, User.active.is_(True))
    if on_duty_only:
        query = query.where(User.on_duty.is_(True))
    return list(db.session.scalars(query))


def _admins(company_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.company_id == company_id,
                User.role == Role.EMPLOYER_ADMIN.value,
                User.active.is_(True),
            )
        )
    )


def _in_language(user: User, build) -> PushMessage:
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return build()


def _alert(incident: Incident, kind: str) -> PushMessage:
    name = incident.employee.display_name
    where = (
        localised_country_name(incident.country) if incident.country else _("an unknown country")
    )
    if kind == "alert.escalated":
        title = _("Unanswered: an authority is asking %(name)s", name=name)
    else:
        title = _("An authority is asking %(name)s", name=name)
    body = _(
        "In %(country)s, tapped at %(time)s UTC.",
        country=where,
        time=incident.tapped_at.strftime("%H:%M"),
    )
    url = public_url("support.incident", incident_id=incident.id)
    return PushMessage(kind, title, body, url, topic=f"inc-{incident.id}", urgency="high", ttl=3600)


def _notify_admins(incident: Incident, opened: bool) -> None:
    url = public_url("admin.employee", employee_id=incident.employee_id)
    for admin in _admins(incident.company_id):

        def build(a=admin):
            name = incident.employee.display_name
            title = (
                _("An authority asked %(name)s for a certificate", name=name)
                if opened
                else _("The authority check of %(name)s is closed", name=name)
            )
            body = _("Support is handling it.") if opened else (incident.outcome or "")
            return PushMessage("incident.admin", title, body, url, topic=f"inc-{incident.id}")

        enqueue(admin.id, _in_language(admin, build))


def _incident_of_key(user: User, key: str) -> Incident | None:
    """The incident an earlier tap with this key opened or joined (a replay)."""
    return db.session.scalar(
        select(Incident)
        .join(IncidentTap, IncidentTap.incident_id == Incident.id)
        .where(IncidentTap.user_id == user.id, IncidentTap.idempotency_key == key)
    )


def _open_incident_near(employee: Employee, tapped_at: datetime) -> Incident | None:
    """The employee's open incident with a tap within INCIDENT_JOIN_MINUTES of this one."""
    window = timedelta(minutes=current_app.config["INCIDENT_JOIN_MINUTES"])
    if window <= timedelta(0):  # joining turned off: every tap is an incident of its own
        return None
    return db.session.scalar(
        select(Incident)
        .join(IncidentTap, IncidentTap.incident_id == Incident.id)
        .where(
            Incident.employee_id == employee.id,
            Incident.status != IncidentStatus.RESOLVED.value,
            IncidentTap.tapped_at >= tapped_at - window,
            IncidentTap.tapped_at <= tapped_at + window,
        )
        .order_by(Incident.created_at.desc())
        .limit(1)
    )


def tap_count(incident: Incident) -> int:
    return db.session.scalar(
        select(func.count()).select_from(IncidentTap).where(IncidentTap.incident_id == incident.id)
    )


def open_incident(
    user: User, key: str, payload: dict, now: datetime | None = None
) -> tuple[Incident, bool]:
    """The incident for this tap, and whether it is new.

    A replayed key finds its incident. A new tap within INCIDENT_JOIN_MINUTES of a tap of the
    employee's open incident joins it (one inspection, one incident): it is recorded, nobody is
    alerted again. Only a new incident alerts the on-duty agents and the employer's admins.
    """
    now = now or utcnow()
    existing = _incident_of_key(user, key)
    if existing is not None:
        return existing, False
    employee = user.employee
    # One tap at a time per employee, so two taps at the same moment cannot open two incidents
    # (a row lock on PostgreSQL; SQLite serialises writers anyway).
    db.session.execute(select(Employee.id).where(Employee.id == employee.id).with_for_update())
    today = payload["tapped_at"].date()
    choice = choose_certificate(employee, today)
    certificate = choice.certificate
    if payload["certificate_id"]:
        chosen = db.session.get(Certificate, payload["certificate_id"])
        if chosen is None or chosen.employee_id != employee.id:
            raise InputError({"certificate_id": _("is not a certificate of yours")})
        certificate = chosen
    consented = user.location_consent
    incident = _open_incident_near(employee, payload["tapped_at"])
    created = incident is None
    if created:
        incident = Incident(
            company_id=employee.company_id,
            employee=employee,
            user_id=user.id,
            idempotency_key=key,
            trip=choice.trip,
            certificate=certificate,
            country=choice.country,
            latitude=payload["latitude"] if consented else None,
            longitude=payload["longitude"] if consented else None,
            tapped_at=payload["tapped_at"],
            created_at=now,
        )
    elif consented and incident.latitude is None and payload["latitude"] is not None:
        incident.latitude, incident.longitude = payload["latitude"], payload["longitude"]
    savepoint = db.session.begin_nested()
    try:
        tap = IncidentTap(user_id=user.id, idempotency_key=key, tapped_at=payload["tapped_at"])
        db.session.add_all([incident, tap])
        tap.incident = incident
        db.session.flush()
    except IntegrityError:
        # The same key at the same moment from a second request: theirs won.
        savepoint.rollback()
        return _incident_of_key(user, key), False
    savepoint.commit()
    if not created:
        return incident, False
    for agent in _support_agents(on_duty_only=True):
        enqueue(agent.id, _in_language(agent, lambda: _alert(incident, "alert")))
    _notify_admins(incident, opened=True)
    record_audit_event(
        "incident.opened",
        object_type="incident",
        object_id=incident.id,
        company_id=incident.company_id,
        actor_id=user.id,
        actor_role=user.role,
    )
    return incident, True


def acknowledge(incident: Incident, agent: User) -> bool:
    if incident.status != IncidentStatus.NEW.value:
        return False
    incident.status = IncidentStatus.ACKNOWLEDGED.value
    incident.acknowledged_by_id = agent.id
    incident.acknowledged_at = utcnow()
    record_audit_event(
        "incident.acknowledged",
        object_type="incident",
        object_id=incident.id,
        company_id=incident.company_id,
    )
    return True


def add_note(incident: Incident, author: User, text: str) -> IncidentNote:
    text = " ".join((text or "").split())
    if not text:
        raise InputError({"text": _("is required")})
    note = IncidentNote(incident=incident, author_id=author.id, text=text[:2000])
    db.session.add(note)
    record_audit_event(
        "incident.note",
        object_type="incident",
        object_id=incident.id,
        company_id=incident.company_id,
    )
    return note


def resolve(incident: Incident, agent: User, outcome: str, message: str) -> None:
    if outcome not in OUTCOMES:
        raise InputError({"outcome": _("choose how it ended")})
    if incident.status == IncidentStatus.RESOLVED.value:
        raise InputError({"outcome": _("This incident is already resolved.")})
    if incident.status == IncidentStatus.NEW.value:
        acknowledge(incident, agent)
    incident.status = IncidentStatus.RESOLVED.value
    incident.resolved_at = utcnow()
    incident.outcome = outcome
    incident.message_to_employee = " ".join((message or "").split())[:1000] or None
    employee_user = incident.employee.user
    enqueue(
        employee_user.id,
        _in_language(
            employee_user,
            lambda: PushMessage(
                "incident.resolved",
                _("Support closed the authority check"),
                incident.message_to_employee or _("Open the app for details."),
                public_url("wallet.home"),
                topic=f"inc-{incident.id}",
            ),
        ),
    )
    _notify_admins(incident, opened=False)
    record_audit_event(
        "incident.resolved",
        object_type="incident",
        object_id=incident.id,
        company_id=incident.company_id,
        message=outcome,
    )


def escalate_unacknowledged(now: datetime | None = None) -> int:
    """Incidents still new after INCIDENT_ESCALATE_MINUTES go to every agent and operator."""
    now = now or utcnow()
    limit = now - timedelta(minutes=current_app.config["INCIDENT_ESCALATE_MINUTES"])
    due = db.session.scalars(
        select(Incident).where(
            Incident.status == IncidentStatus.NEW.value,
            Incident.escalated_at.is_(None),
            Incident.created_at <= limit,
        )
    ).all()
    recipients = _support_agents(on_duty_only=False) + list(
        db.session.scalars(
            select(User).where(User.role == Role.OPERATOR.value, User.active.is_(True))
        )
    )
    for incident in due:
        incident.escalated_at = now
        for user in recipients:
            enqueue(user.id, _in_language(user, lambda i=incident: _alert(i, "alert.escalated")))
        record_audit_event(
            "incident.escalated",
            object_type="incident",
            object_id=incident.id,
            company_id=incident.company_id,
        )
    db.session.commit()
    return len(due)


QUEUE_PAGE_SIZE = 50


@dataclass(frozen=True)
class QueuePage:
    incidents: list[Incident]
    taps: dict[int, int]  # incident id -> how many taps joined it
    page: int
    pages: int
    open_count: int  # new or acknowledged, on every page


def support_queue(page: int = 1) -> QueuePage:
    """Every incident, a page at a time: unhandled ones first, the oldest tap first (it has
    waited longest); then those being handled, oldest first; then resolved, the latest first."""
    order = case(
        (Incident.status == IncidentStatus.NEW.value, 0),
        (Incident.status == IncidentStatus.ACKNOWLEDGED.value, 1),
        else_=2,
    )
    is_open = Incident.status != IncidentStatus.RESOLVED.value
    total = db.session.scalar(select(func.count()).select_from(Incident)) or 0
    open_count = db.session.scalar(select(func.count()).select_from(Incident).where(is_open)) or 0
    pages = max(1, -(-total // QUEUE_PAGE_SIZE))
    page = min(max(page, 1), pages)
    incidents = list(
        db.session.scalars(
            select(Incident)
            .order_by(
                order,
                case((is_open, Incident.tapped_at)).asc(),
                Incident.resolved_at.desc(),
                Incident.id,
            )
            .offset((page - 1) * QUEUE_PAGE_SIZE)
            .limit(QUEUE_PAGE_SIZE)
        )
    )
    taps = dict(
        db.session.execute(
            select(IncidentTap.incident_id, func.count())
            .where(IncidentTap.incident_id.in_([i.id for i in incidents]))
            .group_by(IncidentTap.incident_id)
        ).all()
    )
    return QueuePage(incidents, taps, page, pages, open_count)


@dataclass(frozen=True)
class AckStats:
    count: int
    median_seconds: float | None
    p90_seconds: float | None


def time_to_acknowledge(now: datetime | None = None, days: int = 30) -> AckStats:
    now = now or utcnow()
    rows = db.session.execute(
        select(Incident.tapped_at, Incident.acknowledged_at).where(
            Incident.acknowledged_at.is_not(None), Incident.tapped_at >= now - timedelta(days=days)
        )
    ).all()
    seconds = sorted((ack - tapped).total_seconds() for tapped, ack in rows)
    if not seconds:
        return AckStats(0, None, None)
    p90 = seconds[min(len(seconds) - 1, round(0.9 * (len(seconds) - 1)))]
    return AckStats(len(seconds), statistics.median(seconds), p90)


def incident_status_json(incident: Incident) -> dict:
    def iso(moment: datetime | None) -> str | None:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None

    handler = incident.acknowledged_by
    return {
        "id": incident.id,
        "status": incident.status,
        "tapped_at": iso(incident.tapped_at),
        "created_at": iso(incident.created_at),
        "acknowledged_at": iso(incident.acknowledged_at),
        "handled_by": agent_display_name(handler) if handler else None,
        "resolved_at": iso(incident.resolved_at),
        "outcome": incident.outcome,
        "message": incident.message_to_employee,
    }


# Shared mailboxes, not people: "Support from support is handling this" helps nobody.
ROLE_MAILBOXES = frozenset(
    {
        "support",
        "help",
        "helpdesk",
        "service",
        "team",
        "info",
        "contact",
        "admin",
        "operator",
        "ops",
        "noreply",
        "no-reply",
        "office",
        "hotline",
        "staff",
    }
)


def agent_display_name(agent: User) -> str:
    """What the employee sees of the agent ("Maria" from maria.lopez@…), read into the pattern
    "{name} from support is handling this."; for a shared mailbox (support@…) a translated
    "Someone", never "Support from support". The name the agent set on their Account page
    comes first."""
    if agent.display_name:
        return agent.display_name
    local = agent.email.split("@", 1)[0]
    first = local.replace("_", ".").replace("-", ".").split(".", 1)[0].strip("0123456789")
    if not first or first.lower() in ROLE_MAILBOXES or "support" in first.lower():
        return _("Someone")
    return first.capitalize()
