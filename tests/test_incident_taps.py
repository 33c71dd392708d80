"""One incident per inspection: repeated taps join the open incident and alert nobody again;
a tap after INCIDENT_JOIN_MINUTES opens a new one; the support queue shows every incident,
unhandled ones first, a page at a time."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from tests.helpers import csrf_token, post_form
from web.ask import routes as ask_routes
from web.ask import services as ask_services
from web.ask.services import QUEUE_PAGE_SIZE
from web.extensions import db
from web.models import (
    AuditEvent,
    Employee,
    Incident,
    IncidentStatus,
    IncidentTap,
    OutboxMessage,
    PushSubscription,
    Role,
    User,
)

TODAY = date.today()


class Clock:
    """The time the alert code sees (routes and services read it through utcnow)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(ask_routes, "utcnow", frozen)
    monkeypatch.setattr(ask_services, "utcnow", frozen)
    return frozen


@pytest.fixture
def world(app, data):
    company = data.company("Acme")
    admin = data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    agent = data.user(Role.SUPPORT, None, email="anna.agent@example.com")
    employee = data.employee(company, email="worker@example.com")
    data.trip(employee, destination="FR", start=TODAY - timedelta(days=2), end=TODAY)
    with app.app_context():
        for user_id in (agent, admin):
            db.session.add(
                PushSubscription(
                    user_id=user_id,
                    endpoint=f"https://fcm.googleapis.com/{user_id}",
                    endpoint_hash=str(user_id) * 10,
                    p256dh="x",
                    auth="y",
                )
            )
        db.session.commit()
    return {"company": company, "admin": admin, "agent": agent, "employee": employee}


def _phone(app, email="worker@example.com"):
    client = app.test_client()
    AuthActions(client).login(email)
    return client, csrf_token(client, "/wallet/")


def _tap(client, token, key=None):
    return client.post(
        "/ask",
        json={},
        headers={
            "Idempotency-Key": key or str(uuid.uuid4()),
            "X-CSRFToken": token,
            "Accept": "application/json",
        },
    )


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _alerts() -> tuple[int, int]:
    """(alerts to agents, notices to employer admins) queued so far."""
    return (
        _count(OutboxMessage, OutboxMessage.kind == "alert"),
        _count(OutboxMessage, OutboxMessage.kind == "incident.admin"),
    )


def test_fifty_taps_in_a_minute_make_one_incident_and_one_round_of_alerts(app, world, clock):
    client, token = _phone(app)
    keys = [str(uuid.uuid4()) for _ in range(50)]
    answers = []
    for key in keys:
        answers.append(_tap(client, token, key))
        clock.advance(seconds=1.2)
    assert answers[0].status_code == 201
    assert {r.status_code for r in answers[1:]} == {200}
    assert {r.json["id"] for r in answers} == {answers[0].json["id"]}
    # A replay of any of those keys (the phone resending later) finds the same incident.
    clock.advance(minutes=30)
    replay = _tap(client, token, keys[30])
    assert replay.status_code == 200 and replay.json["id"] == answers[0].json["id"]
    with app.app_context():
        assert _count(Incident) == 1
        assert _count(IncidentTap) == 50
        assert _alerts() == (1, 1)
        assert _count(AuditEvent, AuditEvent.action == "incident.opened") == 1
    agent = app.test_client()
    AuthActions(agent).login("anna.agent@example.com")
    queue = agent.get("/support/").get_data(as_text=True)
    assert "tapped 50 times" in queue and "1 open incident" in queue
    page = agent.get(f"/support/incidents/{answers[0].json['id']}").get_data(as_text=True)
    assert "Tapped 50 times" in page


def test_a_tap_after_the_join_window_opens_a_new_incident_and_alerts_again(app, world, clock):
    client, token = _phone(app)
    first = _tap(client, token).json["id"]
    clock.advance(minutes=14)
    assert _tap(client, token).json["id"] == first  # within 15 minutes of the last tap
    clock.advance(minutes=15, seconds=1)
    later = _tap(client, token)
    assert later.status_code == 201 and later.json["id"] != first
    with app.app_context():
        assert _count(Incident) == 2
        assert _count(IncidentTap, IncidentTap.incident_id == first) == 2
        assert _alerts() == (2, 2)


def test_the_join_window_is_a_setting(app, world, clock):
    app.config["INCIDENT_JOIN_MINUTES"] = 2
    client, token = _phone(app)
    first = _tap(client, token).json["id"]
    clock.advance(minutes=1)
    assert _tap(client, token).json["id"] == first
    clock.advance(minutes=3)
    assert _tap(client, token).json["id"] != first


