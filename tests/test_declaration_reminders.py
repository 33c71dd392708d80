"""Declaration reminders: push and e-mail to the company's admins DECLARATION_REMINDER_DAYS before
the file-by date and on the day the trip starts without a receipt; each exactly once, also when
two `reminders send` and two `outbox relay` processes run at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.push_service import LOOPBACK_SETTINGS, PushServiceStandIn
from web.declarations.reminders import (
    DUE,
    STARTED,
    reminder_subject,
    send_declaration_reminders,
)
from web.declarations.rules import rule_for
from web.declarations.services import answer_question
from web.extensions import db
from web.models import (
    Declaration,
    MailOutboxMessage,
    OutboxMessage,
    Reminder,
    Role,
    Trip,
    User,
)
from web.push.services import save_subscription, validate_subscription
from web.trips.input import validate_trip_input
from web.trips.services import update_trip

ROOT = Path(__file__).resolve().parent.parent
BASE = LOOPBACK_SETTINGS["PUBLIC_BASE_URL"]
DAY = date(2026, 11, 23)  # a Monday


@pytest.fixture
def stand_in():
    with PushServiceStandIn() as service:
        yield service


@pytest.fixture
def app_config(stand_in):
    return {**LOOPBACK_SETTINGS, "VAPID_SUBJECT": "mailto:ops@a1wallet.eu"}


@pytest.fixture
def mails(monkeypatch):
    sent: list[dict[str, str]] = []

    def fake_send_mail(to, subject, body, *, template="message"):
        sent.append({"to": to, "subject": str(subject), "body": str(body), "template": template})

    monkeypatch.setattr("web.declarations.mail.send_mail", fake_send_mail)
    monkeypatch.setattr("web.declarations.mail.mail_configured", lambda: True)
    return sent


@pytest.fixture
def company(app, data, stand_in):
    company = data.company("Reminder GmbH", seat_state="DE")
    admins = [
        data.user(Role.EMPLOYER_ADMIN, company, email="rem-admin-1@example.com"),
        data.user(Role.EMPLOYER_ADMIN, company, email="rem-admin-2@example.com"),
    ]
    with app.app_context():
        db.session.get(User, admins[0]).locale = "fr"
        for i, admin in enumerate(admins):
            browser = stand_in.new_browser(f"admin-{i}")
            save_subscription(
                db.session.get(User, admin), validate_subscription(browser.subscription_json())
            )
        db.session.commit()
    employee = data.employee(company, email="rem-employee@example.com")
    return {"company": company, "admins": admins, "employee": employee}


def _trip(app, data, company, destination, start, answer="yes"):
    trip = data.trip(company["employee"], destination, start, start + timedelta(days=10))
    if answer:
        with app.app_context():
            answer_question(
                db.session.get(Trip, trip),
                answer,
                "",
                actor=db.session.get(User, company["admins"][0]),
            )
            db.session.commit()
    return trip


def _counts(app):
    with app.app_context():
        return (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == "reminder.declaration")
            ),
            db.session.scalar(select(func.count()).select_from(MailOutboxMessage)),
        )


def test_each_threshold_and_the_start_day_once(app, data, company, mails):
    start = DAY + timedelta(days=10)
    trip = _trip(app, data, company, "FR", start)  # SIPSI: file by the first day
    runs = {}
    with app.app_context():
        for offset in range(-7, 1):
            today = start + timedelta(days=offset)
            first = send_declaration_reminders(today)
            second = send_declaration_reminders(today)  # the same day again: nothing new
            assert (second.due, second.started) == (0, 0), today
            runs[offset] = (first.due, first.started)
        reminders = sorted(
            (r.kind, r.threshold_days)
            for r in db.session.scalars(
                select(Reminder).where(Reminder.subject_id == reminder_subject(trip, start))
            )
        )
    assert runs == {
        -7: (0, 0),
        -6: (0, 0),
        -5: (1, 0),
        -4: (0, 0),
        -3: (0, 0),
        -2: (0, 0),
        -1: (1, 0),
        0: (0, 1),
    }
    assert reminders == [(DUE, 1), (DUE, 5), (STARTED, 0)]
    # Two admins, one device each: a push and a mail per admin per reminder.
    assert _counts(app) == (6, 6)
    assert len(mails) == 6 and {m["to"] for m in mails} == {
        "rem-admin-1@example.com",
        "rem-admin-2@example.com",
    }
    assert all(f"{BASE}/admin/trips/{trip}" in m["body"] for m in mails)
    with app.app_context():
        assert {m.status for m in db.session.scalars(select(MailOutboxMessage))} == {"sent"}


def test_the_configured_thresholds_and_a_late_run(app, data, company, mails):
    app.config["DECLARATION_REMINDER_DAYS"] = [3]
    start = DAY + timedelta(days=20)
    _trip(app, data, company, "CH", start)  # 8 days before the start
    file_by = start - timedelta(days=8)
    with app.app_context():
        assert send_declaration_reminders(file_by - timedelta(days=4)).due == 0
        # The job did not run on the day itself: the next run sends the nearest one, once.
        assert send_declaration_reminders(file_by - timedelta(days=2)).due == 1
        assert send_declaration_reminders(file_by - timedelta(days=1)).due == 0


def test_nothing_for_filed_exempt_unanswered_or_cancelled_trips(app, data, company, mails):
    start = DAY + timedelta(days=5)
    filed = _trip(app, data, company, "FR", start)
    _trip(app, data, company, "FR", start, answer="no")
    _trip(app, data, company, "FR", start, answer=None)  # the question is the trip page's
    cancelled = _trip(app, data, company, "BE", start)
    with app.app_context():
        db.session.scalar(select(Declaration).where(Declaration.trip_id == filed)).filed_on = DAY
        db.session.get(Trip, cancelled).status = "cancelled"
        db.session.commit()
        for offset in range(0, 6):
            run = send_declaration_reminders(DAY + timedelta(days=offset))
            assert (run.due, run.started) == (0, 0)
    assert _counts(app) == (0, 0) and mails == []


def _move(app, trip_id, start, end=None):
    """What the trip page's form does when an admin changes the dates (web/trips/services)."""
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        update_trip(
            trip,
            validate_trip_input(
                {
                    "destination_state": trip.destination_state,
                    "start_date": start,
                    "end_date": end or start + timedelta(days=10),
                }
            ),
        )
        db.session.commit()


