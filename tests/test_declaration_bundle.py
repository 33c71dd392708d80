"""The posted-worker declaration where it is used (issue 18, points 4 and 6): beside the
certificate in the wallet and in the inspector view (in the inspector's language), the receipt
kept on the employee's own phone only, the notice on the wallet home before the trip, the line on
a support incident, and the coverage dashboard's column, filter and CSV column (with a constant
number of queries). The browser side is tests/browser/test_declaration_bundle_browser.py."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.factories import Factories, tiny_pdf
from tests.helpers import recorded_statements
from web.declarations.public_messages import BUCKET_LABELS
from web.extensions import db
from web.models import Incident, Role, Trip, User, utcnow

TODAY = date.today()
RECEIPT = tiny_pdf()
RECEIPT_NUMBER = "SIPSI-2026-0815"
CONTACT = "Claire Martin"


def file_declaration(app, trip_id: int, *, contact: str | None = CONTACT) -> None:
    """The employer's admin answers "a service", names the contact person and records the
    filing with its receipt, through the services the trip page uses."""
    from web.declarations.services import answer_question, record_filing, save_standard_form

    with app.test_request_context("/"):
        trip = db.session.get(Trip, trip_id)
        admin = db.session.scalar(
            select(User).where(
                User.company_id == trip.company_id, User.role == Role.EMPLOYER_ADMIN.value
            )
        )
        answer_question(trip, "yes", "", actor=admin)
        if contact:
            save_standard_form(trip, {"contact_name": contact}, actor=admin)
        record_filing(
            trip,
            filed_on=(TODAY - timedelta(days=3)).isoformat(),
            receipt_number=RECEIPT_NUMBER,
            receipt=RECEIPT,
            filename="sipsi.pdf",
            actor=admin,
            today=TODAY,
        )
        db.session.commit()


def answer(app, trip_id: int, provides_service: str) -> None:
    from web.declarations.services import answer_question

    with app.test_request_context("/"):
        trip = db.session.get(Trip, trip_id)
        admin = db.session.scalar(
            select(User).where(
                User.company_id == trip.company_id, User.role == Role.EMPLOYER_ADMIN.value
            )
        )
        answer_question(trip, provides_service, "", actor=admin)
        db.session.commit()


def signed_in(app, email: str, **extra: str):
    client = app.test_client()
    response = AuthActions(client).login(email, **extra)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def world(app, data) -> dict:
    """Two companies seated in Germany; Anna works in France today, with a provisional A1."""
    company = data.company("Bundle Bau GmbH", seat_state="DE")
    other_company = data.company("Other Bau GmbH", seat_state="DE")
    admin = data.user(Role.EMPLOYER_ADMIN, company, email="bundle-admin@example.com")
    data.user(Role.EMPLOYER_ADMIN, other_company, email="bundle-other-admin@example.com")
    employee = data.employee(company, email="bundle-anna@example.com")
    other_employee = data.employee(other_company, email="bundle-other@example.com")
    trip = data.trip(employee, "FR", TODAY - timedelta(days=1), TODAY + timedelta(days=20))
    certificate = Factories(app).certificate(employee, "provisional", ("FR",))
    return {
        "company": company,
        "other_company": other_company,
        "admin": admin,
        "employee": employee,
        "other_employee": other_employee,
        "trip": trip,
        "certificate": certificate.id,
    }


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _french(message: str, **values: str) -> str:
    from flask_babel import gettext

    with force_locale("fr"):
        return gettext(message, **values)


# --- the receipt on the phone -------------------------------------------------------------------


def test_the_receipt_is_kept_offline_only_on_the_employees_own_phone(app, data, world):
    file_declaration(app, world["trip"])
    url = f"/declarations/trips/{world['trip']}/receipt"
    own_phone = signed_in(app, "bundle-anna@example.com")
    response = own_phone.get(url)
    assert response.status_code == 200 and response.data == RECEIPT
    assert response.headers["X-A1W-Offline"] == "keep"
    # A shared device: the same receipt, never marked, so the service worker keeps nothing.
    shared = signed_in(app, "bundle-anna@example.com", shared_device="y")
    response = shared.get(url)
    assert response.status_code == 200 and "X-A1W-Offline" not in response.headers
    # The employer's admin reads it in the console: not a phone copy either.
    admin = signed_in(app, "bundle-admin@example.com")
    response = admin.get(url)
    assert response.status_code == 200 and "X-A1W-Offline" not in response.headers
    # Without a receipt the route redirects to the wallet: nothing to keep.
    bare = data.trip(world["employee"], "BE", TODAY + timedelta(days=9), TODAY + timedelta(days=9))
    response = own_phone.get(f"/declarations/trips/{bare}/receipt")
    assert response.status_code == 302 and "X-A1W-Offline" not in response.headers


def test_the_service_worker_keeps_the_receipt_path(client):
    script = client.get("/sw.js").get_data(as_text=True)
    personal = re.search(r"const PERSONAL = /(.+)/;", script).group(1)
    pattern = re.compile(personal.replace("\\/", "/"))
    assert pattern.search("/declarations/trips/42/receipt")
    assert not pattern.search("/declarations/trips/42")  # the console's page is never kept
    assert not pattern.search("/declarations/trips/42/filing")


def test_the_home_page_asks_the_phone_to_keep_the_receipt(app, world):
    file_declaration(app, world["trip"])
    html = signed_in(app, "bundle-anna@example.com").get("/wallet/").get_data(as_text=True)
    urls = json.loads(re.search(r"data-urls='([^']*)'", html).group(1))
    assert f"/declarations/trips/{world['trip']}/receipt" in urls


# --- beside the certificate ---------------------------------------------------------------------


def test_the_certificate_page_shows_the_bundle_in_the_employees_language(app, world):
    file_declaration(app, world["trip"])
    client = signed_in(app, "bundle-anna@example.com")
    html = client.get(f"/wallet/certificates/{world['certificate']}").get_data(as_text=True)
    text = _text(html)
    assert "Posted-worker declaration: filed on" in text and RECEIPT_NUMBER in text
    assert f"Contact person in France: {CONTACT}" in text
    assert f'href="/declarations/trips/{world["trip"]}/receipt"' in html
    assert "Open the declaration receipt (PDF)" in text


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_the_inspector_view_shows_the_bundle_in_the_inspectors_language(app, world, lang):
    from flask_babel import gettext

    file_declaration(app, world["trip"])
    client = signed_in(app, "bundle-anna@example.com")
    html = client.get(
        f"/wallet/certificates/{world['certificate']}/inspector?lang={lang}"
    ).get_data(as_text=True)
    text = _text(html)
    with app.test_request_context("/"), force_locale(lang):
        link = gettext("Open the declaration receipt (PDF)")
        country = {"fr": "France", "de": "Frankreich"}[lang]
        contact = gettext("Contact person in %(country)s: %(name)s", country=country, name=CONTACT)
    assert link != "Open the declaration receipt (PDF)"
    assert link in text and contact in text and RECEIPT_NUMBER in text
    assert "Posted-worker declaration" not in text  # the whole bundle in the inspector's language
    assert f'href="/declarations/trips/{world["trip"]}/receipt"' in html
    # The employee's part stays in the employee's language.
    assert 'aria-label="Back to my certificate"' in html


def test_the_bundle_shows_only_when_a_declaration_is_needed(app, world):
    client = signed_in(app, "bundle-anna@example.com")
    pages = (
        f"/wallet/certificates/{world['certificate']}",
        f"/wallet/certificates/{world['certificate']}/inspector?lang=en",
    )
    answer(app, world["trip"], "no")  # no service there: nothing beside the certificate
    for url in pages:
        assert "inspector-declaration" not in client.get(url).get_data(as_text=True), url
    answer(app, world["trip"], "yes")  # required; the trip began yesterday: not recorded
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert "Posted-worker declaration required by France: not recorded" in _text(html), url
        assert "/receipt" not in html and "is-missing" in html


# --- the employee's notice before the trip ------------------------------------------------------


def test_the_employee_sees_the_notice_on_the_home_page_before_the_trip(app, data, world):
    later = data.trip(
        world["employee"], "FR", TODAY + timedelta(days=30), TODAY + timedelta(days=40)
    )
    with app.app_context():
        db.session.get(
            User, db.session.scalar(select(User.id).where(User.email == "bundle-anna@example.com"))
        ).locale = "de"
        db.session.commit()
    client = signed_in(app, "bundle-anna@example.com")
    assert "declaration-notice" not in client.get("/wallet/").get_data(as_text=True)
    answer(app, later, "yes")
    answer(app, world["trip"], "yes")  # already started: no "before the trip" notice for it
    html = client.get("/wallet/").get_data(as_text=True)
    notices = re.findall(r'<p class="note declaration-notice">([^<]*)</p>', html)
    from flask_babel import gettext

    with app.test_request_context("/"), force_locale("de"):
        expected = gettext(
            "Your employer has not recorded the posted-worker declaration for %(country)s yet: "
            "ask them before the trip starts, and carry the receipt with your A1.",
            country="Frankreich",
        )
    assert notices == [expected.replace("'", "&#39;")] and "Frankreich" in expected
    file_declaration(app, later)
    assert "declaration-notice" not in client.get("/wallet/").get_data(as_text=True)


# --- support ------------------------------------------------------------------------------------


def _incident(app, world, trip_id: int | None) -> int:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "bundle-anna@example.com"))
        incident = Incident(
            company_id=world["company"],
            employee_id=world["employee"],
            user_id=user_id,
            idempotency_key=str(uuid.uuid4()),
            trip_id=trip_id,
            certificate_id=world["certificate"],
            country="FR",
            tapped_at=utcnow(),
        )
        db.session.add(incident)
        db.session.commit()
        return incident.id


def test_support_sees_the_declaration_on_the_incident(app, data, world):
    data.user(Role.SUPPORT, None, email="bundle-agent@example.com")
    answer(app, world["trip"], "yes")
    incident = _incident(app, world, world["trip"])
    agent = signed_in(app, "bundle-agent@example.com")
    text = _text(agent.get(f"/support/incidents/{incident}").get_data(as_text=True))
    assert "Posted-worker declaration required by France: not recorded" in text
    file_declaration(app, world["trip"])
    html = agent.get(f"/support/incidents/{incident}").get_data(as_text=True)
    assert RECEIPT_NUMBER in html and CONTACT in html
    assert f'href="/declarations/trips/{world["trip"]}/receipt"' in html
    # The agent may open it (provider staff), the same receipt.
    assert agent.get(f"/declarations/trips/{world['trip']}/receipt").data == RECEIPT
    # An incident without a trip has no declaration line.
    bare = _incident(app, world, None)
    html = agent.get(f"/support/incidents/{bare}").get_data(as_text=True)
    assert "incident-declaration" not in html


# --- the coverage dashboard ---------------------------------------------------------------------


@pytest.fixture
def dashboard(app, data, world) -> dict:
    """One trip per bucket in the admin's company, and one in another company."""
    employee = world["employee"]
    trips = {
        "filed": world["trip"],
        "required": data.trip(
            employee, "FR", TODAY + timedelta(days=30), TODAY + timedelta(days=35)
        ),
        "missing": data.trip(employee, "BE", TODAY - timedelta(days=2), TODAY + timedelta(days=3)),
        "not_required": data.trip(
            employee, "FR", TODAY + timedelta(days=50), TODAY + timedelta(days=55)
        ),
    }
    file_declaration(app, trips["filed"])
    answer(app, trips["required"], "yes")
    answer(app, trips["missing"], "yes")
    answer(app, trips["not_required"], "no")
    other = data.trip(world["other_employee"], "BE", TODAY - timedelta(days=2), TODAY)
    answer(app, other, "yes")  # missing too, but another tenant's
    return {"trips": trips, "other": other}


