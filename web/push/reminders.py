"""Reminders (docs/design.md §7): before a certificate ends, when an upcoming trip is not
covered, and when a multi-state A1 must be renewed. Each is sent exactly once: its Reminder row
is unique and is written in the same transaction as its outbox messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from web.certificates.services import certificate_covering_trip
from web.certificates.titles import document_short_title
from web.countries import localised_country_name
from web.extensions import db
from web.i18n import format_day
from web.models import (
    Certificate,
    CertificateStatus,
    Employee,
    Reminder,
    Role,
    Trip,
    TripKind,
    TripStatus,
    User,
)
from web.push.services import PushMessage, enqueue

EXPIRY = "expiry"
RENEWAL = "renewal"
UNCOVERED_TRIP = "uncovered_trip"


@dataclass(frozen=True)
class ReminderRun:
    expiry: int = 0
    renewal: int = 0
    uncovered_trips: int = 0


def nearest_threshold(days_left: int, thresholds: list[int]) -> int | None:
    """The smallest threshold not below ``days_left``: a job that did not run for a while sends
    only the nearest reminder, not every one it missed."""
    passed = [t for t in thresholds if t >= days_left]
    return min(passed) if passed and days_left >= 0 else None


def expiring_certificates_query(today: date, horizon_days: int) -> Select:
    """Active certificates whose last day is within the horizon: a range on the valid_to index,
    never a scan (benchmarks/reminders_scale.py checks the plan with a million rows)."""
    return (
        select(Certificate)
        .where(
            Certificate.valid_to >= today,
            Certificate.valid_to <= today + timedelta(days=horizon_days),
            Certificate.status == CertificateStatus.ACTIVE.value,
        )
        .options(joinedload(Certificate.employee).joinedload(Employee.user))
    )


def expiring_certificates(today: date, horizon_days: int) -> list[Certificate]:
    return list(db.session.scalars(expiring_certificates_query(today, horizon_days)).unique())


def _admins_of(company_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.company_id == company_id,
                User.role == Role.EMPLOYER_ADMIN.value,
                User.active.is_(True),
            )
        )
    )


def _claim(kind: str, subject_id: str, threshold: int) -> bool:
    """Record the reminder; False if it was sent already (by this or another machine)."""
    savepoint = db.session.begin_nested()
    try:
        db.session.add(Reminder(kind=kind, subject_id=subject_id, threshold_days=threshold))
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _in_language(user: User, build) -> PushMessage:
    """The message in the recipient's language."""
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return build()


def _expiry_message(cert: Certificate, days_left: int, url: str) -> PushMessage:
    states = ", ".join(localised_country_name(s) for s in cert.work_state_list)
    if days_left == 0:
        title = _("Your certificate ends today")
    else:
        title = ngettext(
            "Your certificate ends tomorrow", "Your certificate ends in %(num)d days", days_left
        )
    body = _(
        "%(type)s for work in %(states)s, valid until %(date)s.",
        type=document_short_title(cert),
        states=states,
        date=format_day(cert.valid_to),
    )
    return PushMessage("reminder.expiry", title, body, url, topic=f"exp-{cert.id}")


def _admin_expiry_message(cert: Certificate, days_left: int, url: str) -> PushMessage:
    title = ngettext(
        "Certificate of %(name)s ends in %(num)d day",
        "Certificate of %(name)s ends in %(num)d days",
        days_left,
        name=cert.employee.display_name,
    )
    body = _(
        "%(type)s for work in %(states)s, valid until %(date)s.",
        type=document_short_title(cert),
        states=", ".join(localised_country_name(s) for s in cert.work_state_list),
        date=format_day(cert.valid_to),
    )
    return PushMessage("reminder.expiry", title, body, url, topic=f"exp-{cert.id}")


def _renewal_message(cert: Certificate, url: str) -> PushMessage:
    title = _("Renew the multi-state A1 of %(name)s", name=cert.employee.display_name)
    body = _(
        "It ends on %(date)s. For work in several countries a new determination must be "
        "requested each time the A1 expires.",
        date=format_day(cert.valid_to),
    )
    return PushMessage("reminder.renewal", title, body, url, topic=f"ren-{cert.id}")


