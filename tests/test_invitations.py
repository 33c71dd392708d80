"""Invitations after a CSV import (issue 15, point 3): mailed to each new employee through a local
SMTP stand-in, or — without a mail server — listed on the import report, each with a link to
create and copy; one rule for every new link (it cancels the previous unused one), tenant
isolation, CSRF, audit, rate limit, and the link never logged nor kept in a cookie."""

from __future__ import annotations

import io
import logging
import re
import socket

import pytest
from sqlalchemy import delete, func, select

from tests.conftest import AuthActions
from tests.helpers import INVITATION_LINK_RE, create_invitation_link, csrf_token, post_form
from tests.smtp_standin import SMTPStandIn
from web.extensions import db
from web.models import ActionToken, AuditEvent, Employee, EmployeeImport, Role, User

CSV = (
    "email,family_name,given_names,birth_date,nationality,residence_state,home_state,locale\n"
    "anna.alpha@example.com,Alpha,Anna,1980-01-02,DE,DE,DE,\n"
    "bruno.beta@example.com,Beta,Bruno,1985-03-02,FR,FR,FR,fr\n"
    "carla.gamma@example.com,Gamma,Carla,1990-04-05,PL,PL,DE,\n"
)
EMAILS = ["anna.alpha@example.com", "bruno.beta@example.com", "carla.gamma@example.com"]


@pytest.fixture
def admin(app, data, client):
    company = data.company("Acme")
    data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    AuthActions(client).login("admin@example.com")
    return company


@pytest.fixture
def smtp():
    with SMTPStandIn() as server:
        yield server


def _use_mail_server(app, port: int) -> None:
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_USE_SSL=False
    )


def _upload(client, text: str = CSV):
    token = csrf_token(client, "/admin/employees/import")
    return client.post(
        "/admin/employees/import",
        data={"csrf_token": token, "file": (io.BytesIO(text.encode()), "staff.csv")},
        content_type="multipart/form-data",
    )


def _employee_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Employee.id).join(User).where(User.email == email))


