"""Staff sign-ins end after STAFF_IDLE_MINUTES without a request and STAFF_SESSION_HOURS after
the login; an employee's phone stays signed in. Time moves by editing the SignIn timestamps in
the database, never by sleeping."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from web.config import Config
from web.extensions import db
from web.models import AuditEvent, Role, SignIn, User, utcnow

STAFF = [Role.EMPLOYER_ADMIN, Role.SUPPORT, Role.OPERATOR]
HOME = {
    Role.EMPLOYEE: "/wallet/",
    Role.EMPLOYER_ADMIN: "/admin/employees",
    Role.SUPPORT: "/support/",
    Role.OPERATOR: "/operator/outbox",
}
EXPIRED = {
    "en": "Your session has expired. Please sign in again.",
    "fr": "Votre session a expiré. Veuillez vous reconnecter.",
    "de": "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
}


def _sign_in(app, data, role: Role, locale: str | None = None):
    """A client signed in as a new user of ``role``; returns (client, email)."""
    if role is Role.EMPLOYEE:
        email = data.email_of_employee(data.employee(data.company()))
    else:
        email = f"{role.value}-{uuid.uuid4().hex[:8]}@example.com"
        data.user(role, data.company() if role.belongs_to_company else None, email=email)
    if locale:
        with app.app_context():
            db.session.scalar(select(User).where(User.email == email)).locale = locale
            db.session.commit()
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    assert client.get(HOME[role]).status_code == 200
    return client, email


def _sign_in_row(app, email) -> SignIn:
    with app.app_context():
        row = db.session.scalar(
            select(SignIn).join(User).where(User.email == email).order_by(SignIn.created_at.desc())
        )
        db.session.expunge(row)
        return row


def _move_clock(app, email, *, idle: timedelta | None = None, age: timedelta | None = None):
    """Pretend the last request was ``idle`` ago and the login ``age`` ago."""
    with app.app_context():
        row = db.session.scalar(
            select(SignIn).join(User).where(User.email == email, SignIn.revoked_at.is_(None))
        )
        now = utcnow()
        if age is not None:
            row.created_at = now - age
        if idle is not None:
            row.last_seen_at = now - idle
        db.session.commit()


def _expiry_events(app, email) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent)
            .join(User, User.id == AuditEvent.actor_id)
            .where(User.email == email, AuditEvent.action == "auth.session_expired")
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def _assert_signed_out(response):
    assert response.status_code == 302, response.status_code
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", STAFF, ids=lambda r: r.value)
def test_staff_session_ends_after_30_idle_minutes(app, data, role):
    client, email = _sign_in(app, data, role)
    _move_clock(app, email, idle=timedelta(minutes=31))
    response = client.get(HOME[role])
    _assert_signed_out(response)
    assert _sign_in_row(app, email).revoked_at is not None
    [event] = _expiry_events(app, email)
    assert event.message == "idle limit" and event.object_type == "sign_in"
    assert event.actor_role == role.value
    # The login page says why, once.
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert EXPIRED["en"] in login_page
    assert EXPIRED["en"] not in client.get("/login").get_data(as_text=True)
    # Later requests stay signed out and are not audited again.
    _assert_signed_out(client.get(HOME[role]))
    assert len(_expiry_events(app, email)) == 1


@pytest.mark.parametrize("role", STAFF, ids=lambda r: r.value)
def test_staff_session_ends_12_hours_after_sign_in_however_active(app, data, role):
    client, email = _sign_in(app, data, role)
    _move_clock(app, email, age=timedelta(hours=12, minutes=1), idle=timedelta(seconds=5))
    _assert_signed_out(client.get(HOME[role]))
    assert _sign_in_row(app, email).revoked_at is not None
    [event] = _expiry_events(app, email)
    assert event.message == "absolute limit"


@pytest.mark.parametrize("role", STAFF, ids=lambda r: r.value)
def test_staff_session_within_the_limits_goes_on_and_counts_as_activity(app, data, role):
    client, email = _sign_in(app, data, role)
    _move_clock(app, email, age=timedelta(hours=11, minutes=50), idle=timedelta(minutes=29))
    assert client.get(HOME[role]).status_code == 200
    row = _sign_in_row(app, email)
    assert row.revoked_at is None
    # The request moved last_seen to now (it is written at most once a minute).
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
    _move_clock(app, email, idle=timedelta(seconds=30))
    assert client.get(HOME[role]).status_code == 200
    assert utcnow() - _sign_in_row(app, email).last_seen_at >= timedelta(seconds=30)
    assert _expiry_events(app, email) == []


@pytest.mark.parametrize(
    "idle, age",
    [
        (timedelta(minutes=31), timedelta(minutes=40)),
        (timedelta(minutes=1), timedelta(hours=13)),
        (timedelta(days=30), timedelta(days=80)),
    ],
    ids=["31-minutes-idle", "13-hours-old", "30-days-idle"],
)
def test_employee_stays_signed_in(app, data, idle, age):
    client, email = _sign_in(app, data, Role.EMPLOYEE)
    remember = client.get_cookie("remember_token").value
    _move_clock(app, email, idle=idle, age=age)
    assert client.get("/wallet/").status_code == 200
    # The phone restarted: only the 90-day remember cookie is left, and it still opens the wallet.
    _move_clock(app, email, idle=idle, age=age)
    phone = app.test_client()
    phone.set_cookie("remember_token", remember)
    assert phone.get("/wallet/").status_code == 200
    assert _sign_in_row(app, email).revoked_at is None
    assert _expiry_events(app, email) == []


def test_expired_session_cookie_replayed_elsewhere_is_refused(app, data):
    client, email = _sign_in(app, data, Role.EMPLOYER_ADMIN)
    stolen = client.get_cookie("session").value
    _move_clock(app, email, idle=timedelta(minutes=45))
    _assert_signed_out(client.get("/admin/employees"))
    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    _assert_signed_out(attacker.get("/admin/employees"))
    assert len(_expiry_events(app, email)) == 1


def test_htmx_and_api_requests_after_expiry_are_unauthenticated(app, data):
    client, email = _sign_in(app, data, Role.EMPLOYER_ADMIN)
    _move_clock(app, email, idle=timedelta(hours=1))
    response = client.get("/admin/employees?q=a", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")
    api = client.post("/api/v1/determinations", json={})
    assert api.status_code in (400, 401)  # CSRF (400) or the JSON 401: never served
    # The message waits for the login page the htmx redirect leads to.
    assert EXPIRED["en"] in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["fr", "de"])
def test_expiry_message_is_in_the_users_language(app, data, locale):
    client, email = _sign_in(app, data, Role.SUPPORT, locale=locale)
    _move_clock(app, email, idle=timedelta(minutes=31))
    response = client.get("/support/")
    _assert_signed_out(response)
    assert EXPIRED[locale] in client.get(response.headers["Location"]).get_data(as_text=True)


def test_expiry_message_follows_the_browser_language_without_a_preference(app, data):
    client, email = _sign_in(app, data, Role.OPERATOR)
    _move_clock(app, email, idle=timedelta(minutes=31))
    response = client.get("/operator/outbox", headers={"Accept-Language": "de-DE,de;q=0.9"})
    _assert_signed_out(response)
    page = client.get(response.headers["Location"], headers={"Accept-Language": "de"})
    assert EXPIRED["de"] in page.get_data(as_text=True)


def test_a_new_sign_in_after_expiry_works(app, data):
    client, email = _sign_in(app, data, Role.EMPLOYER_ADMIN)
    _move_clock(app, email, idle=timedelta(minutes=31))
    _assert_signed_out(client.get("/admin/employees"))
    assert AuthActions(client).login(email).status_code == 302
    assert client.get("/admin/employees").status_code == 200
    with app.app_context():
        open_rows = db.session.scalar(
            select(func.count())
            .select_from(SignIn)
            .join(User)
            .where(User.email == email, SignIn.revoked_at.is_(None))
        )
    assert open_rows == 1


def test_limits_are_settings(app, data, monkeypatch, tmp_path):
    monkeypatch.setenv("STAFF_IDLE_MINUTES", "45")
    monkeypatch.setenv("STAFF_SESSION_HOURS", "8")
    config = Config(tmp_path)
    assert (config.STAFF_IDLE_MINUTES, config.STAFF_SESSION_HOURS) == (45, 8)
    monkeypatch.delenv("STAFF_IDLE_MINUTES")
    monkeypatch.delenv("STAFF_SESSION_HOURS")
    assert (Config(tmp_path).STAFF_IDLE_MINUTES, Config(tmp_path).STAFF_SESSION_HOURS) == (30, 12)
    # The app reads them at each request.
    app.config["STAFF_IDLE_MINUTES"] = 5
    client, email = _sign_in(app, data, Role.EMPLOYER_ADMIN)
    _move_clock(app, email, idle=timedelta(minutes=4))
    assert client.get("/admin/employees").status_code == 200
    _move_clock(app, email, idle=timedelta(minutes=6))
    _assert_signed_out(client.get("/admin/employees"))
    app.config["STAFF_SESSION_HOURS"] = 1
    client, email = _sign_in(app, data, Role.SUPPORT)
    _move_clock(app, email, age=timedelta(minutes=61))
    _assert_signed_out(client.get("/support/"))


def test_account_page_lists_no_expired_staff_sign_in(app, data):
    laptop, email = _sign_in(app, data, Role.EMPLOYER_ADMIN)
    tablet = app.test_client()
    tablet.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (iPad; CPU OS 17_0) Safari/605.1"
    assert AuthActions(tablet).login(email).status_code == 302
    assert "Safari · iPad" in laptop.get("/account").get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(SignIn).where(SignIn.device_label == "Safari · iPad"))
        row.last_seen_at = utcnow() - timedelta(minutes=40)
        db.session.commit()
    page = laptop.get("/account").get_data(as_text=True)
    assert "Safari · iPad" not in page
    _assert_signed_out(tablet.get("/admin/employees"))
