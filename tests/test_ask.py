""" "An authority is asking": one tap → the right certificate and one incident; idempotency;
the support console; escalation; roles and tenants."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from tests.factories import Factories
from tests.helpers import csrf_token, post_form
from web.ask.services import escalate_unacknowledged, time_to_acknowledge
from web.extensions import db
from web.models import AuditEvent, Incident, OutboxMessage, PushSubscription, Role, User

TODAY = date.today()


@pytest.fixture
def world(app, data):
    company = data.company("Acme")
    other_company = data.company("Other")
    admin = data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    data.user(Role.EMPLOYER_ADMIN, other_company, email="other-admin@example.com")
    agent = data.user(Role.SUPPORT, None, email="anna.agent@example.com")
    off_duty = data.user(Role.SUPPORT, None, email="bob.agent@example.com")
    operator = data.user(Role.OPERATOR, None, email="ops@example.com")
    employee = data.employee(company, email="worker@example.com", phone="+33 6 00 00 00 00")
    other = data.employee(other_company, email="other-worker@example.com")
    trip = data.trip(
        employee, destination="FR", start=TODAY - timedelta(days=2), end=TODAY + timedelta(days=5)
    )
    with app.app_context():
        db.session.get(User, off_duty).on_duty = False
        # Every staff member has a device, so alerts are visible in the outbox.
        for user_id in (agent, off_duty, operator, admin):
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
    return {
        "company": company,
        "admin": admin,
        "agent": agent,
        "off_duty": off_duty,
        "operator": operator,
        "employee": employee,
        "other": other,
        "trip": trip,
    }


def _certificate(app, employee_id, kind="provisional", states=("FR",), start=None, end=None):
    return Factories(app).certificate(employee_id, kind, states, start, end).id


def _phone(app, email="worker@example.com"):
    client = app.test_client()
    AuthActions(client).login(email)
    return client, csrf_token(client, "/wallet/")


def _tap(client, token, key=None, **body):
    return client.post(
        "/ask",
        json=body,
        headers={
            "Idempotency-Key": key or str(uuid.uuid4()),
            "X-CSRFToken": token,
            "Accept": "application/json",
        },
    )


def test_button_opens_the_best_certificate_official_before_provisional(app, world):
    provisional = _certificate(app, world["employee"])
    official = _certificate(app, world["employee"], kind="official")
    client, _token = _phone(app)
    html = client.get("/wallet/").get_data(as_text=True)
    assert f'href="/wallet/certificates/{official}/inspector"' in html
    assert f'data-certificate-id="{official}"' in html and provisional != official


def test_provisional_is_shown_when_it_is_the_one_that_fits(app, world):
    provisional = _certificate(app, world["employee"])
    _certificate(app, world["employee"], kind="official", states=("BE",))  # wrong country
    client, _token = _phone(app)
    assert f'href="/wallet/certificates/{provisional}/inspector"' in client.get(
        "/wallet/"
    ).get_data(as_text=True)


def test_no_certificate_fits(app, world):
    closest = _certificate(app, world["employee"], states=("IT",))
    client, token = _phone(app)
    html = client.get("/wallet/").get_data(as_text=True)
    assert 'href="/wallet/ask/none"' in html
    page = client.get("/wallet/ask/none").get_data(as_text=True)
    assert "No certificate covers today and this country" in page
    assert page.index("tel:+493012345678") < page.index("No certificate covers")  # support first
    assert f"/wallet/certificates/{closest}/inspector" in page
    response = _tap(client, token)
    assert response.status_code == 201
    with app.app_context():
        incident = db.session.get(Incident, response.json["id"])
        assert incident.certificate_id is None and incident.country == "FR"


@pytest.mark.parametrize(
    ("destination", "inspector_lang", "inspector_words"),
    [
        ("FR", "fr", "Le prestataire de services de mon employeur"),
        ("AT", "de", "Der Dienstleister meines Arbeitgebers"),
        ("NL", "nl", "De dienstverlener van mijn werkgever"),
        ("PL", "pl", "usługodawca mojego pracodawcy"),
    ],
)
def test_no_certificate_the_inspector_sentence_is_in_the_inspectors_language(
    app, data, destination, inspector_lang, inspector_words
):
    """The quote is what the inspector reads: the destination's language; the employee (who
    reads English here) gets the same sentence in English beneath it."""
    company = data.company()
    employee = data.employee(company, email="nomad@example.com")
    data.trip(
        employee, destination=destination, start=TODAY - timedelta(days=1), end=TODAY + timedelta(3)
    )
    client, _token = _phone(app, "nomad@example.com")
    page = client.get("/wallet/ask/none").get_data(as_text=True)
    quote = page.split(f'<blockquote class="note inspector-quote" lang="{inspector_lang}">')[1]
    quote = quote.split("</blockquote>")[0]
    assert inspector_words in quote and "service provider handles" not in quote
    english = page.split("In your language:")[1].split("</p>")[0]
    assert "My employer's service provider handles" in english


def test_no_certificate_in_the_inspectors_own_language_is_said_once(app, world):
    client, _token = _phone(app)
    client.post("/language", data={"lang": "fr", "csrf_token": csrf_token(client, "/wallet/")})
    page = client.get("/wallet/ask/none").get_data(as_text=True)
    assert '<blockquote class="note inspector-quote" lang="fr">' in page
    assert "Le prestataire de services de mon employeur" in page
    assert "In your language" not in page and "Dans votre langue" not in page


def test_one_tap_creates_one_incident_with_its_fields(app, world):
    cert = _certificate(app, world["employee"], kind="official")
    client, token = _phone(app)
    tapped = (datetime.now(UTC) - timedelta(seconds=40)).replace(microsecond=0)
    response = _tap(
        client,
        token,
        certificate_id=cert,
        latitude=45.76,
        longitude=4.83,
        tapped_at=tapped.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "status", "created_at", "tapped_at"}
    assert body["status"] == "new" and body["tapped_at"] == tapped.strftime("%Y-%m-%dT%H:%M:%SZ")
    with app.app_context():
        incident = db.session.get(Incident, body["id"])
        assert incident.employee_id == world["employee"] and incident.company_id == world["company"]
        assert (
            incident.trip_id == world["trip"]
            and incident.country == "FR"
            and incident.certificate_id == cert
        )
        assert incident.latitude is None  # no consent given: the location is dropped
        # Alerts: high urgency to the on-duty agent only; the employer admin is informed.
        alerts = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "alert")
        ).all()
        assert [a.user_id for a in alerts] == [world["agent"]]
        assert alerts[0].urgency == "high" and f"/support/incidents/{incident.id}" in alerts[0].url
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.user_id == world["admin"], OutboxMessage.kind == "incident.admin"
                )
            )
            == 1
        )
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "incident.opened"))
    agent = app.test_client()
    AuthActions(agent).login("anna.agent@example.com")
    queue = agent.get("/support/").get_data(as_text=True)
    assert f"/support/incidents/{body['id']}" in queue


def test_location_only_with_consent(app, world):
    with app.app_context():
        db.session.scalar(
            select(User).where(User.email == "worker@example.com")
        ).location_consent = True
        db.session.commit()
    client, token = _phone(app)
    response = _tap(client, token, latitude=45.76, longitude=4.83)
    with app.app_context():
        incident = db.session.get(Incident, response.json["id"])
        assert (incident.latitude, incident.longitude) == (45.76, 4.83)


def test_replayed_key_returns_the_same_incident(app, world):
    client, token = _phone(app)
    key = str(uuid.uuid4())
    first = _tap(client, token, key)
    again = _tap(client, token, key)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json == again.json


def test_twenty_concurrent_replays_make_one_incident(app, world):
    client, token = _phone(app)
    key = str(uuid.uuid4())
    cookie = client.get_cookie("session").value
    statuses = []

    def send() -> None:
        other = app.test_client()
        other.set_cookie("session", cookie)
        statuses.append(_tap(other, token, key).status_code)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses).count(201) == 1 and len(statuses) == 20 and set(statuses) <= {200, 201}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 1
        assert (
            db.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "alert")
            )
            == 1
        )


def test_bad_alerts_are_422_not_500(app, world):
    client, token = _phone(app)
    assert (
        client.post(
            "/ask", json={}, headers={"X-CSRFToken": token, "Accept": "application/json"}
        ).status_code
        == 422
    )
    for body in (
        {"tapped_at": "yesterday"},
        {"latitude": 123},
        {"tapped_at": "2020-01-01T00:00:00Z"},
        {"certificate_id": "NOTMINE000000000"},
    ):
        response = _tap(client, token, **body)
        assert response.status_code == 422, body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 0


def test_status_follows_acknowledge_and_resolve(app, world):
    client, token = _phone(app)
    incident_id = _tap(client, token).json["id"]
    assert client.get(f"/ask/{incident_id}/status").json["status"] == "new"
    agent = app.test_client()
    AuthActions(agent).login("anna.agent@example.com")
    page = f"/support/incidents/{incident_id}"
    html = agent.get(page).get_data(as_text=True)
    assert "+33 6 00 00 00 00" in html and "Acme" in html
    post_form(agent, f"{page}/acknowledge", token_from=page)
    status = client.get(f"/ask/{incident_id}/status").json
    assert status["status"] == "acknowledged" and status["handled_by"] == "Anna"
    post_form(agent, f"{page}/notes", {"text": "Called the inspector"}, token_from=page)
    assert (
        post_form(agent, f"{page}/resolve", {"outcome": "nonsense"}, token_from=page).status_code
        == 422
    )
    post_form(
        agent,
        f"{page}/resolve",
        {"outcome": "inspector_satisfied", "message": "All good, safe trip"},
        token_from=page,
    )
    status = client.get(f"/ask/{incident_id}/status").json
    assert status["status"] == "resolved" and status["message"] == "All good, safe trip"
    with app.app_context():
        actions = set(
            db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.object_type == "incident")
            )
        )
        assert {
            "incident.opened",
            "incident.acknowledged",
            "incident.note",
            "incident.resolved",
        } <= actions
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.user_id == world["admin"], OutboxMessage.kind == "incident.admin"
                )
            )
            == 2
        )
        stats = time_to_acknowledge()
        assert stats.count == 1 and stats.median_seconds is not None and stats.median_seconds >= 0


def test_escalation_after_the_configured_time(app, world):
    client, token = _phone(app)
    incident_id = _tap(client, token).json["id"]
    with app.app_context():
        created = db.session.get(Incident, incident_id).created_at
        assert escalate_unacknowledged(created + timedelta(minutes=4)) == 0
        assert escalate_unacknowledged(created + timedelta(minutes=5, seconds=1)) == 1
        assert escalate_unacknowledged(created + timedelta(minutes=9)) == 0  # once
        escalated = db.session.scalars(
            select(OutboxMessage.user_id).where(OutboxMessage.kind == "alert.escalated")
        ).all()
        # Every agent (on duty or not) and the operators.
        assert sorted(escalated) == sorted([world["agent"], world["off_duty"], world["operator"]])


def test_escalate_cli(app, runner, world):
    result = runner.invoke(args=["incidents", "escalate"])
    assert result.exit_code == 0 and '"escalated": 0' in result.output


def test_roles_and_tenants(app, world):
    client, token = _phone(app)
    incident_id = _tap(client, token).json["id"]
    other, _other_token = _phone(app, "other-worker@example.com")
    assert other.get(f"/ask/{incident_id}/status").status_code == 404
    admin = app.test_client()
    AuthActions(admin).login("admin@example.com")
    assert admin.get("/support/").status_code == 403
    assert admin.get(f"/support/incidents/{incident_id}").status_code == 403
    assert admin.post(
        "/ask", json={}, headers={"Idempotency-Key": str(uuid.uuid4())}
    ).status_code in (400, 403)
    assert "worker@example.com" not in admin.get("/admin/incidents").get_data(as_text=True)
    assert "Müller" in admin.get("/admin/incidents").get_data(as_text=True)
    other_admin = app.test_client()
    AuthActions(other_admin).login("other-admin@example.com")
    assert "Müller" not in other_admin.get("/admin/incidents").get_data(as_text=True)
    assert client.get("/support/").status_code == 403
    operator = app.test_client()
    AuthActions(operator).login("ops@example.com")
    assert operator.get("/support/").status_code == 403
