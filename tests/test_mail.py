"""Mail that leaks nothing: no body, link or token in the log on any mail path; a password reset
is refused when no mail server could deliver it; verified TLS to the mail server; "forgot
password" answers without waiting for the lookup and the mail."""

from __future__ import annotations

import logging
import re
import ssl
import threading

import pytest
from sqlalchemy import func, select

from app import create_app
from tests.conftest import AuthActions, base_config
from tests.helpers import create_invitation_link, post_form
from web import mail
from web.auth.reset import wait_for_pending_resets
from web.extensions import db
from web.models import ActionToken, AuditEvent, Role

SECRET_PATTERNS = (
    re.compile(r"/reset-password/\S+"),
    re.compile(r"/invitation/\S+"),
    re.compile(r"Open this link"),
    re.compile(r"https://a1\.example\.test/"),
)


@pytest.fixture
def employee_email(data) -> str:
    return data.email_of_employee(data.employee(data.company("Acme"), email="ewa@example.com"))


class FakeSMTP:
    """Stands in for smtplib.SMTP / SMTP_SSL: records what the app did with the connection."""

    sent: list = []
    calls: list = []

    def __init__(self, host, port, timeout=None, context=None) -> None:
        FakeSMTP.calls.append(("connect", type(self).__name__, host, port, context))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def starttls(self, context=None) -> None:
        FakeSMTP.calls.append(("starttls", context))

    def login(self, user, password) -> None:
        FakeSMTP.calls.append(("login", user))

    def send_message(self, message) -> None:
        FakeSMTP.sent.append(message)

    def close(self) -> None:
        pass


class FakeSMTPSSL(FakeSMTP):
    pass


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.sent, FakeSMTP.calls = [], []
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(mail.smtplib, "SMTP_SSL", FakeSMTPSSL)
    app.config.update(MAIL_SERVER="smtp.example.test", MAIL_PORT=587, MAIL_USE_TLS=True)
    return FakeSMTP


def _assert_nothing_secret(text: str, *secrets: str) -> None:
    for pattern in SECRET_PATTERNS:
        assert not pattern.search(text), pattern.pattern
    for secret in secrets:
        assert secret not in text


def test_without_a_mail_server_the_log_names_the_template_and_a_hash_only(app, caplog):
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        result = mail.send_mail(
            "Ewa@Example.com",
            "Your subject",
            "Body with https://a1.example.test/invitation/TOKEN123",
            template="invitation",
        )
    assert result.delivered is False
    _assert_nothing_secret(caplog.text, "TOKEN123", "Body with", "Your subject", "ewa@")
    assert "template=invitation" in caplog.text
    assert mail.recipient_hash("ewa@example.com") in caplog.text


def test_invitation_link_is_shown_to_the_admin_and_never_logged(app, client, data, caplog):
    caplog.set_level(logging.DEBUG)
    company = data.company("Acme")
    data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    AuthActions(client).login("admin@example.com")
    response = post_form(
        client,
        "/admin/employees/new",
        {
            "email": "new.worker@example.com",
            "family_name": "Nowak",
            "given_names": "Ewa",
            "birth_date": "1990-05-06",
            "nationality": "PL",
            "residence_state": "PL",
            "home_state": "DE",
        },
        token_from="/admin/employees",
    )
    employee_id = int(response.headers["Location"].rsplit("/", 1)[1])
    link = create_invitation_link(client, employee_id)  # the admin sees it on screen, once
    token = link.rsplit("/", 1)[1]
    _assert_nothing_secret(caplog.text, token, "new.worker@example.com")
    assert "template=invitation" not in caplog.text  # nothing is mailed without a server


def test_reset_without_a_mail_server_is_refused_and_says_whom_to_ask(
    app, client, employee_email, caplog
):
    caplog.set_level(logging.DEBUG)
    assert "ask your employer" in client.get("/reset-password").get_data(as_text=True)
    response = post_form(client, "/reset-password", {"email": employee_email})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "ask your employer's administrator" in html and "support@a1wallet.example" in html
    wait_for_pending_resets()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ActionToken)) == 0
        refusals = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.reset_refused")
        ).all()
        assert len(refusals) == 1 and refusals[0].outcome == "denied"
    _assert_nothing_secret(caplog.text, employee_email)


def test_reset_refusal_is_translated(client, employee_email):
    response = post_form(
        client, "/reset-password", {"email": employee_email}, headers={"Accept-Language": "de"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "Arbeitgeber" in html


def test_reset_mail_goes_out_by_smtp_and_nothing_secret_is_logged(
    app, client, employee_email, smtp, caplog
):
    caplog.set_level(logging.DEBUG)
    response = post_form(client, "/reset-password", {"email": employee_email})
    assert response.status_code == 302
    wait_for_pending_resets()
    assert len(smtp.sent) == 1
    body = smtp.sent[0].get_content()
    token = re.search(r"/reset-password/(\S+)", body).group(1)
    _assert_nothing_secret(caplog.text, token, employee_email, body.strip())
    assert "template=password_reset" in caplog.text
    assert mail.recipient_hash(employee_email) in caplog.text


def test_starttls_and_smtps_verify_the_server_certificate(app, smtp):
    with app.app_context():
        mail.send_mail("a@example.com", "s", "b", template="test")
        app.config.update(MAIL_PORT=465, MAIL_USE_SSL=True)
        mail.send_mail("a@example.com", "s", "b", template="test")
    starttls = [c for c in smtp.calls if c[0] == "starttls"]
    assert len(starttls) == 1
    smtps = [c for c in smtp.calls if c[0] == "connect" and c[1] == "FakeSMTPSSL"]
    assert len(smtps) == 1
    for context in (starttls[0][1], smtps[0][4]):
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_smtps_is_the_default_on_port_465(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("MAIL_PORT", "465")
    app = create_app(base_config(tmp_path, database_url))
    assert app.config["MAIL_USE_SSL"] is True


def test_forgot_password_does_not_wait_for_the_lookup_and_the_mail(
    app, client, employee_email, smtp, monkeypatch
):
    """The answer comes while the mail is still being sent (it is held here until released),
    and is the same for an address with and without an account."""
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    real_send = mail.send_mail

    def slow_send(*args, **kwargs):
        started.set()
        release.wait(10)
        try:
            return real_send(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr("web.auth.reset.send_mail", slow_send)
    known = post_form(client, "/reset-password", {"email": employee_email})
    assert started.wait(10), "the mail is being sent"
    assert not finished.is_set()  # … and the answer did not wait for it
    unknown = post_form(client, "/reset-password", {"email": "nobody@example.com"})
    release.set()
    wait_for_pending_resets()
    assert finished.is_set() and len(smtp.sent) == 1
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    login_page = client.get(known.headers["Location"]).get_data(as_text=True)
    assert "If that address has an account" in login_page


def test_start_warns_when_a_public_deployment_has_no_mail_server(tmp_path, database_url, caplog):
    caplog.set_level(logging.WARNING, logger="a1wallet.mail")
    for base_url, mail_server, warned in (
        ("https://wallet.example.com", "", True),
        ("http://127.0.0.1:5000", "", False),
        ("http://localhost:5000", "", False),
        ("https://wallet.example.com", "smtp.example.com", False),
    ):
        caplog.clear()
        settings = {"PUBLIC_BASE_URL": base_url, "MAIL_SERVER": mail_server}
        create_app({**base_config(tmp_path, database_url), **settings})
        assert ("MAIL_SERVER is not set" in caplog.text) is warned, base_url