def _run_twice(today):
    """Two runs the same day (a restarted scheduler, a second machine): the second sends none."""
    first = send_declaration_reminders(today)
    second = send_declaration_reminders(today)
    assert (second.due, second.started) == (0, 0), today
    return first.due, first.started


def _reminder_keys(app, trip):
    with app.app_context():
        return sorted(
            (r.kind, r.subject_id, r.threshold_days)
            for r in db.session.scalars(
                select(Reminder).where(Reminder.subject_id.startswith(f"{trip}:"))
            )
        )


def test_a_moved_trip_is_reminded_before_its_new_deadline_once(app, data, company, mails):
    start = DAY + timedelta(days=10)
    trip = _trip(app, data, company, "FR", start)  # SIPSI: file by the first day
    with app.app_context():
        assert _run_twice(start - timedelta(days=5)) == (1, 0)
    # Postponed by three days the same evening: the old 5-day reminder does not count for the
    # new date, which is still 8 days away.
    moved = start + timedelta(days=3)
    _move(app, trip, moved)
    runs = {}
    with app.app_context():
        for day in range((start - timedelta(days=5) - DAY).days, (moved - DAY).days + 1):
            runs[(DAY + timedelta(days=day) - moved).days] = _run_twice(DAY + timedelta(days=day))
    assert runs == {-8: (0, 0), -7: (0, 0), -6: (0, 0), -5: (1, 0)} | {
        -4: (0, 0),
        -3: (0, 0),
        -2: (0, 0),
        -1: (1, 0),
        0: (0, 1),
    }
    assert _reminder_keys(app, trip) == sorted(
        [
            (DUE, reminder_subject(trip, start), 5),  # the old date's, sent before the move
            (DUE, reminder_subject(trip, moved), 5),
            (DUE, reminder_subject(trip, moved), 1),
            (STARTED, reminder_subject(trip, moved), 0),
        ]
    )
    # Each reminder went once to each of the two admins: push and mail.
    assert _counts(app) == (8, 8) and len(mails) == 8
    # The reminders after the move name the new file-by date, in each admin's language.
    new_date = {"en": "Dec 6, 2026", "fr": "6 déc. 2026"}
    after_move = mails[2:]
    assert all(
        new_date["fr" if m["to"] == "rem-admin-1@example.com" else "en"] in m["body"]
        for m in after_move
    ), [m["body"] for m in after_move]


def test_unchanged_dates_are_never_reminded_twice(app, data, company, mails):
    start = DAY + timedelta(days=10)
    trip = _trip(app, data, company, "FR", start)
    with app.app_context():
        assert _run_twice(start - timedelta(days=5)) == (1, 0)
    # Saved again with the same start (a longer stay): the file-by date is the same.
    _move(app, trip, start, end=start + timedelta(days=20))
    with app.app_context():
        assert _run_twice(start - timedelta(days=5)) == (0, 0)
        assert _run_twice(start - timedelta(days=4)) == (0, 0)
    # Moved away and back before the next run: that date's 5-day reminder was sent already.
    _move(app, trip, start + timedelta(days=2))
    _move(app, trip, start)
    with app.app_context():
        assert _run_twice(start - timedelta(days=3)) == (0, 0)
        assert _run_twice(start - timedelta(days=1)) == (1, 0)
    assert _reminder_keys(app, trip) == [
        (DUE, reminder_subject(trip, start), 1),
        (DUE, reminder_subject(trip, start), 5),
    ]
    assert _counts(app) == (4, 4)


