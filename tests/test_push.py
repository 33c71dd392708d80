"""Web push end to end against a loopback push-service stand-in: subscriptions, the outbox
relay and its error handling, reminders exactly once, acknowledgements."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.conftest import AuthActions
from tests.helpers import csrf_token
from tests.push_service import PushServiceStandIn
from web.certificates.services import CertificateInput, issue_provisional_certificate
from web.extensions import db
from web.models import Employee, OutboxMessage, PushSubscription, Reminder, Role, User, utcnow
from web.push.relay import relay_once
from web.push.reminders import nearest_threshold, send_reminders
from web.push.services import PushMessage, enqueue, save_subscription, validate_subscription

TODAY = date(2026, 11, 22)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stand_in():
    with PushServiceStandIn() as service:
        yield service


@pytest.fixture
def app_config(stand_in):
    return {
        "PUSH_ALLOWED_ENDPOINTS": [stand_in.base_url + "/"],
        "VAPID_SUBJECT": "mailto:ops@a1wallet.eu",
        "PUSH_MAX_ATTEMPTS": 3,
    }


@pytest.fixture
def people(app, data):
    company = data.company("Acme")
    admin = data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    employee_id = data.employee(company, email="anna@example.com")
    with app.app_context():
        db.session.get(User, admin).locale = "fr"
        db.session.commit()
    return {"company": company, "admin": admin, "employee": employee_id}


def _subscribe(app, user_id, browser):
    with app.app_context():
        sub = save_subscription(
            db.session.get(User, user_id), validate_subscription(browser.subscription_json())
        )
        db.session.commit()
        return sub.id


def _user_of(app, employee_id):
    with app.app_context():
        return db.session.get(Employee, employee_id).user_id


def _certificate(app, employee_id, valid_to, states=("FR",)):
    with app.app_context():
        cert = issue_provisional_certificate(
            db.session.get(Employee, employee_id),
            CertificateInput("A1", "DE", list(states), TODAY - timedelta(days=30), valid_to),
            actor=None,
        )
        db.session.commit()
        return cert.id


def test_reminder_end_to_end_decrypted_by_the_push_service(app, runner, stand_in, people):
    phone = stand_in.new_browser("anna-phone")
    laptop = stand_in.new_browser("admin-laptop")
    _subscribe(app, _user_of(app, people["employee"]), phone)
    _subscribe(app, people["admin"], laptop)
    cert_id = _certificate(app, people["employee"], TODAY + timedelta(days=7))

    result = runner.invoke(args=["reminders", "send", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["expiry"] == 1
    relayed = runner.invoke(args=["outbox", "relay", "--once"])
    assert relayed.exit_code == 0, relayed.output
    assert json.loads(relayed.output)["sent"] == 2

    [to_phone] = stand_in.delivered("anna-phone")
    assert to_phone.payload["title"] == "Your certificate ends in 7 days"
    assert to_phone.payload["url"] == f"https://a1.example.test/wallet/certificates/{cert_id}"
    assert set(to_phone.payload) == {"title", "body", "url"}
    assert to_phone.ttl and int(to_phone.ttl) > 0
    assert to_phone.urgency == "normal" and to_phone.topic == f"exp-{cert_id}"
    assert len(to_phone.topic) <= 32
    assert to_phone.jwt_claims["sub"] == "mailto:ops@a1wallet.eu"
    [to_admin] = stand_in.delivered("admin-laptop")
    # The admin reads French: every message is written in its recipient's language.
    assert to_admin.payload["title"] == "Le certificat de Anna Müller prend fin dans 7 jours"
    assert to_admin.payload["url"].endswith(f"/admin/certificates/{cert_id}")


def test_reminders_twice_send_each_once(app, stand_in, people):
    _subscribe(app, _user_of(app, people["employee"]), stand_in.new_browser("p"))
    _certificate(app, people["employee"], TODAY + timedelta(days=14))
    with app.app_context():
        first = send_reminders(TODAY)
        second = send_reminders(TODAY)
        assert first.expiry == 1 and second.expiry == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        # Next day nothing new either (14 was sent; 7 comes a week later).
        assert send_reminders(TODAY + timedelta(days=1)).expiry == 0
        assert send_reminders(TODAY + timedelta(days=7)).expiry == 1


def test_a_late_run_sends_only_the_nearest_threshold(app, stand_in, people):
    _subscribe(app, _user_of(app, people["employee"]), stand_in.new_browser("p"))
    cert_id = _certificate(app, people["employee"], TODAY + timedelta(days=5))
    with app.app_context():
        assert send_reminders(TODAY).expiry == 1
        thresholds = list(
            db.session.scalars(
                select(Reminder.threshold_days).where(Reminder.subject_id == cert_id)
            )
        )
        assert thresholds == [7]
    assert nearest_threshold(5, [1, 7, 14, 30]) == 7
    assert nearest_threshold(0, [1, 7, 14, 30]) == 1
    assert nearest_threshold(31, [1, 7, 14, 30]) is None
    assert nearest_threshold(-1, [1, 7, 14, 30]) is None


def test_uncovered_trip_and_multi_state_renewal(app, data, stand_in, people):
    _subscribe(app, _user_of(app, people["employee"]), stand_in.new_browser("p"))
    _subscribe(app, people["admin"], stand_in.new_browser("a"))
    data.trip(
        people["employee"],
        destination="CH",
        start=TODAY + timedelta(days=10),
        end=TODAY + timedelta(days=12),
    )
    covered = data.trip(
        people["employee"],
        destination="FR",
        start=TODAY + timedelta(days=3),
        end=TODAY + timedelta(days=4),
    )
    assert covered
    _certificate(app, people["employee"], TODAY + timedelta(days=60))  # covers the FR trip
    _certificate(app, people["employee"], TODAY + timedelta(days=20), states=("DE", "PL"))
    with app.app_context():
        run = send_reminders(TODAY)
        assert run.uncovered_trips == 1 and run.renewal == 1
        relay_once()
    titles = [r.payload["title"] for r in stand_in.delivered()]
    assert "Your trip to Switzerland is not covered" in titles
    assert any("Suisse" in t for t in titles)  # the admin reads French
    assert any("A1" in t for t in titles)  # the renewal, to the admin


def test_410_and_404_delete_the_subscription(app, stand_in, people):
    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.new_browser("gone", 410))
    _subscribe(app, user, stand_in.new_browser("missing", 404))
    with app.app_context():
        enqueue(user, PushMessage("reminder.expiry", "t", "b", "https://a1.example.test/wallet/"))
        db.session.commit()
        result = relay_once()
        assert result.gone == 2
        assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 0


def test_429_honours_retry_after(app, stand_in, people):
    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.new_browser("busy", 429, retry_after="120"))
    with app.app_context():
        enqueue(user, PushMessage("reminder.expiry", "t", "b", "https://a1.example.test/wallet/"))
        db.session.commit()
        before = utcnow()
        assert relay_once().retried == 1
        message = db.session.scalar(select(OutboxMessage))
        delay = (message.next_attempt_at - before).total_seconds()
        assert 115 <= delay <= 125 and message.status == "pending"
        assert relay_once().sent == 0  # not due yet
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        assert relay_once().sent == 1


def test_500_retries_with_backoff_then_goes_dead(app, stand_in, people):
    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.new_browser("broken", 500, 500, 500, 500))
    with app.app_context():
        enqueue(user, PushMessage("reminder.expiry", "t", "b", "https://a1.example.test/wallet/"))
        db.session.commit()
        delays = []
        for _attempt in range(3):
            now = utcnow()
            result = relay_once()
            message = db.session.scalar(select(OutboxMessage))
            if message.status == "pending":
                delays.append((message.next_attempt_at - now).total_seconds())
                db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
                db.session.commit()
        assert message.status == "dead" and message.attempts == 3 and result.dead == 1
        assert message.last_error == "HTTP 500"
        assert 15 <= delays[0] <= 30 and 30 <= delays[1] <= 60  # exponential, with jitter


def test_413_is_dead_at_once(app, stand_in, people):
    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.new_browser("small", 413))
    with app.app_context():
        enqueue(user, PushMessage("reminder.expiry", "t", "b", "https://a1.example.test/wallet/"))
        db.session.commit()
        assert relay_once().dead == 1


def test_oversized_or_bad_messages_are_refused_when_enqueued(app, people):
    with app.app_context():
        with pytest.raises(ValueError, match="too large"):
            enqueue(1, PushMessage("x", "t" * 4000, "b", "u"))
        with pytest.raises(ValueError, match="topic"):
            enqueue(1, PushMessage("x", "t", "b", "u", topic="a" * 33))


def test_two_relays_at_once_send_each_message_once(app, database_url, stand_in, people, tmp_path):
    """Two `outbox relay --once` processes drain the same outbox (SKIP LOCKED on PostgreSQL)."""
    user = _user_of(app, people["employee"])
    phones = [stand_in.new_browser(f"phone{i}") for i in range(10)]
    for phone in phones:
        _subscribe(app, user, phone)
    with app.app_context():
        for i in range(10):
            enqueue(
                user,
                PushMessage(
                    "reminder.expiry", f"message {i}", "b", "https://a1.example.test/wallet/"
                ),
            )
        db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "A1W_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "VAPID_SUBJECT": "mailto:ops@a1wallet.eu",
        "PUSH_ALLOWED_ENDPOINTS": stand_in.base_url + "/",
        "LOG_LEVEL": "WARNING",
    }
    relays = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "outbox", "relay", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [relay.communicate(timeout=120) for relay in relays]
    assert all(relay.returncode == 0 for relay in relays), outputs
    sent = [json.loads(out.decode().strip().splitlines()[-1])["sent"] for out, _err in outputs]
    assert sum(sent) == 100
    delivered = [(r.path, r.payload["title"]) for r in stand_in.delivered()]
    assert len(delivered) == 100 and len(set(delivered)) == 100  # each message exactly once


# --- subscriptions over HTTP -------------------------------------------------------------------


def test_subscribe_and_unsubscribe_over_http(app, stand_in, people):
    client = app.test_client()
    AuthActions(client).login("anna@example.com")
    token = csrf_token(client, "/wallet/")
    key = client.get("/push/key").json["publicKey"]
    assert len(key) == 87
    browser = stand_in.new_browser("http-phone")
    response = client.post(
        "/push/subscriptions", json=browser.subscription_json(), headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201
    again = client.post(
        "/push/subscriptions", json=browser.subscription_json(), headers={"X-CSRFToken": token}
    )
    assert again.status_code == 201  # the same device twice is one subscription
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 1
    assert (
        client.post("/push/subscriptions", json=browser.subscription_json()).status_code == 400
    )  # no CSRF
    gone = client.delete(
        "/push/subscriptions", json={"endpoint": browser.endpoint}, headers={"X-CSRFToken": token}
    )
    assert gone.status_code == 204
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 0


def test_subscription_endpoint_must_be_an_allowed_push_service(app, stand_in, people):
    client = app.test_client()
    AuthActions(client).login("anna@example.com")
    token = csrf_token(client, "/wallet/")
    for endpoint in (
        "http://169.254.169.254/latest/meta-data",
        "https://internal.example.com/push",
        "javascript:alert(1)",
    ):
        payload = {**stand_in.new_browser("x").subscription_json(), "endpoint": endpoint}
        response = client.post("/push/subscriptions", json=payload, headers={"X-CSRFToken": token})
        assert response.status_code == 422 and "endpoint" in response.json["errors"], endpoint
    bad_keys = {
        **stand_in.new_browser("y").subscription_json(),
        "keys": {"p256dh": "abc", "auth": "x"},
    }
    response = client.post("/push/subscriptions", json=bad_keys, headers={"X-CSRFToken": token})
    assert set(response.json["errors"]) == {"keys.p256dh", "keys.auth"}


def test_vapid_key_is_kept_across_restarts(app, tmp_path, database_url):
    from app import create_app
    from tests.conftest import base_config
    from web.push.vapid import application_server_key

    with app.app_context():
        first = application_server_key()
    again = create_app(
        {**base_config(tmp_path, database_url), "INSTANCE_PATH": app.config["INSTANCE_PATH"]}
    )
    with again.app_context():
        assert application_server_key() == first
    key_file = Path(app.config["INSTANCE_PATH"]) / "vapid_private.pem"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_placeholder_vapid_subject_is_refused(app, runner):
    from web.push.vapid import VapidConfigurationError, check_vapid_subject

    for subject in (
        "mailto:x@localhost",
        "mailto:support@a1wallet.example",
        "https://127.0.0.1/",
        "http://a1wallet.eu",
        "ops@a1wallet.eu",
    ):
        with pytest.raises(VapidConfigurationError):
            check_vapid_subject(subject)
    check_vapid_subject("mailto:ops@a1wallet.eu")
    check_vapid_subject("https://a1wallet.eu/contact")
    app.config["VAPID_SUBJECT"] = ""
    result = runner.invoke(args=["outbox", "relay", "--once"])  # default: mailto:SUPPORT_EMAIL
    assert result.exit_code == 2 and "placeholder" in result.output


def test_alert_acknowledgement(app, stand_in, people):
    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.new_browser("agent"))
    with app.app_context():
        rows = enqueue(
            user,
            PushMessage(
                "alert",
                "Authority asking",
                "b",
                "https://a1.example.test/support/incidents/7",
                urgency="high",
            ),
        )
        db.session.commit()
        assert len(rows) == 1 and "push=" in rows[0].url
        relay_once()
    [received] = stand_in.delivered("agent")
    assert received.urgency == "high"
    token = received.payload["url"].split("push=", 1)[1]
    client = app.test_client()
    assert client.post("/push/ack", json={"token": token[:-1] + "0"}).status_code == 404
    assert client.post("/push/ack", json={"token": token}).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.shown_at)) is not None


def test_dead_messages_show_in_the_operator_console(app, stand_in, people, data):
    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.new_browser("refused", 413))
    with app.app_context():
        enqueue(user, PushMessage("reminder.expiry", "t", "b", "https://a1.example.test/wallet/"))
        db.session.commit()
        relay_once()
        message_id = db.session.scalar(select(OutboxMessage.id))
    data.user(Role.OPERATOR, None, email="ops@example.com")
    client = app.test_client()
    AuthActions(client).login("ops@example.com")
    page = client.get("/operator/outbox").get_data(as_text=True)
    assert "HTTP 413" in page and "dead: 1" in page
    token = csrf_token(client, "/operator/outbox")
    client.post(f"/operator/outbox/{message_id}/retry", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == "pending"
        assert relay_once().sent == 1
    admin = app.test_client()
    AuthActions(admin).login("admin@example.com")
    assert admin.get("/operator/outbox").status_code == 403


def test_settings_pages_offer_notifications(app, data, people):
    employee = app.test_client()
    AuthActions(employee).login("anna@example.com")
    html = employee.get("/wallet/settings").get_data(as_text=True)
    assert "data-push" in html and "/static/js/push.js" in html and "Home Screen" in html
    data.user(Role.SUPPORT, None, email="agent@example.com")
    agent = app.test_client()
    AuthActions(agent).login("agent@example.com")
    assert "data-push" in agent.get("/account").get_data(as_text=True)