def _trip_message(trip: Trip, url: str, *, for_admin: bool) -> PushMessage:
    country = localised_country_name(trip.destination_state)
    if for_admin:
        title = _(
            "Trip of %(name)s to %(country)s is not covered",
            name=trip.employee.display_name,
            country=country,
        )
    else:
        title = _("Your trip to %(country)s is not covered", country=country)
    body = _(
        "It starts on %(date)s and no valid certificate covers it yet.",
        date=format_day(trip.start_date),
    )
    return PushMessage("reminder.trip", title, body, url, topic=f"trip-{trip.id}")


def _is_multi_state(cert: Certificate) -> bool:
    return cert.document_type == "A1" and (
        len(cert.work_state_list) > 1
        or (cert.trip is not None and cert.trip.kind == TripKind.REGULAR_MULTI_STATE.value)
    )


def send_reminders(today: date | None = None) -> ReminderRun:
    """Find and enqueue every reminder due today; each exactly once. Commits."""
    from web.urls import public_url

    today = today or date.today()
    thresholds = sorted(set(current_app.config["REMINDER_DAYS"]))
    counts = {"expiry": 0, "renewal": 0, "trips": 0}
    for cert in expiring_certificates(today, max(thresholds)):
        days_left = (cert.valid_to - today).days
        threshold = nearest_threshold(days_left, thresholds)
        employee = cert.employee
        if threshold is not None and _claim(EXPIRY, cert.id, threshold):
            wallet_url = public_url("wallet.certificate", certificate_id=cert.id)
            enqueue(
                employee.user_id,
                _in_language(
                    employee.user,
                    lambda c=cert, d=days_left, u=wallet_url: _expiry_message(c, d, u),
                ),
            )
            admin_url = public_url("admin.certificate", certificate_id=cert.id)
            for admin in _admins_of(cert.company_id):
                enqueue(
                    admin.id,
                    _in_language(
                        admin,
                        lambda c=cert, d=days_left, u=admin_url: _admin_expiry_message(c, d, u),
                    ),
                )
            counts["expiry"] += 1
        if _is_multi_state(cert) and days_left <= max(thresholds) and _claim(RENEWAL, cert.id, 0):
            admin_url = public_url("admin.employee", employee_id=employee.id)
            for admin in _admins_of(cert.company_id):
                enqueue(
                    admin.id,
                    _in_language(admin, lambda c=cert, u=admin_url: _renewal_message(c, u)),
                )
            counts["renewal"] += 1
        db.session.commit()
    counts["trips"] = _uncovered_trip_reminders(today, public_url)
    return ReminderRun(counts["expiry"], counts["renewal"], counts["trips"])


def _uncovered_trip_reminders(today: date, public_url) -> int:
    horizon = today + timedelta(days=current_app.config["UNCOVERED_TRIP_DAYS"])
    trips = db.session.scalars(
        select(Trip)
        .where(
            Trip.start_date >= today,
            Trip.start_date <= horizon,
            Trip.status == TripStatus.PLANNED.value,
        )
        .options(joinedload(Trip.employee).joinedload(Employee.user))
    ).all()
    sent = 0
    for trip in trips:
        certificates = list(
            db.session.scalars(
                select(Certificate).where(Certificate.employee_id == trip.employee_id)
            )
        )
        if certificate_covering_trip(trip, certificates) is not None:
            continue
        if not _claim(UNCOVERED_TRIP, str(trip.id), 0):
            continue
        user = trip.employee.user
        wallet_url = public_url("wallet.home")
        enqueue(
            user.id,
            _in_language(user, lambda t=trip, u=wallet_url: _trip_message(t, u, for_admin=False)),
        )
        admin_url = public_url("admin.employee", employee_id=trip.employee_id)
        for admin in _admins_of(trip.company_id):
            enqueue(
                admin.id,
                _in_language(
                    admin, lambda t=trip, u=admin_url: _trip_message(t, u, for_admin=True)
                ),
            )
        db.session.commit()
        sent += 1
    return sent