def _row_trips(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/admin/trips/(\d+)"', html)}


def test_the_dashboard_has_a_declaration_column_and_filter(app, world, dashboard):
    file_declaration(app, dashboard["other"])  # another tenant's filed trip: never listed
    client = signed_in(app, "bundle-admin@example.com")
    html = client.get("/admin/coverage").get_data(as_text=True)
    assert set(dashboard["trips"].values()) == _row_trips(html)
    for bucket in BUCKET_LABELS:
        assert f'<option value="{bucket}"' in html
        assert f"chip-declaration-{bucket}" in html
    assert RECEIPT_NUMBER in html
    for bucket, trip_id in dashboard["trips"].items():
        page = client.get(f"/admin/coverage?declaration={bucket}")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert _row_trips(body) == {trip_id}, bucket  # and never the other company's
        assert f'<option value="{bucket}" selected>' in body  # the filter keeps its state
        # The export link carries the filter (its URL, like the others).
        assert f"declaration={bucket}" in body
        fragment = client.get(
            f"/admin/coverage?declaration={bucket}", headers={"HX-Request": "true"}
        ).get_data(as_text=True)
        assert _row_trips(fragment) == {trip_id}, bucket


def _row(html: str, trip_id: int) -> str:
    return re.search(rf'<tr data-trip="{trip_id}".*?</tr>', html, re.S).group(0)


def test_each_row_names_its_own_declaration_state(app, data, world, dashboard):
    """The filter groups states into four buckets; a row says which state it is in: an unsourced
    state's trip is "not known: check" (never "required"), an unanswered one asks its question,
    an overdue one says when it was due."""
    unknown = data.trip(
        world["employee"], "HU", TODAY + timedelta(days=20), TODAY + timedelta(days=25)
    )
    question = data.trip(
        world["employee"], "FR", TODAY + timedelta(days=60), TODAY + timedelta(days=62)
    )
    client = signed_in(app, "bundle-admin@example.com")
    html = client.get("/admin/coverage").get_data(as_text=True)
    row = _row(html, unknown)
    assert "Declaration rules not known: check" in row and "Declaration required" not in row
    assert "Declaration: one question to answer" in _row(html, question)
    missing = _row(html, dashboard["trips"]["missing"])
    assert "Declaration missing" in missing and "was due" in missing and "file by" not in missing
    required = _row(html, dashboard["trips"]["required"])
    assert "Declaration required" in required and "file by" in required
    late_question = data.trip(
        world["employee"], "FR", TODAY - timedelta(days=1), TODAY + timedelta(days=3)
    )
    row = _row(client.get("/admin/coverage").get_data(as_text=True), late_question)
    assert "Declaration: one question to answer" in row
    assert "was due" in row and "file by" not in row


def test_the_dashboard_speaks_the_admins_language(app, world, dashboard):
    with app.app_context():
        db.session.get(User, world["admin"]).locale = "fr"
        db.session.commit()
    client = signed_in(app, "bundle-admin@example.com")
    html = client.get("/admin/coverage").get_data(as_text=True)
    with app.test_request_context("/"):
        for label in BUCKET_LABELS.values():
            with force_locale("fr"):
                french = str(label)
            assert french != str(label) and french.replace("'", "&#39;") in html
        assert _french("Posted-worker declaration") in html


def test_a_bad_declaration_filter_is_400_and_shows_nothing(app, world, dashboard):
    client = signed_in(app, "bundle-admin@example.com")
    response = client.get("/admin/coverage?declaration=%3Cscript%3E")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="declaration-error"' in html and "Choose one of the listed options." in html
    assert _row_trips(html) == set() and "<script>" not in html
    export = client.get("/admin/coverage.csv?declaration=bogus")
    assert export.status_code == 400 and export.mimetype == "text/plain"
    assert "declaration:" in export.get_data(as_text=True)


def test_the_csv_export_has_the_declaration_column(app, world, dashboard):
    file_declaration(app, dashboard["other"])
    client = signed_in(app, "bundle-admin@example.com")
    response = client.get("/admin/coverage.csv")
    assert response.status_code == 200, response.status_code
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    got = {int(r["trip_id"]): r["declaration"] for r in rows}
    assert got == {trip_id: bucket for bucket, trip_id in dashboard["trips"].items()}
    filtered = client.get("/admin/coverage.csv?declaration=missing").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(filtered)))
    assert [(int(r["trip_id"]), r["declaration"]) for r in rows] == [
        (dashboard["trips"]["missing"], "missing")
    ]


