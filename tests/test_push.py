"""Web push end to end against a loopback push-service stand-in: subscriptions, the outbox
relay and its error handling, reminders exactly once, acknowledgements; and the relay as an
attacker would try it: endpoints aimed inward, redirects, hostile push services (issue 12)."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.conftest import AuthActions
from tests.helpers import csrf_token
from tests.push_service import LOOPBACK_SETTINGS, PushServiceStandIn
from web.certificates.services import CertificateInput, issue_provisional_certificate
from web.extensions import db
from web.models import Employee, OutboxMessage, PushSubscription, Reminder, Role, User, utcnow
from web.push.relay import relay_once
from web.push.reminders import nearest_threshold, send_reminders
from web.push.services import PushMessage, enqueue, save_subscription, validate_subscription

TODAY = date(2026, 11, 22)
ROOT = Path(__file__).resolve().parent.parent
BASE = LOOPBACK_SETTINGS["PUBLIC_BASE_URL"]


@pytest.fixture
def stand_in():
    with PushServiceStandIn() as service:
        yield service


@pytest.fixture
def app_config(stand_in):
    return {
        **LOOPBACK_SETTINGS,  # the stand-in listens on 127.0.0.1
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
    assert to_phone.payload["url"] == f"{BASE}/wallet/certificates/{cert_id}"
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
        "PUSH_ALLOW_LOOPBACK_ENDPOINTS": "1",
        "PUBLIC_BASE_URL": BASE,
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


# --- the relay cannot be aimed inward (issue 12, point 3) ---------------------------------------

REAL_PUSH_ENDPOINTS = (
    "https://fcm.googleapis.com/fcm/send/dX9fQ2",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAAB",
    "https://web.push.apple.com/QGHxW4Ek8",
    "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB",
)
SSRF_ENDPOINTS = (
    "https://127.0.0.1:6379/x.notify.windows.com/",  # fnmatch's * crossed host, port and path
    "https://evil.tld#.notify.windows.com/",  # the host is evil.tld
    "https://evil.tld/#.push.apple.com/",
    "https://169.254.169.254/latest/meta-data/?a=.push.apple.com/",
    "http://fcm.googleapis.com/fcm/send/x",  # plain http
    "https://user:pw@fcm.googleapis.com/fcm/send/x",  # userinfo
    "https://fcm.googleapis.com@evil.tld/fcm/send/x",
    "https://fcm.googleapis.com\\@evil.tld/",
    "https://fcm.googleapis.com:8443/fcm/send/x",  # not 443
    "https://fcm.googleapis.com:6379/fcm/send/x",
    "https://10.0.0.5/fcm/send/x",  # IP literals
    "https://[::1]/fcm/send/x",
    "https://[::ffff:127.0.0.1]/fcm/send/x",
    "https://2130706433/fcm/send/x",
    "https://fcm.googleapis.com.evil.tld/x",  # an allowed name as a prefix
    "https://evilnotify.windows.com/x",  # not a whole label
    "https://notify.windows.com/x",  # the suffix itself
    "https://127.0.0.1:%d/push/p",  # the stand-in, while loopback endpoints are off
    "http://[::1]:8080/push/p",
    "javascript:alert(1)",
)


def _refusals(app):
    from web.models import AuditEvent

    with app.app_context():
        return db.session.scalars(
            select(AuditEvent.message).where(AuditEvent.action == "push.subscription_refused")
        ).all()


def test_ssrf_endpoints_are_refused_at_subscribe_and_store_nothing(app, stand_in, people):
    app.config["PUSH_ALLOW_LOOPBACK_ENDPOINTS"] = False  # as in production
    with app.app_context():
        db.session.get(User, _user_of(app, people["employee"])).locale = "fr"
        db.session.commit()
    client = app.test_client()
    AuthActions(client).login("anna@example.com")
    token = csrf_token(client, "/wallet/")
    for n, template in enumerate(SSRF_ENDPOINTS):
        endpoint = template.replace("%d", str(stand_in.port))
        payload = {**stand_in.new_browser(f"x{n}").subscription_json(), "endpoint": endpoint}
        response = client.post("/push/subscriptions", json=payload, headers={"X-CSRFToken": token})
        assert response.status_code == 422, endpoint
        assert response.json["errors"]["endpoint"] in (
            "n'est pas un service push auquel ce serveur envoie des messages",
            "doit être l'URL du service push indiquée dans l'abonnement",
        ), (endpoint, response.json)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 0
    assert len(_refusals(app)) == len(SSRF_ENDPOINTS)  # one audit event each
    assert all(reason.startswith("endpoint ") for reason in _refusals(app))
    for n, endpoint in enumerate(REAL_PUSH_ENDPOINTS):
        payload = {**stand_in.new_browser(f"ok{n}").subscription_json(), "endpoint": endpoint}
        response = client.post("/push/subscriptions", json=payload, headers={"X-CSRFToken": token})
        assert response.status_code == 201, (endpoint, response.json)


def test_loopback_endpoints_need_the_setting_and_a_loopback_public_url(app, tmp_path):
    from app import create_app
    from tests.conftest import base_config
    from web.push.endpoints import PushConfigurationError

    config = base_config(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"])
    with pytest.raises(PushConfigurationError, match="PUBLIC_BASE_URL"):
        create_app({**config, "PUSH_ALLOW_LOOPBACK_ENDPOINTS": True})  # https://a1.example.test
    with pytest.raises(PushConfigurationError, match="PUSH_ALLOWED_HOSTS"):
        create_app({**config, "PUSH_ALLOWED_ENDPOINTS": ["https://*.notify.windows.com/"]})
    with pytest.raises(PushConfigurationError, match="not a hostname"):
        create_app({**config, "PUSH_ALLOWED_HOSTS": ["https://*.notify.windows.com/"]})
    assert create_app(config).config["PUSH_ALLOW_LOOPBACK_ENDPOINTS"] is False  # the default


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["169.254.169.254"],
        ["10.1.2.3"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["fd00::1"],
        ["142.250.74.106", "192.168.1.10"],  # one bad answer spoils them all
    ],
)
def test_a_push_service_name_resolving_inward_is_refused_at_send(
    app, stand_in, people, monkeypatch, addresses
):
    from web.models import AuditEvent
    from web.push import transport

    app.config["PUSH_ALLOW_LOOPBACK_ENDPOINTS"] = False
    lookups, connections = [], []
    monkeypatch.setattr(
        transport, "resolve_host", lambda host, port: lookups.append((host, port)) or addresses
    )
    monkeypatch.setattr(
        transport.socket, "create_connection", lambda *a, **k: connections.append(a) or 1 / 0
    )
    user = _user_of(app, people["employee"])
    phone = stand_in.new_browser("phone", base_url="https://wns2-par02p.notify.windows.com")
    subscription_id = _subscribe(app, user, phone)
    with app.app_context():
        enqueue(user, PushMessage("alert", "t", "b", f"{BASE}/wallet/", urgency="high"))
        db.session.commit()
        assert relay_once().dead == 1
        message = db.session.scalar(select(OutboxMessage))
        assert message.status == "dead" and message.last_error.startswith("refused")
        assert db.session.get(PushSubscription, subscription_id) is not None  # DNS, not the device
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "push.send_refused")
        ).all()
        assert [e.object_id for e in events] == [str(subscription_id)]
    assert lookups == [("wns2-par02p.notify.windows.com", 443)]
    assert connections == [] and stand_in.connections == 0


def test_a_redirect_is_not_followed_and_ends_the_subscription(app, stand_in, people):
    from web.models import AuditEvent

    user = _user_of(app, people["employee"])
    with PushServiceStandIn() as internal:
        internal.new_browser("admin")
        target = f"{internal.base_url}/push/admin?flushall=1"
        sub = _subscribe(app, user, stand_in.new_browser("hop", 307, location=target))
        with app.app_context():
            enqueue(user, PushMessage("reminder.expiry", "t", "b", f"{BASE}/wallet/"))
            db.session.commit()
            assert relay_once().dead == 1
            message = db.session.scalar(select(OutboxMessage))
            assert message.last_error == "HTTP 307: redirect not followed"
            assert db.session.get(PushSubscription, sub) is None
            assert (
                db.session.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.action == "push.subscription_dropped")
                )
                == 1
            )
        assert internal.connections == 0 and internal.received == []
    assert [r.status for r in stand_in.received] == [307]


def test_an_endpoint_cannot_be_taken_over_by_another_user(app, stand_in, people):
    """Knowing someone's endpoint (it is no secret to their push service or a log) must not let
    another account take their alerts, nor overwrite their keys."""
    victim = _user_of(app, people["employee"])
    phone = stand_in.new_browser("victim-phone")
    sub = _subscribe(app, victim, phone)
    with app.app_context():
        stored = db.session.get(PushSubscription, sub)
        keys = (stored.p256dh, stored.auth)
    attacker = app.test_client()
    AuthActions(attacker).login("admin@example.com")
    token = csrf_token(attacker, "/admin/")
    stolen = {**stand_in.new_browser("other").subscription_json(), "endpoint": phone.endpoint}
    response = attacker.post("/push/subscriptions", json=stolen, headers={"X-CSRFToken": token})
    assert response.status_code == 409
    assert "autre compte" in response.json["errors"]["endpoint"]  # the admin reads French
    same_keys = attacker.post(
        "/push/subscriptions", json=phone.subscription_json(), headers={"X-CSRFToken": token}
    )
    assert same_keys.status_code == 409
    with app.app_context():
        stored = db.session.get(PushSubscription, sub)
        assert stored.user_id == victim and (stored.p256dh, stored.auth) == keys
        assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 1
    assert _refusals(app) == ["bound_to_another_user"] * 2
    # The victim's own browser still refreshes it.
    again = _subscribe(app, victim, phone)
    assert again == sub


def test_at_most_ten_subscriptions_per_user_the_oldest_goes(app, stand_in, people):
    client = app.test_client()
    AuthActions(client).login("anna@example.com")
    token = csrf_token(client, "/wallet/")
    browsers = [stand_in.new_browser(f"device{i}") for i in range(12)]
    for browser in browsers:
        response = client.post(
            "/push/subscriptions", json=browser.subscription_json(), headers={"X-CSRFToken": token}
        )
        assert response.status_code == 201
    with app.app_context():
        kept = db.session.scalars(select(PushSubscription.endpoint)).all()
    assert sorted(kept) == sorted(b.endpoint for b in browsers[2:])


# --- a relay that nothing can stall (issue 12, point 4) -----------------------------------------


def _relay_in_background(app, stop):
    from web.push.relay import relay_forever

    def run():
        with app.app_context():
            relay_forever(0.05, stop=stop)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_hung_and_dripping_push_services_do_not_delay_an_alert(app, stand_in, people, data):
    """Two hostile push services hold a send each; an alert enqueued while they do arrives at
    once, and the stuck sends end at the deadline and back off like a 5xx."""

    app.config["PUSH_SEND_DEADLINE_SECONDS"] = 2
    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.hung_browser("hung"))
    _subscribe(app, user, stand_in.dripping_browser("drip"))
    agent = data.user(Role.SUPPORT, None, email="agent@example.com")
    _subscribe(app, agent, stand_in.new_browser("agent-phone"))
    with app.app_context():
        enqueue(user, PushMessage("reminder.expiry", "t", "b", f"{BASE}/wallet/"))
        db.session.commit()
    stop = threading.Event()
    relay = _relay_in_background(app, stop)
    try:
        for _ in range(100):  # both hostile sends are under way
            if len(stand_in.received) == 2:
                break
            time.sleep(0.02)
        assert {r.error for r in stand_in.received} == {"hang", "drip"}
        with app.app_context():
            enqueue(
                agent, PushMessage("alert", "Authority asking", "b", f"{BASE}/s", urgency="high")
            )
            db.session.commit()
        enqueued = time.monotonic()
        for _ in range(200):
            if stand_in.delivered("agent-phone"):
                break
            time.sleep(0.01)
        [alert] = stand_in.delivered("agent-phone")
        assert alert.arrived_at - enqueued < 1.0  # not after the 2 s deadline of the others
        time.sleep(2.5)  # the deadline of the hostile sends has passed
        with app.app_context():
            stuck = db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "reminder.expiry")
            ).all()
            assert [m.status for m in stuck] == ["pending", "pending"]
            assert {m.last_error for m in stuck} == {"timeout after 2 s"}
            assert all((m.next_attempt_at - utcnow()).total_seconds() > 10 for m in stuck)
            assert all(m.attempts == 1 and m.lease_until is None for m in stuck)
    finally:
        stop.set()
        relay.join(timeout=10)
    assert not relay.is_alive()


def test_a_dripping_push_service_costs_one_send_its_deadline(app, stand_in, people):
    """relay_once (cron) returns once the deadline has passed, however slowly the answer comes."""

    app.config["PUSH_SEND_DEADLINE_SECONDS"] = 1.5
    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.dripping_browser("drip"))
    _subscribe(app, user, stand_in.new_browser("fine"))
    outcome = {}

    def run():
        with app.app_context():
            enqueue(user, PushMessage("reminder.expiry", "t", "b", f"{BASE}/wallet/"))
            db.session.commit()
            started = time.monotonic()
            outcome["result"] = relay_once()
            outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=6)
    assert not thread.is_alive(), "the relay is still held by the dripping push service"
    assert outcome["result"].sent == 1 and outcome["result"].retried == 1
    assert outcome["seconds"] < 1.5 + 1.0


def test_high_urgency_messages_are_claimed_first(app, stand_in, people, data):
    app.config["PUSH_RELAY_CONCURRENCY"] = 1  # one send at a time: the order shows
    user = _user_of(app, people["employee"])
    phones = [stand_in.new_browser(f"phone{i}") for i in range(4)]
    for phone in phones:
        _subscribe(app, user, phone)
    agent = data.user(Role.SUPPORT, None, email="agent@example.com")
    _subscribe(app, agent, stand_in.new_browser("agent-phone"))
    with app.app_context():
        enqueue(user, PushMessage("reminder.expiry", "t", "b", f"{BASE}/wallet/"))
        db.session.commit()
        enqueue(agent, PushMessage("alert.escalated", "Asking", "b", f"{BASE}/s", urgency="high"))
        db.session.commit()
        assert relay_once().sent == 5
    order = [r.path.rsplit("/", 1)[1] for r in stand_in.received]
    assert order[0] == "agent-phone", order


def test_pinned_address_keeps_tls_verification_and_sni(app, tmp_path, monkeypatch):
    """The relay connects to the address it checked, and TLS still verifies the certificate for
    the push service's name (sent as SNI); a second DNS answer is never asked for."""

    from web.push import transport
    from web.push.endpoints import Endpoint

    name = "wns2-par02p.notify.windows.com"
    ca_pem, cert_pem, key_pem = _certificate_chain(name)
    (tmp_path / "cert.pem").write_bytes(cert_pem + ca_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    trusting = ssl.create_default_context(cadata=ca_pem.decode())
    # This machine plays the public push service: its loopback address counts as public here.
    monkeypatch.setattr(transport, "address_allowed", lambda a, loopback_endpoint: True)
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])  # a rebinding resolver: public, then inward
    lookups = []

    def resolver(host, port):
        lookups.append(host)
        return next(answers)

    with PushServiceStandIn(tls=server) as service:
        browser = service.new_browser("p", base_url=f"https://{name}:{service.port}")
        endpoint = Endpoint("https", name, service.port, "/push/p", False)
        body, headers = _encrypted_request(app, browser)
        sender = transport.PushTransport(
            deadline_seconds=5, resolver=resolver, ssl_context=trusting
        )
        assert sender.post(endpoint, body, headers).status == 201
        assert lookups == [name] and service.server_names == [name]
        assert service.delivered("p")[0].payload == {"title": "t", "body": "b", "url": "u"}
        untrusting = transport.PushTransport(
            deadline_seconds=5,
            resolver=lambda h, p: ["127.0.0.1"],
            ssl_context=ssl.create_default_context(),
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusting.post(endpoint, body, headers)
        wrong_name = Endpoint("https", "fcm.googleapis.com", service.port, "/push/p", False)
        with pytest.raises(ssl.SSLCertVerificationError):
            transport.PushTransport(
                deadline_seconds=5, resolver=lambda h, p: ["127.0.0.1"], ssl_context=trusting
            ).post(wrong_name, body, headers)
        assert len(service.delivered("p")) == 1


def _encrypted_request(app, browser):
    from pywebpush import WebPusher

    from web.push.vapid import vapid

    body = WebPusher(browser.subscription_json()).encode(
        json.dumps({"title": "t", "body": "b", "url": "u"}).encode()
    )["body"]
    origin = browser.endpoint.rsplit("/push/", 1)[0]
    with app.app_context():
        authorization = vapid().sign(
            {"aud": origin, "exp": int(utcnow().timestamp()) + 600, "sub": "mailto:o@a1wallet.eu"}
        )
    return body, {**authorization, "TTL": "60", "Content-Encoding": "aes128gcm"}


def _certificate_chain(name):
    """A throwaway CA and a certificate for ``name`` it signed (PEM bytes)."""
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test push CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return (
        ca.public_bytes(pem),
        cert.public_bytes(pem),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def test_a_message_whose_sends_never_finish_is_given_up(app, stand_in, people):
    """Each claim counts an attempt, so a message that stops every relay taking it (its lease
    runs out again and again) goes dead after PUSH_MAX_ATTEMPTS instead of circling for ever."""
    from web.push.relay import claim_due_messages

    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.new_browser("phone"))
    with app.app_context():
        enqueue(user, PushMessage("reminder.expiry", "t", "b", f"{BASE}/wallet/"))
        db.session.commit()
        for attempt in range(1, 4):  # PUSH_MAX_ATTEMPTS is 3; each relay dies mid-send
            assert len(claim_due_messages(10)) == 1
            message = db.session.scalar(select(OutboxMessage))
            assert message.attempts == attempt
            db.session.execute(
                update(OutboxMessage).values(lease_until=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
        assert relay_once().dead == 1
        assert db.session.scalar(select(OutboxMessage.status)) == "dead"
    assert stand_in.received == []


def test_an_endless_answer_is_read_no_further_than_the_size_cap(app, stand_in, people):

    user = _user_of(app, people["employee"])
    _subscribe(app, user, stand_in.flooding_browser("flood"))
    outcome = {}

    def run():
        with app.app_context():
            enqueue(user, PushMessage("reminder.expiry", "t", "b", f"{BASE}/wallet/"))
            db.session.commit()
            outcome["result"] = relay_once()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), "the relay is still reading the endless answer"
    assert outcome["result"].sent == 1  # the status is what counts


def test_the_transport_reads_at_most_64_kib(app, stand_in):
    from web.push.endpoints import endpoint_from_config
    from web.push.transport import RESPONSE_LIMIT_BYTES, PushTransport

    browser = stand_in.flooding_browser("flood")
    body, headers = _encrypted_request(app, browser)
    endpoint = endpoint_from_config(browser.endpoint, app.config)
    response = PushTransport(deadline_seconds=5).post(endpoint, body, headers)
    assert response.status == 201 and response.truncated
    assert len(response.body) == RESPONSE_LIMIT_BYTES == 64 * 1024
