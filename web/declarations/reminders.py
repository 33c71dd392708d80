"""Reminders to the company's admins about posted-worker declarations: DECLARATION_REMINDER_DAYS
days before the file-by date (5 and 1 by default), and on the day the trip starts with no receipt
recorded. Push and e-mail, each sent once: the Reminder row is unique and is written in the same
transaction as the outbox rows (push and mail) it causes.

A reminder is about one deadline, so its key names the date as well as the trip: once per (trip,
file-by date, threshold) and once per (trip, start date). When an admin moves the trip, the new
dates get their own reminders; the ones already sent for the old dates do not block them, and an
unchanged trip is never reminded twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from web.countries import localised_country_name
from web.declarations.mail import enqueue_mail, send_due_mail
from web.declarations.public_messages import DeclarationState
from web.declarations.services import DeclarationStatus, declaration_statuses
from web.extensions import db
from web.i18n import format_day
from web.models import Employee, Trip, TripStatus
from web.push.reminders import _admins_of, _claim, nearest_threshold
from web.push.services import PushMessage, enqueue

DUE = "decl_due"  # N days before the file-by date (Reminder.kind, at most 16 characters)
STARTED = "decl_started"  # the trip starts today and no receipt is recorded
HORIZON_DAYS = 60  # longer than any lead time plus reminder threshold


def reminder_subject(trip_id: int, day: date) -> str:
    """Reminder.subject_id (at most 32 characters) of a reminder about ``day`` (the file-by
    date, or the start date) of the trip: "42:20261203"."""
    return f"{trip_id}:{day:%Y%m%d}"


@dataclass(frozen=True)
class DeclarationReminderRun:
    due: int = 0
    started: int = 0
    mail: dict | None = None


def _message(trip: Trip, status: DeclarationStatus, days_left: int | None, url: str) -> PushMessage:
    country = localised_country_name(trip.destination_state)
    name = trip.employee.display_name
    if days_left is None:
        title = _(
            "The trip of %(name)s to %(country)s starts today: no declaration receipt",
            name=name,
            country=country,
        )
    else:
        title = ngettext(
            "Declaration for %(name)s in %(country)s: file it by tomorrow",
            "Declaration for %(name)s in %(country)s: file it within %(num)d days",
            days_left,
            name=name,
            country=country,
        )
    portal = status.rule.portal_name if status.rule else ""
    body = _(
        "File it (%(portal)s) by %(date)s, then record the receipt on the trip page.",
        portal=portal,
        date=format_day(status.file_by) if status.file_by else "",
    )
    return PushMessage("reminder.declaration", title, body, url, topic=f"decl-{trip.id}")


def _notify_admins(trip: Trip, status: DeclarationStatus, days_left: int | None) -> None:
    from web.urls import public_url

    url = public_url("admin.trip", trip_id=trip.id)
    for admin in _admins_of(trip.company_id):
        with force_locale(admin.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            message = _message(trip, status, days_left, url)
            enqueue(admin.id, message)
            enqueue_mail(
                admin,
                message.title,
                f"{message.body}\n\n{url}\n",
                template=f"reminder_{DUE if days_left is not None else STARTED}",
            )


def _candidate_trips(today: date) -> list[Trip]:
    return list(
        db.session.scalars(
            select(Trip)
            .where(
                Trip.status == TripStatus.PLANNED.value,
                Trip.start_date >= today,
                Trip.start_date <= today + timedelta(days=HORIZON_DAYS),
            )
            .options(joinedload(Trip.employee).joinedload(Employee.company))
        ).unique()
    )


def send_declaration_reminders(today: date | None = None) -> DeclarationReminderRun:
    """Enqueue every declaration reminder due today, each exactly once, then send the e-mails
    this run can claim. Commits."""
    today = today or date.today()
    thresholds = sorted(set(current_app.config["DECLARATION_REMINDER_DAYS"]))
    counts = {"due": 0, "started": 0}
    trips = _candidate_trips(today)
    for trip in trips:
        status = declaration_statuses([trip], today)[trip.id]
        if status.state not in (DeclarationState.REQUIRED, DeclarationState.MISSING):
            continue
        if trip.start_date == today and _claim(
            STARTED, reminder_subject(trip.id, trip.start_date), 0
        ):
            _notify_admins(trip, status, None)
            counts["started"] += 1
        elif status.file_by is not None and thresholds:
            days_left = (status.file_by - today).days
            # The day itself is the start-day reminder's (or the file-by day of a lead time).
            threshold = nearest_threshold(days_left, thresholds) if days_left >= 1 else None
            if threshold is not None and _claim(
                DUE, reminder_subject(trip.id, status.file_by), threshold
            ):
                _notify_admins(trip, status, days_left)
                counts["due"] += 1
        db.session.commit()
    return DeclarationReminderRun(counts["due"], counts["started"], send_due_mail())
