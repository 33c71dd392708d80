"""The transition to date-keyed declaration reminders (migration 0017): reminders sent before the
upgrade ("42") are found again under the new key ("42:20261124"), so the reminder job does not
send them twice; other reminders are untouched; the downgrade gives the old keys back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import create_app
from tests.conftest import base_config
from tests.factories import Factories
from tests.helpers import empty_database
from web.declarations.reminders import DUE, STARTED, send_declaration_reminders
from web.declarations.services import answer_question
from web.extensions import db
from web.models import Role, Trip, User

BEFORE = "0016_invitations"
AFTER = "0017_declaration_reminder_keys"
SCHEMA = "decl_reminder_transition"
DAY = date(2026, 11, 23)  # a Monday: the day the reminder job runs after the upgrade


@pytest.fixture
def empty_database_url(tmp_path):
    """An empty database of this run's kind: a schema of its own on PostgreSQL."""
    with empty_database(tmp_path, SCHEMA) as url:
        yield url


def _reminders() -> set[tuple[str, str, int]]:
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT kind, subject_id, threshold_days FROM reminder"))
        return {(r.kind, r.subject_id, r.threshold_days) for r in rows}


def _key(trip_id: int, day: date) -> str:
    return f"{trip_id}:{day:%Y%m%d}"


def test_reminders_sent_before_the_upgrade_are_not_sent_again(tmp_path, empty_database_url):
    from flask_migrate import downgrade, upgrade

    app = create_app(base_config(tmp_path, empty_database_url))
    data = Factories(app)
    with app.app_context():
        upgrade(revision=BEFORE)  # 0017 changes rows, not the schema: the models fit 0016
    company = data.company("Transition GmbH", seat_state="DE")
    admin = data.user(Role.EMPLOYER_ADMIN, company, email="transition-admin@example.com")
    employee = data.employee(company, email="transition-employee@example.com")

    def trip(destination: str, start: date) -> int:
        trip_id = data.trip(employee, destination, start, start + timedelta(days=10))
        with app.app_context():
            answer_question(
                db.session.get(Trip, trip_id), "yes", "", actor=db.session.get(User, admin)
            )
            db.session.commit()
        return trip_id

    # France: file by the first day; Italy: by the day before. Each reminded by the old code.
    tomorrow = trip("FR", DAY + timedelta(days=1))  # file by DAY+1: reminded at 5 and 1 days
    starting = trip("FR", DAY)  # starts today: the start-day reminder went out already
    italy = trip("IT", DAY + timedelta(days=2))  # file by DAY+1: reminded 1 day before
    control = trip("FR", DAY + timedelta(days=1))  # never reminded: reminded now
    old = {
        (DUE, str(tomorrow), 5),
        (DUE, str(tomorrow), 1),
        (STARTED, str(starting), 0),
        (DUE, str(italy), 1),
        (DUE, "999999", 5),  # its trip is gone
        ("expiry", str(tomorrow), 5),  # other kinds keep their keys
        ("uncovered_trip", str(starting), 7),
    }
    # A row the newer code wrote before the upgrade beside the old one: one survives.
    newer = (DUE, _key(tomorrow, DAY + timedelta(days=1)), 5)
    with app.app_context():
        with db.engine.begin() as connection:
            for kind, subject, threshold in [*old, newer]:
                connection.execute(
                    sa.text(
                        "INSERT INTO reminder (kind, subject_id, threshold_days, created_at) "
                        "VALUES (:kind, :subject, :threshold, :now)"
                    ),
                    {"kind": kind, "subject": subject, "threshold": threshold, "now": DAY},
                )

        upgrade(revision=AFTER)
        migrated = {
            (DUE, _key(tomorrow, DAY + timedelta(days=1)), 5),
            (DUE, _key(tomorrow, DAY + timedelta(days=1)), 1),
            (STARTED, _key(starting, DAY), 0),
            (DUE, _key(italy, DAY + timedelta(days=1)), 1),  # the file-by date, not the start
            (DUE, "999999", 5),
            ("expiry", str(tomorrow), 5),
            ("uncovered_trip", str(starting), 7),
        }
        assert _reminders() == migrated

        # The job on the upgraded database: only the trip never reminded is reminded.
        run = send_declaration_reminders(DAY)
        assert (run.due, run.started) == (1, 0)
        assert _reminders() == migrated | {(DUE, _key(control, DAY + timedelta(days=1)), 1)}
        again = send_declaration_reminders(DAY)
        assert (again.due, again.started) == (0, 0)

        downgrade(revision=BEFORE)
        assert _reminders() == old | {(DUE, str(control), 1)}
        db.engine.dispose()