def _report_rows(html: str) -> dict[str, str]:
    """Each row of the report's invitations table: email → its invitation status word."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        email = re.search(r"<td>([^<@]+@[^<]+)</td>", row)
        status = re.search(r'data-invitation="([a-z_]+)"', row)
        if email and status:
            rows[email.group(1)] = status.group(1)
    return rows


def _path(link: str) -> str:
    return link.split("a1.example.test", 1)[1]


def _audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        for event in events:
            db.session.expunge(event)
        return events


# --- with a mail server ------------------------------------------------------------------------


def test_import_with_mail_sends_each_invitation_in_the_employees_language(app, client, admin, smtp):
    _use_mail_server(app, smtp.port)
    response = _upload(client)
    assert response.status_code == 302
    report = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 invitations sent by email." in report
    assert _report_rows(report) == dict.fromkeys(EMAILS, "mailed")
    assert "still need" not in report
    assert [recipients for recipients, _ in smtp.messages] == [[e] for e in EMAILS]
    bodies = {recipients[0]: message for recipients, message in smtp.messages}
    # Bruno's row asked for French; the others get the admin's language.
    assert bodies["bruno.beta@example.com"]["Subject"] == "Votre invitation à A1 Wallet"
    assert bodies["anna.alpha@example.com"]["Subject"] == "Your A1 Wallet invitation"
    assert len(_audit(app, "auth.invitation_sent")) == 3
    # The mailed link works: it opens the password form.
    link = re.search(r"https://\S+/invitation/\S+", bodies["carla.gamma@example.com"].get_content())
    opened = app.test_client().get(_path(link.group(0)))
    assert opened.status_code == 302 and opened.headers["Location"] == "/choose-password"


def test_import_with_mail_reports_a_refused_address_and_sends_it_again(app, client, admin, smtp):
    _use_mail_server(app, smtp.port)
    smtp.refused_recipients.add("bruno.beta@example.com")
    report_url = _upload(client).headers["Location"]
    report = client.get(report_url).get_data(as_text=True)
    assert "2 invitations sent by email." in report
    assert "1 invitation could not be sent" in report
    assert _report_rows(report) == {
        "bruno.beta@example.com": "mail_failed",  # listed first: the one that needs something
        "anna.alpha@example.com": "mailed",
        "carla.gamma@example.com": "mailed",
    }
    assert report.index("bruno.beta@") < report.index("anna.alpha@")
    assert "1 person still needs an invitation." in report
    failed = _audit(app, "auth.invitation_failed")
    assert [(e.outcome, e.message) for e in failed] == [("failed", "SMTPRecipientsRefused")]
    with app.app_context():  # the link that never left is dead
        bruno = db.session.scalar(select(User).where(User.email == "bruno.beta@example.com"))
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ActionToken)
                .where(ActionToken.user_id == bruno.id, ActionToken.used_at.is_(None))
            )
            == 0
        )
    # The address is fixed at the server's end; "Send the missing invitation" sends only that one.
    smtp.refused_recipients.clear()
    sent_before = len(smtp.messages)
    response = post_form(client, report_url + "/invitations", token_from=report_url)
    assert response.status_code == 302
    assert [r for r, _ in smtp.messages[sent_before:]] == [["bruno.beta@example.com"]]
    assert _report_rows(client.get(report_url).get_data(as_text=True)) == dict.fromkeys(
        EMAILS, "mailed"
    )


def test_import_when_the_mail_server_is_down_loses_nothing(app, client, admin, smtp):
    with socket.socket() as probe:  # a loopback port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    _use_mail_server(app, closed_port)
    report_url = _upload(client).headers["Location"]
    report = client.get(report_url).get_data(as_text=True)
    # The first failure stops the run: the others are not tried, and all are listed.
    assert "3 invitations could not be sent" in report
    assert "The mail server could not be reached" in report
    assert _report_rows(report) == {
        "anna.alpha@example.com": "mail_failed",
        "bruno.beta@example.com": "not_invited",
        "carla.gamma@example.com": "not_invited",
    }
    assert "Send the 3 missing invitations" in report
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Employee)) == 3
    _use_mail_server(app, smtp.port)
    post_form(client, report_url + "/invitations", token_from=report_url)
    assert sorted(r[0] for r, _ in smtp.messages) == EMAILS
    report = client.get(report_url).get_data(as_text=True)
    assert _report_rows(report) == dict.fromkeys(EMAILS, "mailed")
    assert "Everyone from this file has an invitation" in report


# --- without a mail server ---------------------------------------------------------------------


def test_import_without_mail_lists_who_needs_a_link_and_creates_it_in_place(app, client, admin):
    report_url = _upload(client).headers["Location"]
    report = client.get(report_url).get_data(as_text=True)
    assert "This server sends no email" in report
    assert "3 people still need an invitation." in report
    assert _report_rows(report) == dict.fromkeys(EMAILS, "not_invited")
    assert report.count(">Create invitation link</button>") == 3
    assert "/invitation/" not in report  # no link exists until the admin asks for one

    # "Create invitation link" from the report, as htmx sends it: the answer is the row's
    # invitation block with the link to copy, not a page.
    anna = _employee_id(app, "anna.alpha@example.com")
    token = csrf_token(client, report_url)
    response = client.post(
        f"/admin/employees/{anna}/invitation-link",
        data={"csrf_token": token, "from_import": "1"},
        headers={"HX-Request": "true", "HX-Target": f"invitation-{anna}"},
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and f'id="invitation-{anna}"' in fragment
    assert "Invitation link for Anna Alpha" in fragment and 'class="button js-copy"' in fragment
    link = INVITATION_LINK_RE.search(fragment).group(1)
    assert response.headers["Cache-Control"] == "no-store"

    report = client.get(report_url).get_data(as_text=True)
    assert "2 people still need an invitation." in report
    assert _report_rows(report)["anna.alpha@example.com"] == "link_created"
    assert link not in report  # shown once only

    # Without JavaScript the same button answers a page with the link and the way back.
    page = client.post(
        f"/admin/employees/{anna}/invitation-link",
        data={"csrf_token": token, "from_import": "1"},
    ).get_data(as_text=True)
    assert "<html" in page and "Back to the import report" in page and report_url in page
    events = _audit(app, "auth.invitation_link_created")
    assert len(events) == 2 and {e.company_id for e in events} == {admin}


def test_a_new_link_cancels_the_previous_one_and_acceptance_shows(app, client, admin, data):
    employee_id = data.employee(admin, email="dora@example.com", given_names="Dora", password=None)
    first = create_invitation_link(client, employee_id)
    second = create_invitation_link(client, employee_id)
    assert first != second
    assert app.test_client().get(_path(first)).status_code == 404  # cancelled by the second
    newcomer = app.test_client()
    assert newcomer.get(_path(second)).headers["Location"] == "/choose-password"
    chosen = post_form(
        newcomer,
        "/choose-password",
        {"password": "my own passphrase", "confirm": "my own passphrase"},
    )
    assert chosen.status_code == 302
    page = client.get(f"/admin/employees/{employee_id}").get_data(as_text=True)
    assert 'data-invitation="accepted"' in page and "has accepted the invitation" in page
    listing = client.get("/admin/employees").get_data(as_text=True)
    assert 'data-invitation="accepted"' in listing


def test_an_expired_or_abandoned_link_asks_for_a_new_one(app, client, admin, data):
    from datetime import timedelta

    employee_id = data.employee(admin, email="emil@example.com", password=None)
    create_invitation_link(client, employee_id)
    with app.app_context():
        row = db.session.scalar(select(ActionToken))
        row.expires_at = row.created_at - timedelta(seconds=1)
        db.session.commit()
    page = client.get(f"/admin/employees/{employee_id}").get_data(as_text=True)
    assert 'data-invitation="expired"' in page


def test_another_companys_employee_and_import_answer_404(app, client, admin, data):
    other = data.company("Other")
    stranger = data.employee(other, email="stranger@example.com", password=None)
    with app.app_context():
        other_admin = db.session.scalar(select(User.id).where(User.company_id == other))
        batch = EmployeeImport(
            company_id=other, created_by_id=other_admin or 1, content="email\n", filename="x.csv"
        )
        db.session.add(batch)
        db.session.commit()
        batch_id = batch.id
    token = csrf_token(client, "/admin/employees")
    for url in (
        f"/admin/employees/{stranger}/invitation-link",
        f"/admin/employees/{stranger}/invite",
        f"/admin/employees/import/{batch_id}/invitations",
    ):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    # As htmx asks it: the 404's message alone, for the region that asked.
    response = client.post(
        f"/admin/employees/{stranger}/invitation-link",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 404
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and 'role="alert"' in fragment
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ActionToken)) == 0


def test_link_creation_needs_the_csrf_token(app, client, admin, data):
    employee_id = data.employee(admin, email="fritz@example.com", password=None)
    url = f"/admin/employees/{employee_id}/invitation-link"
    assert client.post(url).status_code == 400
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "<html" not in response.get_data(as_text=True)  # htmx swaps the message in place
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ActionToken)) == 0


def test_link_creation_is_rate_limited_per_admin(app, client, admin, data):
    app.config["INVITATION_LIMIT"] = "3 per 10 minutes"
    employee_id = data.employee(admin, email="gina@example.com", password=None)
    for _ in range(3):
        create_invitation_link(client, employee_id)
    page = f"/admin/employees/{employee_id}"
    # Mailing and copying share the limit.
    assert post_form(client, f"{page}/invitation-link", token_from=page).status_code == 429
    assert post_form(client, f"{page}/invite", token_from=page).status_code == 429


def test_the_link_is_never_logged_nor_kept_in_the_session(app, client, admin, data, caplog):
    caplog.set_level(logging.DEBUG)
    employee_id = data.employee(admin, email="hugo@example.com", password=None)
    link = create_invitation_link(client, employee_id)
    token = link.rsplit("/", 1)[1]
    assert token not in caplog.text and "hugo@example.com" not in caplog.text
    cookie = client.get_cookie("session")
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert token not in repr(session)


def test_a_deactivated_employee_gets_no_link(app, client, admin, data):
    employee_id = data.employee(admin, email="ida@example.com", password=None)
    page = f"/admin/employees/{employee_id}"
    post_form(client, f"{page}/deactivate", token_from=page)
    html = client.get(page).get_data(as_text=True)
    assert "Create invitation link" not in html
    assert post_form(client, f"{page}/invitation-link", token_from=page).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ActionToken)) == 0


def test_deleting_an_old_import_keeps_its_employees(app, client, admin):
    """Retention deletes uploaded files after 30 days: the employees stay, unlinked."""
    _upload(client)
    with app.app_context():
        db.session.execute(delete(EmployeeImport))
        db.session.commit()
        employees = db.session.scalars(select(Employee)).all()
        assert len(employees) == 3 and {e.import_id for e in employees} == {None}


def test_cli_mails_the_invitation_and_prints_no_link(app, runner, smtp):
    import json

    _use_mail_server(app, smtp.port)
    runner.invoke(args=["companies", "create", "Acme"])
    result = runner.invoke(
        args=[
            "users",
            "create",
            "boss@example.com",
            "--role",
            "employer_admin",
            "--company",
            "Acme",
        ]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["invitation"] == "mailed" and "invitation_link" not in out
    assert [r for r, _ in smtp.messages] == [["boss@example.com"]]
    assert "/invitation/" not in result.output


def test_a_big_import_mails_within_its_time_and_the_report_sends_the_rest(app, client, admin, smtp):
    _use_mail_server(app, smtp.port)
    app.config["INVITATION_BATCH_SECONDS"] = 0  # time for one mail per request
    report_url = _upload(client).headers["Location"]
    report = client.get(report_url).get_data(as_text=True)
    assert "1 invitation sent by email." in report
    assert "2 invitations are still to send" in report and "could not be sent" not in report
    assert _report_rows(report) == {
        "bruno.beta@example.com": "not_invited",
        "carla.gamma@example.com": "not_invited",
        "anna.alpha@example.com": "mailed",
    }
    for _ in range(2):
        post_form(client, report_url + "/invitations", token_from=report_url)
    assert sorted(r[0] for r, _ in smtp.messages) == EMAILS  # each once
    assert _report_rows(client.get(report_url).get_data(as_text=True)) == dict.fromkeys(
        EMAILS, "mailed"
    )
