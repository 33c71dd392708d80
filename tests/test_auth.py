"""Login, logout, per-device sign-ins, remember-me, invitations and password reset."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD
from tests.helpers import capture_mail, create_invitation_link, csrf_token, post_form
from web.extensions import db
from web.models import AuditEvent, Role, SignIn, User


@pytest.fixture
def employee_email(data) -> str:
    company = data.company()
    return data.email_of_employee(data.employee(company))


@pytest.fixture
def mail_outbox(monkeypatch) -> list[dict[str, str]]:
    return capture_mail(monkeypatch)


def _cookie(client, name):
    return client.get_cookie(name)


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="email"' in response.data and b'name="password"' in response.data


def test_employee_login_lands_in_wallet_and_is_remembered(client, auth, employee_email):
    response = auth.login(employee_email)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/wallet/")
    assert _cookie(client, "remember_token") is not None
    assert client.get("/wallet/").status_code == 200


def test_shared_device_login_is_not_remembered(client, auth, employee_email):
    auth.login(employee_email, shared_device="y")
    assert _cookie(client, "remember_token") is None
    assert client.get("/wallet/").status_code == 200


def test_admin_is_not_remembered(client, auth, data):
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="boss@example.com")
    response = auth.login("boss@example.com")
    assert response.headers["Location"].endswith("/admin/employees")
    assert _cookie(client, "remember_token") is None


def test_wrong_password_is_refused_and_audited(client, auth, app, employee_email):
    response = auth.login(employee_email, password="wrong password")
    assert response.status_code == 401
    assert b"Wrong email or password" in response.data
    assert client.get("/wallet/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))


def test_unknown_email_gets_the_same_answer(auth):
    response = auth.login("nobody@example.com")
    assert response.status_code == 401
    assert b"Wrong email or password" in response.data


def test_inactive_user_cannot_login(auth, app, employee_email):
    with app.app_context():
        db.session.scalar(select(User).where(User.email == employee_email)).active = False
        db.session.commit()
    assert auth.login(employee_email).status_code == 401


def test_password_of_64_and_more_characters(app, client, auth, data):
    long_password = "ü" * 40 + "x" * 60  # 100 characters, non-ASCII included
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="long@example.com", password=long_password)
    assert auth.login("long@example.com", password=long_password).status_code == 302


def test_logout_revokes_session_and_remember_cookie_replay(client, auth, app, employee_email):
    auth.login(employee_email)
    session_cookie = _cookie(client, "session").value
    remember_cookie = _cookie(client, "remember_token").value
    response = auth.logout()
    assert response.status_code == 302
    assert '"cache"' in response.headers["Clear-Site-Data"]
    # An attacker (or a late response) replays both cookies: refused.
    attacker = app.test_client()
    attacker.set_cookie("session", session_cookie)
    attacker.set_cookie("remember_token", remember_cookie)
    assert attacker.get("/wallet/").status_code == 302
    attacker.delete_cookie("session")
    assert attacker.get("/wallet/").status_code == 302


def test_remember_cookie_alone_restores_the_session_until_revoked(
    client, auth, app, employee_email
):
    auth.login(employee_email)
    remember_cookie = _cookie(client, "remember_token").value
    phone = app.test_client()
    phone.set_cookie("remember_token", remember_cookie)
    assert phone.get("/wallet/").status_code == 200  # the wallet opens abroad without a login
    auth.logout()
    other = app.test_client()
    other.set_cookie("remember_token", remember_cookie)
    assert other.get("/wallet/").status_code == 302


def test_logout_revokes_only_that_device(app, auth, employee_email):
    laptop = app.test_client()
    phone = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(laptop).login(employee_email)
    AuthActions(phone).login(employee_email)
    AuthActions(laptop).logout()
    assert laptop.get("/wallet/").status_code == 302
    assert phone.get("/wallet/").status_code == 200


def test_sign_out_everywhere(app, employee_email):
    from tests.conftest import AuthActions

    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login(employee_email)
    AuthActions(phone).login(employee_email)
    replay = phone.get_cookie("session").value
    response = post_form(laptop, "/account/sign-out-everywhere", token_from="/account")
    assert response.status_code == 302
    assert laptop.get("/wallet/").status_code == 302
    assert phone.get("/wallet/").status_code == 302
    attacker = app.test_client()
    attacker.set_cookie("session", replay)
    assert attacker.get("/wallet/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(SignIn).where(SignIn.revoked_at.is_(None))) is None


def test_password_change_revokes_every_sign_in(app, employee_email):
    from tests.conftest import AuthActions

    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login(employee_email)
    AuthActions(phone).login(employee_email)
    response = post_form(
        laptop,
        "/account/password",
        {
            "current_password": PASSWORD,
            "password": "a new passphrase here",
            "confirm": "a new passphrase here",
        },
        token_from="/account",
    )
    assert response.status_code == 302
    assert phone.get("/wallet/").status_code == 302
    assert laptop.get("/wallet/").status_code == 302
    assert (
        AuthActions(app.test_client()).login(employee_email, "a new passphrase here").status_code
        == 302
    )
    assert AuthActions(app.test_client()).login(employee_email, PASSWORD).status_code == 401


def test_password_change_needs_the_current_password(client, auth, employee_email):
    auth.login(employee_email)
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": "not it",
            "password": "a new passphrase here",
            "confirm": "a new passphrase here",
        },
        token_from="/account",
    )
    assert response.status_code == 400
    assert b"current password is wrong" in response.data
    assert client.get("/wallet/").status_code == 200


def test_account_lists_devices_and_signs_out_one(app, employee_email):
    from tests.conftest import AuthActions

    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login(employee_email, **{})
    phone.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile"
    AuthActions(phone).login(employee_email)
    page = laptop.get("/account").get_data(as_text=True)
    assert "Chrome · Android" in page
    with app.app_context():
        phone_sign_in = db.session.scalar(
            select(SignIn).where(SignIn.device_label == "Chrome · Android")
        )
    post_form(
        laptop,
        "/account/devices/sign-out",
        {"device": phone_sign_in.logout_token},
        token_from="/account",
    )
    assert phone.get("/wallet/").status_code == 302
    assert laptop.get("/wallet/").status_code == 200


def test_cannot_sign_out_another_users_device(app, data, employee_email):
    from tests.conftest import AuthActions

    company = data.company()
    other_email = data.email_of_employee(data.employee(company))
    victim, attacker = app.test_client(), app.test_client()
    AuthActions(victim).login(other_email)
    AuthActions(attacker).login(employee_email)
    with app.app_context():
        victim_sign_in = db.session.scalar(
            select(SignIn).join(User).where(User.email == other_email)
        )
    response = post_form(
        attacker,
        "/account/devices/sign-out",
        {"device": victim_sign_in.logout_token},
        token_from="/account",
    )
    assert response.status_code == 404
    assert victim.get("/wallet/").status_code == 200


def test_login_redirects_only_to_local_next(client, data, auth, employee_email):
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=https://evil.example/x",
        data={"email": employee_email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"].endswith("/wallet/")


def test_htmx_request_without_login_gets_hx_redirect(client):
    response = client.get("/admin/employees?q=a", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def _client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_login_failures_slow_down_only_that_client_on_that_account(app, employee_email):
    """Growing delays per (account, client): the guessing client waits, nobody else does."""
    from tests.conftest import AuthActions

    app.config["LOGIN_FREE_FAILURES"] = 3
    guesser = AuthActions(_client_at(app, "203.0.113.7"))
    for _ in range(3):
        assert guesser.login(employee_email, "bad guess").status_code == 401
    throttled = guesser.login(employee_email)  # the delay starts: even the right password waits
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert b"Try again in" in throttled.data
    # The owner, from a client that never failed, gets in with the right password.
    assert AuthActions(_client_at(app, "198.51.100.2")).login(employee_email).status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "auth.login_throttled" in actions


def test_fifty_failures_from_other_clients_do_not_lock_the_owner_out(app, data, mail_outbox):
    """50 failed logins from 50 clients: the owner's correct sign-in (password + app code) from
    a fresh client works; the operators are told the account is under attack, once."""
    from tests.conftest import AuthActions

    app.config["LOGIN_LIMIT_PER_CLIENT"] = "1000 per minute"
    operator_id = data.user(Role.OPERATOR, email="ops-watch@example.com")
    data.user(Role.SUPPORT, email="agent-under-attack@example.com")
    for i in range(50):
        response = AuthActions(_client_at(app, f"192.0.2.{i + 1}")).login(
            "agent-under-attack@example.com", f"guess number {i}"
        )
        assert response.status_code == 401
    owner = AuthActions(_client_at(app, "2001:db8:1:2::5"))
    response = owner.login("agent-under-attack@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/support/"
    with app.app_context():
        reports = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.account_under_attack")
        ).all()
        assert len(reports) == 1 and reports[0].outcome == "denied"
        operator_email = db.session.get(User, operator_id).email
    mailed = [m for m in mail_outbox if m["to"] == operator_email]
    assert len(mailed) == 1 and "under attack" in mailed[0]["subject"]


def test_ipv6_clients_are_counted_per_64(app, employee_email):
    from tests.conftest import AuthActions

    app.config["LOGIN_FREE_FAILURES"] = 2
    for host in ("::1", "::2", "::3"):
        AuthActions(_client_at(app, f"2001:db8:aa:bb{host}")).login(employee_email, "bad guess")
    # Another address of the same /64 is the same client: it waits.
    assert (
        AuthActions(_client_at(app, "2001:db8:aa:bb::99")).login(employee_email).status_code == 429
    )


def test_login_is_throttled_per_client(app, client, data):
    app.config["LOGIN_LIMIT_PER_CLIENT"] = "3 per 10 minutes"
    from tests.conftest import AuthActions

    actions = AuthActions(client)
    for i in range(3):
        assert actions.login(f"user{i}@example.com", "bad guess").status_code == 401
    response = actions.login("someone-else@example.com", "bad guess")
    assert response.status_code == 429
    assert b"Too many attempts" in response.data
    assert int(response.headers["Retry-After"]) > 0


def test_invitation_sets_password_once(app, client, auth, data):
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="boss@example.com")
    auth.login("boss@example.com")
    response = post_form(
        client,
        "/admin/employees/new",
        {
            "email": "new.hire@example.com",
            "family_name": "Nowak",
            "given_names": "Ewa",
            "birth_date": "1990-05-06",
            "nationality": "PL",
            "residence_state": "PL",
            "home_state": "PL",
        },
    )
    assert response.status_code == 302
    employee_id = int(response.headers["Location"].rsplit("/", 1)[1])
    link = create_invitation_link(client, employee_id)
    path = link.split("a1.example.test", 1)[1]
    newcomer = app.test_client()
    opened = newcomer.get(path)
    assert opened.status_code == 302 and opened.headers["Location"] == "/choose-password"
    set_response = post_form(
        newcomer,
        "/choose-password",
        {"password": "my own passphrase", "confirm": "my own passphrase"},
    )
    # Signed in at once (no login form in between); the password works for the next sign-in.
    assert set_response.status_code == 302 and set_response.headers["Location"] == "/wallet/"
    assert newcomer.get("/wallet/").status_code == 200
    from tests.conftest import AuthActions

    fresh = AuthActions(app.test_client())
    assert fresh.login("new.hire@example.com", "my own passphrase").status_code == 302
    # The link works once.
    assert app.test_client().get(path).status_code == 404


def test_invitation_expires_after_7_days(app, data):
    from datetime import timedelta

    from web.auth.services import INVITE, issue_action_token, peek_action_token
    from web.models import ActionToken

    company = data.company()
    employee_id = data.employee(company, password=None)
    with app.app_context(), app.test_request_context():
        from web.models import Employee

        user = db.session.get(Employee, employee_id).user
        token = issue_action_token(user, INVITE)
        db.session.commit()
        row = db.session.scalar(select(ActionToken))
        assert row.expires_at - row.created_at == timedelta(days=7)
        assert peek_action_token(token, INVITE) is not None
        row.expires_at = row.created_at - timedelta(seconds=1)
        db.session.commit()
        assert peek_action_token(token, INVITE) is None


def test_password_reset_flow_and_no_enumeration(app, client, employee_email, caplog, monkeypatch):
    from web.auth.reset import wait_for_pending_resets
    from web.mail import MailResult

    app.config["MAIL_SERVER"] = "smtp.example.test"
    mailed: list[str] = []

    def fake_send_mail(to: str, subject: str, body: str, *, template: str) -> MailResult:
        mailed.append(body)
        return MailResult(delivered=True)

    monkeypatch.setattr("web.auth.reset.send_mail", fake_send_mail)
    caplog.set_level("INFO")
    unknown = post_form(client, "/reset-password", {"email": "nobody@example.com"})
    known = post_form(client, "/reset-password", {"email": employee_email})
    assert unknown.status_code == known.status_code == 302
    wait_for_pending_resets()
    assert employee_email not in caplog.text
    assert len(mailed) == 1  # the unknown address got nothing
    link = re.search(r"https://a1\.example\.test(/reset-password/\S+)", mailed[0])
    path = link.group(1)
    assert path not in caplog.text  # the link is mailed, never logged
    assert client.get(path).headers["Location"] == "/choose-password"
    response = post_form(
        client,
        "/choose-password",
        {"password": "reset passphrase ok", "confirm": "reset passphrase ok"},
    )
    assert response.status_code == 302
    from tests.conftest import AuthActions

    assert (
        AuthActions(app.test_client()).login(employee_email, "reset passphrase ok").status_code
        == 302
    )
    assert client.get(path).status_code == 404


def test_new_password_rules(client, app, data):
    from web.auth.services import INVITE, issue_action_token

    company = data.company()
    employee_id = data.employee(company, password=None)
    with app.app_context(), app.test_request_context():
        from web.models import Employee

        token = issue_action_token(db.session.get(Employee, employee_id).user, INVITE)
        db.session.commit()
    assert client.get(f"/invitation/{token}").status_code == 302
    path = "/choose-password"
    short = post_form(client, path, {"password": "short", "confirm": "short"})
    assert short.status_code == 400 and b"at least 12" in short.data
    differ = post_form(client, path, {"password": "long enough one", "confirm": "long enough two"})
    assert differ.status_code == 400 and b"differ" in differ.data
    ok = post_form(client, path, {"password": "long enough one", "confirm": "long enough one"})
    assert ok.status_code == 302


# --- cookies replayed after the sign-in ended ---------------------------------------------------


def _end_sign_in(how: str, app, victim, other, email: str) -> None:
    """End the ``victim`` client's sign-in the way ``how`` says (``other`` is a second device)."""
    from tests.conftest import AuthActions

    if how == "logout":
        assert AuthActions(victim).logout().status_code == 302
    elif how == "sign_out_everywhere":
        response = post_form(other, "/account/sign-out-everywhere", token_from="/account")
        assert response.status_code == 302
    elif how == "password_change":
        response = post_form(
            other,
            "/account/password",
            {
                "current_password": PASSWORD,
                "password": "a new passphrase here",
                "confirm": "a new passphrase here",
            },
            token_from="/account",
        )
        assert response.status_code == 302
    elif how == "device_signed_out":
        with app.app_context():
            token = db.session.scalar(
                select(SignIn.logout_token)
                .join(User)
                .where(User.email == email, SignIn.device_label == "Firefox · Linux")
            )
        assert token
        response = post_form(
            other, "/account/devices/sign-out", {"device": token}, token_from="/account"
        )
        assert response.status_code == 302
    else:  # pragma: no cover - a typo in the parameters
        raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["logout", "sign_out_everywhere", "password_change", "device_signed_out"]
)
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.EMPLOYER_ADMIN], ids=lambda r: r.value)
def test_cookies_replayed_after_the_sign_in_ended_are_refused(app, data, how, role):
    """A copy of the session cookie, of the remember cookie, or of both, taken while signed in,
    opens nothing once the sign-in ended, and does not bring the sign-in back."""
    from tests.conftest import AuthActions

    company = data.company()
    if role is Role.EMPLOYEE:
        email, home = data.email_of_employee(data.employee(company)), "/wallet/"
    else:
        email, home = "replay-admin@example.com", "/admin/employees"
        data.user(role, company, email=email)
    victim, other = app.test_client(), app.test_client()
    victim.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"
    AuthActions(victim).login(email)
    AuthActions(other).login(email)
    assert victim.get(home).status_code == 200
    stolen = {name: victim.get_cookie(name) for name in ("session", "remember_token")}
    assert stolen["session"] is not None
    # Employees are remembered for 90 days; staff sign in per session.
    assert (stolen["remember_token"] is not None) == (role is Role.EMPLOYEE)
    # Before the end, each copy works on its own (so the refusals below are the revocation's).
    for name, cookie in stolen.items():
        if cookie is not None:
            copy = app.test_client()
            copy.set_cookie(name, cookie.value)
            assert copy.get(home).status_code == 200, name

    _end_sign_in(how, app, victim, other, email)

    combinations = [("session",), ("remember_token",), ("session", "remember_token")]
    for names in combinations:
        if any(stolen[name] is None for name in names):
            continue
        attacker = app.test_client()
        for name in names:
            attacker.set_cookie(name, stolen[name].value)
        response = attacker.get(home)
        assert response.status_code == 302, (how, names)
        assert "/login" in response.headers["Location"], (how, names)
        assert attacker.get("/account").status_code == 302, (how, names)
    # The victim's own client, with whatever cookies it still holds, is signed out too.
    assert victim.get(home).status_code == 302
    with app.app_context():
        victim_row = db.session.scalar(
            select(SignIn)
            .join(User)
            .where(User.email == email, SignIn.device_label == "Firefox · Linux")
        )
        assert victim_row.revoked_at is not None


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
            "Chrome · Android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/605.1",
            "Safari · iPhone",
        ),
        ("curl/8.0", ""),
    ],
)
def test_device_labels_hold_names_only(user_agent, label):
    """The label is stored and shown in every language: no English words in it ("on", "Browser")."""
    from web.auth.services import device_label

    assert device_label(user_agent) == label