def test_a_tap_after_the_incident_was_resolved_opens_a_new_one(app, world, clock):
    client, token = _phone(app)
    first = _tap(client, token).json["id"]
    clock.advance(minutes=1)
    assert _tap(client, token).json["id"] == first
    agent = app.test_client()
    AuthActions(agent).login("anna.agent@example.com")
    page = f"/support/incidents/{first}"
    post_form(agent, f"{page}/resolve", {"outcome": "inspector_satisfied"}, token_from=page)
    clock.advance(minutes=1)
    again = _tap(client, token)
    assert again.status_code == 201 and again.json["id"] != first


def test_taps_of_two_employees_do_not_join(app, data, world, clock):
    data.employee(world["company"], email="second@example.com")
    one, one_token = _phone(app)
    two, two_token = _phone(app, "second@example.com")
    first = _tap(one, one_token).json["id"]
    clock.advance(seconds=10)
    assert _tap(two, two_token).json["id"] != first
    clock.advance(seconds=10)
    assert _tap(one, one_token).json["id"] == first


def _incidents(app, employee_id: int, count: int, start: datetime) -> list[int]:
    """``count`` open incidents of one employee, an hour apart, oldest first."""
    with app.app_context():
        employee = db.session.get(Employee, employee_id)
        ids = []
        for n in range(count):
            moment = start + timedelta(hours=n)
            incident = Incident(
                company_id=employee.company_id,
                employee=employee,
                user_id=employee.user_id,
                idempotency_key=str(uuid.uuid4()),
                tapped_at=moment,
                created_at=moment,
            )
            db.session.add(incident)
            db.session.add(
                IncidentTap(
                    incident=incident,
                    user_id=employee.user_id,
                    idempotency_key=incident.idempotency_key,
                    tapped_at=moment,
                )
            )
            db.session.flush()
            ids.append(incident.id)
        db.session.commit()
        return ids


def _queue_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/support/incidents/(\d+)"', html)]


def test_the_queue_shows_every_open_incident_oldest_unhandled_first_with_pages(app, world):
    total = QUEUE_PAGE_SIZE * 2 + 20  # more than the 100 the queue used to show
    start = datetime.now(UTC) - timedelta(days=30)
    ids = _incidents(app, world["employee"], total, start)
    with app.app_context():
        # The oldest one is being handled: the unhandled ones come before it.
        db.session.get(Incident, ids[0]).status = IncidentStatus.ACKNOWLEDGED.value
        db.session.get(Incident, ids[1]).status = IncidentStatus.RESOLVED.value
        db.session.get(Incident, ids[1]).resolved_at = start
        db.session.commit()
    agent = app.test_client()
    AuthActions(agent).login("anna.agent@example.com")
    first = agent.get("/support/").get_data(as_text=True)
    assert f"{total - 1} open incidents" in first and "Page 1 of 3" in first
    assert _queue_ids(first) == ids[2 : 2 + QUEUE_PAGE_SIZE]
    seen = []
    for page in (1, 2, 3):
        html = agent.get(f"/support/?page={page}").get_data(as_text=True)
        seen += _queue_ids(html)
    assert seen == [*ids[2:], ids[0], ids[1]]  # new oldest first, then handled, then resolved
    # The fragment htmx refreshes keeps its page.
    fragment = agent.get("/support/?page=2", headers={"HX-Request": "true"})
    assert (
        _queue_ids(fragment.get_data(as_text=True)) == seen[QUEUE_PAGE_SIZE : 2 * QUEUE_PAGE_SIZE]
    )
    assert 'hx-get="/support/?page=2"' in agent.get("/support/?page=2").get_data(as_text=True)
    assert agent.get("/support/?page=abc").status_code == 200
    assert _queue_ids(agent.get("/support/?page=99").get_data(as_text=True)) == seen[-20:]


def test_the_tap_count_is_translated(app, world, clock):
    client, token = _phone(app)
    incident = _tap(client, token).json["id"]
    for _ in range(2):
        clock.advance(seconds=20)
        _tap(client, token)
    with app.app_context():
        db.session.scalar(select(User).where(User.email == "anna.agent@example.com")).locale = "de"
        db.session.commit()
    agent = app.test_client()
    AuthActions(agent).login("anna.agent@example.com")
    queue = agent.get("/support/").get_data(as_text=True)
    assert "3-mal getippt" in queue
    page = agent.get(f"/support/incidents/{incident}").get_data(as_text=True)
    assert "3-mal getippt" in page
