"""Support's side of an authority check: the agent's name, the outcome radio list, the host
country's language and call script, and "Send to the authority" (link + PDF by mail, in the
inspector's language, to a local SMTP stand-in; refused without a mail server; audited)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.factories import Factories
from tests.helpers import post_form
from tests.smtp_standin import SMTPStandIn
from web.extensions import db
from web.models import AuditEvent, Incident, Role, User

TODAY = date.today()
OFFICIAL_FORM_NAMES = (
    "Portable Document A1",
    "PD A1",
    "Certificat A1",
    "Bescheinigung A1",
    "Zaświadczenie A1",
    "documento portatile A1",
    "Documento portátil A1",
)


@pytest.fixture
def smtp():
    with SMTPStandIn() as server:
        yield server


@pytest.fixture
def app_config(smtp):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
    }


@pytest.fixture
def incident_id(app, data):
    company = data.company("Acme")
    data.user(Role.SUPPORT, None, email="maria.lopez@example.com")
    employee = data.employee(
        company, email="worker@example.com", family_name="Wiśniewska", given_names="Łucja"
    )
    certificate = Factories(app).certificate(employee, "provisional", ("PL",), None, None)
    with app.app_context():
        from datetime import UTC, datetime

        from web.models import Employee

        row = db.session.get(Employee, employee)
        incident = Incident(
            employee_id=employee,
            user_id=row.user_id,
            idempotency_key="k-" + str(employee),
            tapped_at=datetime.now(UTC),
            company_id=row.company_id,
            certificate_id=certificate.id,
            country="PL",
            status="new",
        )
        db.session.add(incident)
        db.session.commit()
        return incident.id


def _agent(app):
    client = app.test_client()
    AuthActions(client).login("maria.lopez@example.com")
    return client


def test_the_incident_page_shows_the_language_the_script_and_a_plain_radio_list(app, incident_id):
    agent = _agent(app)
    page = f"/support/incidents/{incident_id}"
    post_form(agent, f"{page}/acknowledge", token_from=page)
    html = agent.get(page).get_data(as_text=True)
    assert (
        "Host country&#39;s language: Polski" in html or "Host country's language: Polski" in html
    )
    assert "Hello, this is Maria from" in html
    assert "Handled by Maria since" in html and "maria.lopez@example.com" not in html
    assert re.search(r'<label class="radio-choice"><input type="radio" name="outcome"', html)
    assert 'href="/static/css/support.css' in html
    assert '<option value="pl" lang="pl" selected>' in html  # the host country's language


def test_send_to_the_authority_mails_the_link_and_the_statement_in_polish(app, incident_id, smtp):
    agent = _agent(app)
    page = f"/support/incidents/{incident_id}"
    response = post_form(
        agent,
        f"{page}/send-to-authority",
        {"authority_email": "Inspektor@PIP.gov.example", "authority_language": "pl"},
        token_from=page,
    )
    assert response.status_code == 302
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["inspektor@pip.gov.example"]
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/V/\S+", body).group(0)
    assert link.endswith("?lang=pl") and "Kod weryfikacyjny" in body
    assert message["Subject"].startswith("Tymczasowe oświadczenie")
    opened = app.test_client().get("/V/" + link.split("/V/", 1)[1]).get_data(as_text=True)
    assert 'data-state="valid_provisional"' in opened and '<html lang="pl">' in opened
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = "\n".join(
        p.extract_text() for p in PdfReader(io.BytesIO(attachment.get_content())).pages
    )
    assert "Wiśniewska" in text and "Łucja" in text
    with app.test_request_context():
        from flask_babel import force_locale, gettext

        with force_locale("pl"):
            title = gettext("Provisional statement of social security coverage")
    assert title != "Provisional statement of social security coverage"
    assert title in text.replace("\n", " ")
    for name in OFFICIAL_FORM_NAMES:
        assert name not in text
    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        assert incident.status == "resolved" and incident.outcome == "document_sent"
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "incident.document_sent")
        ).all()
        assert len(events) == 1 and "inspektor" not in events[0].message


def test_a_bad_address_is_refused_and_nothing_is_sent(app, incident_id, smtp):
    agent = _agent(app)
    page = f"/support/incidents/{incident_id}"
    response = post_form(
        agent,
        f"{page}/send-to-authority",
        {"authority_email": "not an address", "authority_language": "de"},
        token_from=page,
    )
    assert response.status_code == 422
    assert "is not a valid email address" in response.get_data(as_text=True)
    assert smtp.messages == []
    with app.app_context():
        assert db.session.get(Incident, incident_id).status == "new"


@pytest.mark.parametrize("app_config", [{"MAIL_SERVER": ""}])
def test_without_a_mail_server_it_refuses_clearly(app, incident_id):
    agent = _agent(app)
    page = f"/support/incidents/{incident_id}"
    response = post_form(
        agent,
        f"{page}/send-to-authority",
        {"authority_email": "inspector@example.gov", "authority_language": "fr"},
        token_from=page,
    )
    assert response.status_code == 503
    assert "No mail server is configured, so nothing was sent" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Incident, incident_id).status == "new"
        refused = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "incident.document_refused")
        ).all()
        assert len(refused) == 1


def test_each_agent_may_mail_only_a_few_authorities(app, incident_id, smtp):
    agent = _agent(app)
    page = f"/support/incidents/{incident_id}"
    codes = [
        post_form(
            agent,
            f"{page}/send-to-authority",
            {"authority_email": "x", "authority_language": "fr"},
            token_from=page,
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [422] * 10 and codes[10] == 429


def test_the_agent_is_named_as_the_employee_should_read_it(app):
    """The agent reads as "Maria from support is handling this", never "Support from support"."""
    from flask_babel import force_locale

    from web.ask.services import agent_display_name

    def name(email: str, locale: str = "en") -> str:
        with app.test_request_context(), force_locale(locale):
            return agent_display_name(User(email=email))

    assert name("maria.lopez@a1wallet.example") == "Maria"
    assert name("jonas_weber@a1wallet.example") == "Jonas"
    for mailbox in ("support@a1wallet.example", "support2@x.example", "help-desk@x.example"):
        assert name(mailbox) == "Someone", mailbox
    assert name("support@a1wallet.example", "de") == "Jemand"
    assert name("support@a1wallet.example", "fr") == "Quelqu'un"


def test_the_name_the_agent_set_comes_before_the_one_from_the_address(app):
    from web.ask.services import agent_display_name

    with app.test_request_context():
        agent = User(email="support@a1wallet.example", display_name="María José")
        assert agent_display_name(agent) == "María José"
        assert agent_display_name(User(email="support@a1wallet.example")) == "Someone"


def test_an_agent_sets_and_clears_the_name_employees_read(app):
    data = Factories(app)
    data.user(Role.SUPPORT, None, email="support@example.com")
    client = app.test_client()
    AuthActions(client).login("support@example.com")
    page = client.get("/account").get_data(as_text=True)
    assert 'name="display_name"' in page

    response = post_form(
        client, "/account/display-name", {"display_name": "  Maria  "}, token_from="/account"
    )
    assert response.status_code == 302
    with app.app_context():
        agent = db.session.scalar(select(User).where(User.email == "support@example.com"))
        assert agent.display_name == "Maria"
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.display_name_changed")
        ).all()
        assert [(e.actor_id, e.object_id) for e in events] == [(agent.id, str(agent.id))]
    assert 'value="Maria"' in client.get("/account").get_data(as_text=True)

    post_form(client, "/account/display-name", {"display_name": ""}, token_from="/account")
    with app.app_context():
        agent = db.session.scalar(select(User).where(User.email == "support@example.com"))
        assert agent.display_name is None


@pytest.mark.parametrize(
    "value", ["Maria<script>", "x" * 81, "12345", "Maria\u202eairaM", "Maria@support"]
)
def test_a_bad_name_is_refused_clearly_and_nothing_changes(app, value):
    data = Factories(app)
    data.user(Role.SUPPORT, None, email="support@example.com")
    client = app.test_client()
    AuthActions(client).login("support@example.com")
    response = post_form(
        client,
        "/account/display-name",
        {"display_name": value},
        token_from="/account",
        headers={"Accept-Language": "de"},
    )
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    with app.app_context():
        agent = db.session.scalar(select(User).where(User.email == "support@example.com"))
        assert agent.display_name is None


def test_the_name_form_is_for_support_and_operators_and_needs_csrf(app):
    data = Factories(app)
    company = data.company("Acme")
    data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    data.user(Role.OPERATOR, None, email="operator@example.com")
    admin = app.test_client()
    AuthActions(admin).login("admin@example.com")
    assert 'name="display_name"' not in admin.get("/account").get_data(as_text=True)
    refused = post_form(
        admin, "/account/display-name", {"display_name": "Eve"}, token_from="/account"
    )
    assert refused.status_code in (403, 404)

    operator = app.test_client()
    AuthActions(operator).login("operator@example.com")
    assert 'name="display_name"' in operator.get("/account").get_data(as_text=True)
    assert operator.post("/account/display-name", data={"display_name": "Tomás"}).status_code == 400
    with app.app_context():
        names = db.session.scalars(select(User.display_name).where(User.display_name.is_not(None)))
        assert list(names) == []


def test_the_command_line_sets_the_name(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "agent@example.com",
            "--role",
            "support",
            "--display-name",
            "Maria",
        ]
    )
    assert result.exit_code == 0, result.output
    refused = runner.invoke(
        args=["users", "create", "agent2@example.com", "--role", "support", "--display-name", "<b>"]
    )
    assert refused.exit_code == 2
    with app.app_context():
        agent = db.session.scalar(select(User).where(User.email == "agent@example.com"))
        assert agent.display_name == "Maria"
        assert db.session.scalar(select(User).where(User.email == "agent2@example.com")) is None
