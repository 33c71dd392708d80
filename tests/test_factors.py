"""Second factors: TOTP enrolment and codes, recovery codes, enrolment-only sign-ins, step-up,
removing factors, per-company requirement; passwords; one-time links that leak less."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.conftest import AuthActions
from tests.factories import PASSWORD, totp_code
from tests.helpers import capture_mail, post_form
from web.extensions import db
from web.models import (
    ActionToken,
    AuditEvent,
    Company,
    Employee,
    RecoveryCode,
    Role,
    SigningKey,
    TotpFactor,
    User,
)


@pytest.fixture
def mail_outbox(monkeypatch) -> list[dict[str, str]]:
    return capture_mail(monkeypatch)


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _secret_on(html: str) -> str:
    match = re.search(r'totp-secret"><code>([A-Z2-7 ]+)</code>', html)
    assert match, "no key shown for typing"
    return match.group(1).replace(" ", "")


def _enrol_totp(client) -> tuple[str, list[str]]:
    page = client.get("/account/totp")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<svg class="qr"' in html  # the QR to scan
    secret = _secret_on(html)
    response = post_form(client, "/account/totp", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.data
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", response.get_data(as_text=True))
    return secret, codes


def _next_code(secret: str, used_step: int) -> str:
    """A code for a step after ``used_step`` (waits for it when needed)."""
    while int(time.time() // 30) + 1 <= used_step:
        time.sleep(1)
    return pyotp.TOTP(secret).at((used_step + 1) * 30)


def _set_verified_minutes_ago(client, minutes: int) -> None:
    with client.session_transaction() as session:
        session["verified_at"] = int(time.time()) - minutes * 60


# --- enrolment and codes ----------------------------------------------------------------------


def test_staff_without_factor_reaches_only_enrolment_then_enrols_totp(
    app, client, data, mail_outbox
):
    data.user(Role.SUPPORT, email="new.agent@example.com", totp=False)
    response = AuthActions(client).login("new.agent@example.com")
    assert response.headers["Location"] == "/account/security"
    # Every staff page sends back to enrolment; htmx gets an HX-Redirect; the API the same.
    assert client.get("/support/").headers["Location"] == "/account/security"
    assert client.get("/account").headers["Location"] == "/account/security"
    htmx = client.get("/support/", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/account/security"
    assert client.get("/account/security").status_code == 200

    page = client.get("/account/totp").get_data(as_text=True)
    secret = _secret_on(page)
    wrong = post_form(client, "/account/totp", {"code": "000000"}, token_from="/account/totp")
    assert wrong.status_code == 400 and b"That code is wrong" in wrong.data
    with app.app_context():
        assert db.session.scalar(select(TotpFactor)) is None  # nothing changed
    response = post_form(client, "/account/totp", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", response.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        factor = db.session.scalar(select(TotpFactor))
        assert secret.encode() not in factor.secret_encrypted  # encrypted at rest
    assert len(stored) == 10 and not any(c.replace("-", "") in h for c in codes for h in stored)
    assert client.get("/support/").status_code == 200  # enrolled: the console opens
    actions = _actions(app)
    assert "auth.factor_failed" in actions and "auth.factor_added" in actions
    assert any("authenticator app was set up" in m["body"] for m in mail_outbox)


def test_totp_sign_in_replay_and_recovery_code_once(app, data):
    data.user(Role.OPERATOR, email="ops@example.com", totp=False)
    first = app.test_client()
    AuthActions(first).login("ops@example.com")
    secret, codes = _enrol_totp(first)
    with app.app_context():
        used_step = db.session.scalar(select(TotpFactor.last_used_step))

    # The code used at enrolment is refused at sign-in: replay.
    client = app.test_client()
    post_form(client, "/login", {"email": "ops@example.com", "password": PASSWORD})
    replay = post_form(client, "/login/factor", {"code": pyotp.TOTP(secret).at(used_step * 30)})
    assert replay.status_code == 401 and b"already used" in replay.data
    assert "auth.totp_replayed" in _actions(app)
    assert client.get("/operator/").status_code == 302  # not signed in

    # A fresh code works once; the same code again is refused.
    fresh = _next_code(secret, used_step)
    ok = post_form(client, "/login/factor", {"code": fresh})
    assert ok.status_code == 302 and ok.headers["Location"] == "/operator/outbox"
    again = app.test_client()
    post_form(again, "/login", {"email": "ops@example.com", "password": PASSWORD})
    assert post_form(again, "/login/factor", {"code": fresh}).status_code == 401

    # A recovery code signs in once, never twice.
    third = app.test_client()
    post_form(third, "/login", {"email": "ops@example.com", "password": PASSWORD})
    assert post_form(third, "/login/factor", {"code": codes[0].lower()}).status_code == 302
    fourth = app.test_client()
    post_form(fourth, "/login", {"email": "ops@example.com", "password": PASSWORD})
    assert post_form(fourth, "/login/factor", {"code": codes[0]}).status_code == 401
    assert "auth.recovery_code_used" in _actions(app)


def test_wrong_codes_end_the_pending_sign_in(app, client, data):
    data.user(Role.SUPPORT, email="agent@example.com")
    post_form(client, "/login", {"email": "agent@example.com", "password": PASSWORD})
    for _ in range(4):
        assert post_form(client, "/login/factor", {"code": "123456"}).status_code == 401
    fifth = post_form(client, "/login/factor", {"code": "123456"})
    assert fifth.status_code == 302 and fifth.headers["Location"] == "/login"
    assert client.get("/login/factor").headers["Location"] == "/login"


def test_password_alone_never_signs_staff_in(app, client, data):
    data.user(Role.OPERATOR, email="ops@example.com")
    response = post_form(client, "/login", {"email": "ops@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/login/factor"
    assert client.get("/operator/outbox").status_code == 302
    assert client.get("/account").status_code == 302


# --- step-up ----------------------------------------------------------------------------------


def test_key_revocation_asks_for_the_factor_after_10_minutes(app, client, data):
    from web.certificates.keys import create_signing_key

    data.user(Role.OPERATOR, email="ops@example.com")
    with app.app_context():
        kid = create_signing_key("provisional", activate=True).kid
        db.session.commit()
    assert AuthActions(client).login("ops@example.com").status_code == 302
    _set_verified_minutes_ago(client, 11)
    form = {"kid": kid, "reason": "laptop stolen"}
    response = post_form(
        client,
        "/operator/keys/revoke",
        form,
        token_from="/operator/keys",
        headers={"Referer": "http://localhost/operator/keys"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/confirm?next=/operator/keys")
    with app.app_context():
        assert db.session.get(SigningKey, kid).state == "active"  # nothing changed
    confirmed = post_form(
        client, "/account/confirm?next=/operator/keys", {"code": totp_code("ops@example.com")}
    )
    assert confirmed.headers["Location"] == "/operator/keys"
    done = post_form(client, "/operator/keys/revoke", form, token_from="/operator/keys")
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(SigningKey, kid).state == "revoked"
    assert "auth.step_up" in _actions(app)


def test_step_up_refuses_a_wrong_code(app, client, data):
    data.user(Role.OPERATOR, email="ops@example.com")
    AuthActions(client).login("ops@example.com")
    _set_verified_minutes_ago(client, 11)
    response = post_form(client, "/account/confirm", {"code": "999999"})
    assert response.status_code == 401 and b"That code is wrong" in response.data
    assert "auth.factor_failed" in _actions(app)


def test_export_of_all_trips_asks_again_after_10_minutes(app, client, data):
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="boss@example.com")
    AuthActions(client).login("boss@example.com")
    assert client.get("/admin/coverage.csv").status_code == 200  # just signed in
    _set_verified_minutes_ago(client, 11)
    response = client.get("/admin/coverage.csv?country=FR")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/confirm?next=")
    # No factor yet: the password is asked again.
    wrong = post_form(client, response.headers["Location"], {"password": "not my password"})
    assert wrong.status_code == 401
    ok = post_form(client, response.headers["Location"], {"password": PASSWORD})
    assert ok.headers["Location"] == "/admin/coverage.csv?country=FR"
    assert client.get("/admin/coverage.csv").status_code == 200


# --- removing factors, company requirement ----------------------------------------------------


def test_staff_cannot_remove_their_last_factor_another_operator_can(app, data, mail_outbox):
    agent_id = data.user(Role.SUPPORT, email="agent@example.com")
    data.user(Role.OPERATOR, email="ops@example.com")
    agent = app.test_client()
    AuthActions(agent).login("agent@example.com")
    refused = post_form(
        agent, "/account/totp/remove", {"factor": "totp"}, token_from="/account/security"
    )
    assert refused.status_code == 409 and b"last second factor" in refused.data
    with app.app_context():
        assert db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == agent_id))
    assert "auth.factor_remove_refused" in _actions(app)

    ops = app.test_client()
    AuthActions(ops).login("ops@example.com")
    self_reset = post_form(
        ops,
        "/account/staff-factors/reset",
        {"email": "ops@example.com"},
        token_from="/account/security",
    )
    assert self_reset.status_code == 400
    done = post_form(
        ops,
        "/account/staff-factors/reset",
        {"email": "agent@example.com"},
        token_from="/account/security",
    )
    assert done.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == agent_id)) is None
    assert "auth.factors_reset" in _actions(app)
    assert any(m["to"] == "agent@example.com" for m in mail_outbox)
    # The agent's sign-in ended with it; the next one reaches only enrolment.
    assert agent.get("/support/").status_code == 302
    again = app.test_client()
    assert AuthActions(again).login("agent@example.com").headers["Location"] == "/account/security"


def test_company_can_require_a_factor_for_its_admins(app, client, data):
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="boss@example.com")
    AuthActions(client).login("boss@example.com")
    # Not yet required: the admin is asked, not forced.
    page = client.get("/admin/employees")
    assert page.status_code == 200 and b"Protect your account" in page.data
    refused = post_form(
        client, "/account/company-factor", {"require": "y"}, token_from="/account/security"
    )
    assert refused.status_code == 409  # enrol yourself first
    with app.app_context():
        db.session.get(Company, company).require_second_factor = True
        db.session.commit()
    other = app.test_client()
    assert AuthActions(other).login("boss@example.com").headers["Location"] == "/account/security"
    assert other.get("/admin/employees").headers["Location"] == "/account/security"


# --- passwords --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weak",
    ["Password2026", "password123456", "qwertyuiopasdf", "anna.mueller2026", "short one"],
)
def test_weak_and_common_passwords_are_refused(app, client, data, weak):
    company = data.company()
    employee_id = data.employee(company, email="anna.mueller@example.com")
    AuthActions(client).login("anna.mueller@example.com")
    with app.app_context():
        before = db.session.get(Employee, employee_id).user.password_hash
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": weak, "confirm": weak},
        token_from="/account",
    )
    assert response.status_code == 400
    assert b"too easy to guess" in response.data or b"at least 12" in response.data
    with app.app_context():
        assert db.session.get(Employee, employee_id).user.password_hash == before


def test_weak_password_message_is_translated(app, client, data):
    company = data.company()
    data.employee(company, email="jean@example.com", locale="fr")
    AuthActions(client).login("jean@example.com")
    post_form(client, "/language", {"lang": "fr", "next": "/account"}, token_from="/account")
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "Password2026", "confirm": "Password2026"},
        token_from="/account",
    )
    assert response.status_code == 400
    assert "facile à deviner" in response.get_data(as_text=True)


def test_an_old_hash_is_upgraded_at_sign_in(app, client, data):
    company = data.company()
    employee_id = data.employee(company, email="old@example.com")
    with app.app_context():
        user = db.session.get(Employee, employee_id).user
        user.password_hash = generate_password_hash(PASSWORD, method="scrypt:16384:8:1")
        db.session.commit()
    assert AuthActions(client).login("old@example.com").status_code == 302
    with app.app_context():
        upgraded = db.session.get(Employee, employee_id).user.password_hash
    assert upgraded.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert "auth.password_rehashed" in _actions(app)


def test_production_hash_parameters_follow_owasp(tmp_path, monkeypatch):
    from web.config import Config

    monkeypatch.delenv("PASSWORD_HASH_METHOD", raising=False)
    assert Config(tmp_path).PASSWORD_HASH_METHOD == "scrypt:131072:8:1"


# --- one-time links ---------------------------------------------------------------------------


def _issue(app, user_id: int, purpose: str) -> str:
    from web.auth.services import issue_action_token

    with app.app_context(), app.test_request_context():
        token = issue_action_token(db.session.get(User, user_id), purpose)
        db.session.commit()
    return token


def test_reset_token_leaves_the_url_at_first_open(app, data):
    company = data.company()
    employee_id = data.employee(company, email="reset.me@example.com")
    with app.app_context():
        user_id = db.session.get(Employee, employee_id).user_id
    token = _issue(app, user_id, "reset")
    client = app.test_client()
    paths: list[str] = []
    first = client.get(f"/reset-password/{token}")
    assert first.status_code == 302 and token not in first.headers["Location"]
    for path in (first.headers["Location"], "/choose-password"):
        paths.append(path)
    form = client.get("/choose-password")
    assert form.status_code == 200 and token.encode() not in form.data
    done = post_form(
        client,
        "/choose-password",
        {"password": "violet kettle dances", "confirm": "violet kettle dances"},
    )
    assert done.status_code == 302
    assert all(token not in p for p in paths)
    # The URL a proxy logged is worth nothing: opened once, it answers 404 everywhere.
    assert app.test_client().get(f"/reset-password/{token}").status_code == 404
    assert "auth.link_refused" in _actions(app)
    assert (
        AuthActions(app.test_client())
        .login("reset.me@example.com", "violet kettle dances")
        .status_code
        == 302
    )


def test_an_opened_link_works_only_in_that_browser_and_only_briefly(app, data):
    company = data.company()
    employee_id = data.employee(company, password=None)
    with app.app_context():
        user_id = db.session.get(Employee, employee_id).user_id
    token = _issue(app, user_id, "invite")
    opener = app.test_client()
    opener.get(f"/invitation/{token}")
    stranger = app.test_client()
    assert stranger.get("/choose-password").status_code == 404
    with app.app_context():
        row = db.session.scalar(select(ActionToken))
        from datetime import timedelta

        row.opened_at = row.opened_at - timedelta(minutes=16)
        db.session.commit()
    assert opener.get("/choose-password").status_code == 404


def test_links_die_when_the_email_changes(app, data):
    company = data.company()
    employee_id = data.employee(company, email="typo@exmaple.com", password=None)
    with app.app_context():
        user_id = db.session.get(Employee, employee_id).user_id
    token = _issue(app, user_id, "invite")
    with app.app_context():
        db.session.get(User, user_id).email = "right@example.com"
        db.session.commit()
    assert app.test_client().get(f"/invitation/{token}").status_code == 404


def test_reset_links_die_when_the_password_changes(app, client, data):
    company = data.company()
    employee_id = data.employee(company, email="change@example.com")
    with app.app_context():
        user_id = db.session.get(Employee, employee_id).user_id
    token = _issue(app, user_id, "reset")
    AuthActions(client).login("change@example.com")
    changed = post_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "password": "quiet orbit mango",
            "confirm": "quiet orbit mango",
        },
        token_from="/account",
    )
    assert changed.status_code == 302
    assert app.test_client().get(f"/reset-password/{token}").status_code == 404


def test_reset_requests_are_limited_per_account(app, data):
    from web.auth.services import RESET, issue_action_token, may_request_reset

    company = data.company()
    employee_id = data.employee(company)
    with app.app_context(), app.test_request_context():
        user = db.session.get(Employee, employee_id).user
        for _ in range(app.config["RESET_REQUESTS_PER_HOUR"]):
            assert may_request_reset(user)
            issue_action_token(user, RESET)
        db.session.commit()
        assert not may_request_reset(user)


def test_login_page_mentions_the_shared_device_and_passkeys(client):
    html = client.get("/login").get_data(as_text=True)
    assert "nothing personal is kept for offline use" in html
    assert 'data-passkey="sign-in"' in html and "/static/js/passkeys.js" in html