def test_the_csv_cells_of_the_declaration_column_are_neutralised(app, world, monkeypatch):
    """A value that a spreadsheet would read as a formula goes out as text, like every cell."""
    from web.trips import dashboard as trips_module

    client = signed_in(app, "bundle-admin@example.com")
    real = trips_module.coverage_rows

    def formula_bucket(*args, **kwargs):
        rows = real(*args, **kwargs)
        for row in rows:
            row.declaration = type("S", (), {"bucket": "=HYPERLINK(1)"})()
        return rows

    monkeypatch.setattr("web.admin.coverage.coverage_rows", formula_bucket)
    rows = list(
        csv.DictReader(io.StringIO(client.get("/admin/coverage.csv").get_data(as_text=True)))
    )
    assert rows and all(r["declaration"] == "'=HYPERLINK(1)" for r in rows)


def _queries(app, client, url: str) -> int:
    with recorded_statements(app) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_dashboards_query_count_does_not_grow_with_the_trips(app, data, world, dashboard):
    client = signed_in(app, "bundle-admin@example.com")
    client.get("/admin/coverage")  # warm up (the rules data, the session)
    few = _queries(app, client, "/admin/coverage")
    for offset in range(6):
        trip = data.trip(
            world["employee"],
            "FR",
            TODAY + timedelta(days=60 + 10 * offset),
            TODAY + timedelta(days=65 + 10 * offset),
        )
        if offset % 2:
            file_declaration(app, trip, contact=None)
    many = _queries(app, client, "/admin/coverage")
    assert many == few, (few, many)