def test_a_trip_moved_on_its_start_day_is_reminded_on_the_new_start_day(app, data, company, mails):
    start = DAY + timedelta(days=10)
    trip = _trip(app, data, company, "BE", start)  # Limosa: before the work starts
    with app.app_context():
        assert _run_twice(start) == (0, 1)
    # The work could not start: postponed by two days, still no receipt.
    moved = start + timedelta(days=2)
    _move(app, trip, moved)
    with app.app_context():
        # The same day: the new file-by date is 2 days away, the nearest threshold is 5.
        assert _run_twice(start) == (1, 0)
        assert _run_twice(moved - timedelta(days=1)) == (1, 0)
        assert _run_twice(moved) == (0, 1)
    assert _reminder_keys(app, trip) == sorted(
        [
            (STARTED, reminder_subject(trip, start), 0),
            (DUE, reminder_subject(trip, moved), 5),
            (DUE, reminder_subject(trip, moved), 1),
            (STARTED, reminder_subject(trip, moved), 0),
        ]
    )
    assert _counts(app) == (8, 8)


def test_the_reminder_key_fits_its_column():
    column = Reminder.__table__.c.subject_id.type.length
    assert len(reminder_subject(2**63 - 1, date(2026, 12, 31))) <= column
    assert reminder_subject(42, date(2026, 12, 3)) == "42:20261203"


def _env(app, database_url):
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "A1W_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "VAPID_SUBJECT": "mailto:ops@a1wallet.eu",
        "PUSH_ALLOW_LOOPBACK_ENDPOINTS": "1",
        "PUBLIC_BASE_URL": BASE,
        "LOG_LEVEL": "WARNING",
        "MAIL_SERVER": "",
    }


def _all_outbox(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def _two_at_once(args, env):
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    return [json.loads(out.decode().strip().splitlines()[-1]) for out, _err in outputs]


def test_two_schedulers_and_two_relays_send_each_once(app, data, database_url, company, stand_in):
    start = DAY + timedelta(days=1)
    trips = [_trip(app, data, company, state, start) for state in ("FR", "BE", "NL", "AT")]
    env = _env(app, database_url)
    runs = _two_at_once(["reminders", "send", "--today", DAY.isoformat()], env)
    assert sum(r["declarations"]["due"] for r in runs) == len(trips)
    with app.app_context():
        keys = [
            (r.kind, r.subject_id, r.threshold_days)
            for r in db.session.scalars(select(Reminder).where(Reminder.kind == DUE))
        ]
        assert sorted(keys) == sorted(
            (DUE, reminder_subject(t, rule_for(state).file_by(start)), 1)
            for t, state in zip(trips, ("FR", "BE", "NL", "AT"), strict=True)
        )
        mail = list(db.session.scalars(select(MailOutboxMessage)))
        # Each mail claimed by exactly one of the two runs (no mail server here: not sent).
        assert len(mail) == 2 * len(trips)
        assert {(m.attempts, m.status) for m in mail} == {(1, "not_sent")}
    assert _counts(app)[0] == 2 * len(trips)
    # The trips are postponed by a day: the next day, the two schedulers again send each
    # trip's reminder for its new file-by date exactly once.
    moved = start + timedelta(days=1)
    for trip in trips:
        _move(app, trip, moved)
    runs = _two_at_once(["reminders", "send", "--today", start.isoformat()], env)
    assert sum(r["declarations"]["due"] for r in runs) == len(trips)
    with app.app_context():
        keys = [
            (r.kind, r.subject_id, r.threshold_days)
            for r in db.session.scalars(select(Reminder).where(Reminder.kind == DUE))
        ]
        assert sorted(keys) == sorted(
            (DUE, reminder_subject(t, day), 1) for t in trips for day in (start, moved)
        )
        assert db.session.scalar(select(func.count()).select_from(MailOutboxMessage)) == (
            4 * len(trips)
        )
    assert _counts(app)[0] == 4 * len(trips)
    relays = _two_at_once(["outbox", "relay", "--once"], env)
    assert sum(r["sent"] for r in relays) == _all_outbox(app)
    # The uncovered-trip reminders of the same run go out too; ours are each delivered once.
    ours = [
        (r.path, r.payload["title"], r.payload["body"])
        for r in stand_in.delivered()
        if r.topic and r.topic.startswith("decl-")
    ]
    assert len(ours) == 4 * len(trips) and len(set(ours)) == len(ours)
    assert all("Anna Müller" in title for _path, title, _body in ours)
