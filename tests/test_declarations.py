"""Posted-worker declarations per trip (web/declarations/): the rules data and its sources, a
trip that needs a declaration and one that is exempt for every sourced state (generated from the
data), file-by dates across weekends, the filing and its receipt (bad input changes nothing),
the access and tenant checks, the JSON export, and the reminders, each sent once."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.conftest import AuthActions
from tests.factories import tiny_pdf
from tests.helpers import csrf_token
from web.coverage.countries import all_codes, group_of
from web.declarations.public_messages import (
    EXEMPTION_LABELS,
    REASON_LABELS,
    DeclarationState,
    NotRequiredReason,
)
from web.declarations.rules import (
    CALENDAR,
    WORKING,
    RulesDataError,
    file_by_date,
    load_rules,
    parse_rules,
)
from web.extensions import db
from web.models import AuditEvent, Declaration, Role, Trip, User

RULES = load_rules()
SOURCED = [r.state for r in RULES.sourced]
TODAY = date.today()
START = TODAY + timedelta(days=40)
END = START + timedelta(days=20)


def _png(width: int = 40, height: int = 30) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


# --- the rules data -----------------------------------------------------------------------------


def test_rules_cover_every_eu_eea_state_switzerland_and_the_uk():
    expected = {c for c in all_codes() if group_of(c) in ("EU", "EEA", "CH", "GB")}
    assert set(RULES.rules) == expected
    assert len(expected) == 32


def test_every_entry_has_a_public_source_and_an_applies_from_date():
    for rule in RULES.rules.values():
        assert rule.source.url.startswith(("https://", "http://")), rule.state
        assert isinstance(rule.applies_from, date), rule.state
        if rule.required:
            assert rule.portal_url.startswith(("https://", "http://")), rule.state
            assert rule.documents and "declaration_receipt" in rule.documents, rule.state


@pytest.mark.parametrize("missing", ["source", "applies_from"])
def test_an_entry_without_source_or_date_is_refused(missing):
    document = json.loads(Path("web/declarations/data/rules.json").read_text())
    del document["states"]["FR"][missing]
    with pytest.raises(RulesDataError, match="FR"):
        parse_rules(document)
    document = json.loads(Path("web/declarations/data/rules.json").read_text())
    del document["unknown_source"]["url" if missing == "source" else "applies_from"]
    with pytest.raises(RulesDataError, match="BG"):
        parse_rules(document)


def test_the_sourced_states_and_their_lead_times():
    # The states the issue names first, as their sources state them.
    assert RULES.for_state("CH").lead_days == 8 and RULES.for_state("CH").counting == CALENDAR
    assert RULES.for_state("IT").lead_days == 1
    for state in ("FR", "AT", "BE", "NL", "DE"):
        assert RULES.for_state(state).required and RULES.for_state(state).lead_days == 0
    assert RULES.for_state("DE").exemptions == ("sector_not_listed",)
    assert len(SOURCED) >= 14


def test_cli_prints_every_rule_with_its_source(runner):
    result = runner.invoke(args=["declarations", "rules"])
    assert result.exit_code == 0, result.output
    for rule in RULES.rules.values():
        assert f"{rule.state}  " in result.output
        assert rule.source.url in result.output
    assert "GB  unknown - check the national posting website" in result.output
    as_json = runner.invoke(args=["declarations", "rules", "--json"])
    states = {s["state"]: s for s in json.loads(as_json.output)["states"]}
    assert states["CH"]["lead_time"] == {
        "days": 8,
        "counting": "calendar",
        "when": RULES.for_state("CH").deadline,
    }
    assert all(s["source"]["url"] and s["applies_from"] for s in states.values())


# --- file-by dates ------------------------------------------------------------------------------


@pytest.mark.parametrize("start_offset", range(7))  # every weekday of the start
@pytest.mark.parametrize("lead", [1, 3, 5, 8])
def test_working_days_skip_weekends(start_offset, lead):
    start = date(2026, 3, 2) + timedelta(days=start_offset)  # Monday 2 March 2026 + n
    got = file_by_date(start, lead, WORKING)
    assert got.weekday() < 5  # a working day
    span = [got + timedelta(days=i) for i in range((start - got).days)]
    assert sum(day.weekday() < 5 for day in span) == lead  # exactly `lead` working days
    assert file_by_date(start, lead, CALENDAR) == start - timedelta(days=lead)


def test_working_days_across_a_weekend_examples():
    monday = date(2026, 3, 9)
    assert file_by_date(monday, 1, WORKING) == date(2026, 3, 6)  # the Friday before
    assert file_by_date(monday, 3, WORKING) == date(2026, 3, 4)  # Wednesday, not Friday
    assert file_by_date(monday, 3, CALENDAR) == date(2026, 3, 6)
    assert file_by_date(date(2026, 3, 8), 1, WORKING) == date(2026, 3, 6)  # Sunday start


def _working_rules(monkeypatch):
    """The rules with one state counting working days (none of the sourced ones does)."""
    import web.declarations.rules as rules_module

    document = json.loads(Path("web/declarations/data/rules.json").read_text())
    document["states"]["PL"]["lead"] = {"days": 3, "counting": "working", "when": "3 days"}
    parsed = parse_rules(document)
    monkeypatch.setattr(rules_module, "load_rules", lambda: parsed)
    monkeypatch.setattr("web.declarations.services.load_rules", lambda: parsed)
    return parsed


# --- per trip -----------------------------------------------------------------------------------


@pytest.fixture
def world(app, data):
    companies = {}
    for key, seat in (("a", "DE"), ("b", "DE")):
        company = data.company(f"Declarations {key.upper()}", seat_state=seat)
        admin = data.user(Role.EMPLOYER_ADMIN, company, email=f"decl-admin-{key}@example.com")
        employee = data.employee(company, email=f"decl-employee-{key}@example.com")
        trip = data.trip(employee, "FR", START, END)
        companies[key] = {"company": company, "admin": admin, "employee": employee, "trip": trip}
    companies["support"] = data.user(Role.SUPPORT, None, "decl-support@example.com")
    return companies


def _status(app, trip_id, today=TODAY):
    from web.declarations.services import declaration_status_for_trip

    with app.test_request_context("/"):
        return declaration_status_for_trip(db.session.get(Trip, trip_id), today)


def _answer(app, trip_id, service: str, exemption: str = ""):
    from web.declarations.services import answer_question

    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        admin = db.session.scalar(
            select(User).where(
                User.company_id == trip.company_id, User.role == Role.EMPLOYER_ADMIN.value
            )
        )
        answer_question(trip, service, exemption, actor=admin)
        db.session.commit()


def _company_for(app, data, state: str) -> tuple[int, int]:
    """An employee of a company seated elsewhere than ``state``."""
    seat = "AT" if state == "DE" else "DE"
    company = data.company(f"Seat {seat} for {state}", seat_state=seat)
    data.user(Role.EMPLOYER_ADMIN, company, email=f"admin-{state.lower()}@example.com")
    return company, data.employee(
        company,
        email=f"emp-{state.lower()}@example.com",
        nationality=seat,
        residence_state=seat,
        home_state=seat,
    )


@pytest.mark.parametrize("state", SOURCED)
def test_a_service_posting_needs_a_declaration(app, data, state):
    rule = RULES.for_state(state)
    _company, employee = _company_for(app, data, state)
    trip = data.trip(employee, state, START, END)
    assert _status(app, trip).state == DeclarationState.QUESTION
    _answer(app, trip, "yes")
    status = _status(app, trip)
    assert status.state == DeclarationState.REQUIRED, (state, status)
    assert status.file_by == START - timedelta(days=rule.lead_days)
    assert status.rule.portal_url and status.documents
    # After the file-by date, with nothing recorded, it is missing.
    late = _status(app, trip, today=status.file_by + timedelta(days=1))
    assert late.state == DeclarationState.MISSING


@pytest.mark.parametrize("state", SOURCED)
def test_an_exempt_trip_needs_none(app, data, state):
    rule = RULES.for_state(state)
    _company, employee = _company_for(app, data, state)
    trip = data.trip(employee, state, START, END)
    if rule.exemptions:
        exemption = rule.exemptions[-1]
        _answer(app, trip, "yes", exemption)
        status = _status(app, trip)
        assert status.state == DeclarationState.NOT_REQUIRED
        with app.test_request_context("/"):
            assert str(EXEMPTION_LABELS[exemption]) in status.reason
    _answer(app, trip, "no")
    status = _status(app, trip)
    assert status.state == DeclarationState.NOT_REQUIRED
    with app.test_request_context("/"):
        assert status.reason == str(REASON_LABELS[NotRequiredReason.NO_SERVICE])


@pytest.mark.parametrize("state", [r.state for r in RULES.unknown])
def test_an_unknown_state_answers_check_never_not_required(app, data, state):
    _company, employee = _company_for(app, data, state)
    trip = data.trip(employee, state, START, END)
    for answer in (None, "no", "yes"):
        if answer:
            _answer(app, trip, answer)
        status = _status(app, trip)
        assert status.state == DeclarationState.UNKNOWN, (state, answer)
        assert "posting website" in status.next_step
        assert status.bucket == "required"


def test_the_employers_own_country_and_other_states(app, data, world):
    company = data.company("Seated in France", seat_state="FR")
    trip = data.trip(data.employee(company, email="fr-seat@example.com"), "FR", START, END)
    assert _status(app, trip).state == DeclarationState.NOT_REQUIRED
    outside = data.trip(world["a"]["employee"], "US", START, END)
    status = _status(app, outside)
    assert status.state == DeclarationState.NOT_REQUIRED and status.rule is None


def test_a_state_counting_working_days_gives_a_file_by_before_the_weekend(app, data, monkeypatch):
    _working_rules(monkeypatch)
    _company, employee = _company_for(app, data, "PL")
    monday = START + timedelta(days=(7 - START.weekday()) % 7)
    trip = data.trip(employee, "PL", monday, monday + timedelta(days=5))
    _answer(app, trip, "yes")
    status = _status(app, trip)
    assert status.file_by == monday - timedelta(days=5)  # Wednesday: the weekend skipped
    assert status.file_by.weekday() == 2


# --- the filing over HTTP -----------------------------------------------------------------------


def _admin_client(app, email):
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    return client, csrf_token(client, "/account")


def _file(client, token, trip, **fields):
    data = {"csrf_token": token, "filed_on": TODAY.isoformat(), "receipt_number": "SIPSI-42"}
    data.update({k: v for k, v in fields.items() if k != "receipt"})
    receipt = fields.get("receipt", tiny_pdf())
    if receipt is not None:
        data["receipt"] = (io.BytesIO(receipt), fields.get("filename", "receipt.pdf"))
    return client.post(
        f"/declarations/trips/{trip}/filing", data=data, content_type="multipart/form-data"
    )


def _stored(app):
    with app.app_context():
        documents = Path(app.config["DOCUMENTS_PATH"])
        files = [p for p in documents.rglob("*") if p.is_file() and "declarations" in p.parts]
        return db.session.scalar(select(func.count()).select_from(Declaration)), files


def test_the_trip_page_shows_the_panel_and_records_a_filing(app, world):
    client, token = _admin_client(app, "decl-admin-a@example.com")
    trip = world["a"]["trip"]
    page = client.get(f"/admin/trips/{trip}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="declaration"' in html and "Does the employee provide a service there" in html
    answered = client.post(
        f"/declarations/trips/{trip}/answer",
        data={"csrf_token": token, "provides_service": "yes", "exemption": ""},
    )
    assert answered.status_code == 302
    assert answered.headers["Location"].endswith(f"/admin/trips/{trip}#declaration")
    html = client.get(f"/admin/trips/{trip}").get_data(as_text=True)
    assert "Declaration required" in html and "sipsi.travail.gouv.fr" in html
    response = _file(client, token, trip, receipt=_png(), filename="photo.png")
    assert response.status_code == 302, response.get_data(as_text=True)
    status = _status(app, trip)
    assert status.state == DeclarationState.FILED
    assert status.declaration.receipt_number == "SIPSI-42"
    assert status.receipt.media_type == "image/png"
    download = client.get(f"/declarations/trips/{trip}/receipt")
    assert download.status_code == 200 and download.data == _png()
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "declaration.filed")
            )
            == 1
        )


def test_provider_staff_record_for_any_company(app, world):
    client, token = _admin_client(app, "decl-support@example.com")
    trip = world["b"]["trip"]
    page = client.get(f"/declarations/trips/{trip}")
    assert page.status_code == 200 and 'id="declaration"' in page.get_data(as_text=True)
    response = _file(client, token, trip, receipt=_jpeg(), filename="scan.jpg")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/declarations/trips/{trip}")
    assert _status(app, trip).receipt.media_type == "image/jpeg"


BAD_RECEIPTS = {
    "text": (b"just some text, not a receipt", "receipt"),
    "broken_pdf": (b"%PDF-1.7\nthis is no pdf at all", "receipt"),
    "truncated_png": (_png()[:60], "receipt"),
    "gif": (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00"
        b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
        "receipt",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_RECEIPTS))
def test_a_receipt_that_is_no_pdf_or_image_changes_nothing(app, world, case):
    client, token = _admin_client(app, "decl-admin-a@example.com")
    trip = world["a"]["trip"]
    content, field = BAD_RECEIPTS[case]
    response = _file(client, token, trip, receipt=content, filename="x.pdf")
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _stored(app) == (0, [])
    with app.app_context():
        refused = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "declaration.receipt_refused")
        ).all()
        assert [e.outcome for e in refused] == ["denied"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"filed_on": (END + timedelta(days=1)).isoformat()}, "filed_on"),
        ({"filed_on": (TODAY + timedelta(days=1)).isoformat()}, "filed_on"),
        ({"filed_on": "not a date"}, "filed_on"),
        ({"receipt_number": ""}, "receipt_number"),  # SIPSI issues a number
        ({"receipt_number": "x" * 101}, "receipt_number"),
        ({"receipt": None}, "receipt"),
    ],
)
def test_bad_filing_input_names_the_field_and_stores_nothing(app, world, fields, field):
    client, token = _admin_client(app, "decl-admin-a@example.com")
    response = _file(client, token, world["a"]["trip"], **fields)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _stored(app) == (0, [])


def test_an_oversized_receipt_is_413(app, world):
    client, token = _admin_client(app, "decl-admin-a@example.com")
    response = _file(client, token, world["a"]["trip"], receipt=b"%PDF-" + b"0" * (10 << 20))
    assert response.status_code == 413
    assert _stored(app) == (0, [])


def test_errors_speak_the_admins_language(app, world):
    with app.app_context():
        db.session.get(User, world["a"]["admin"]).locale = "fr"
        db.session.commit()
    client, token = _admin_client(app, "decl-admin-a@example.com")
    response = _file(client, token, world["a"]["trip"], receipt_number="")
    html = response.get_data(as_text=True)
    from flask_babel import gettext

    with app.test_request_context("/"), force_locale("fr"):
        french = gettext("is required: %(portal)s gives a number with the receipt", portal="SIPSI")
    assert french != "is required: SIPSI gives a number with the receipt"
    assert french in html


def test_bad_answers_and_form_fields_are_refused(app, world):
    client, token = _admin_client(app, "decl-admin-a@example.com")
    trip = world["a"]["trip"]
    bad = client.post(
        f"/declarations/trips/{trip}/answer",
        data={"csrf_token": token, "provides_service": "maybe", "exemption": "holiday"},
    )
    assert bad.status_code == 422
    form = client.post(
        f"/declarations/trips/{trip}/form",
        data={"csrf_token": token, "contact_email": "not-mail", "contact_phone": "call me"},
    )
    assert form.status_code == 422
    assert 'id="contact_email-error"' in form.get_data(as_text=True)
    assert _stored(app) == (0, [])
    ok = client.post(
        f"/declarations/trips/{trip}/form",
        data={"csrf_token": token, "contact_name": "Claire Martin", "sector": "F43.21"},
    )
    assert ok.status_code == 302
    assert _status(app, trip).declaration.contact_name == "Claire Martin"


# --- access and tenants -------------------------------------------------------------------------

ROUTES = ["", "/answer", "/form", "/filing", "/receipt"]


def test_another_companys_trip_is_404_everywhere_and_unchanged(app, world):
    client, token = _admin_client(app, "decl-admin-a@example.com")
    trip_b = world["b"]["trip"]
    for suffix in ROUTES:
        url = f"/declarations/trips/{trip_b}{suffix}"
        for method in ("GET", "POST"):
            response = client.open(
                url, method=method, data={"csrf_token": token, "provides_service": "no"}
            )
            assert response.status_code in (404, 405), (method, url)
    assert client.get(f"/api/v1/trips/{trip_b}/declaration").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Declaration)) == 0
        denied = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "access.not_found", AuditEvent.object_id == str(trip_b))
        )
        assert denied >= 6


def test_employees_may_only_fetch_their_own_receipt(app, world):
    admin, token = _admin_client(app, "decl-admin-a@example.com")
    assert _file(admin, token, world["a"]["trip"]).status_code == 302
    own, _token = _admin_client(app, "decl-employee-a@example.com")
    assert own.get(f"/declarations/trips/{world['a']['trip']}/receipt").status_code == 200
    assert own.get(f"/declarations/trips/{world['a']['trip']}").status_code == 403
    assert own.get(f"/api/v1/trips/{world['a']['trip']}/declaration").status_code == 403
    other, _token = _admin_client(app, "decl-employee-b@example.com")
    assert other.get(f"/declarations/trips/{world['a']['trip']}/receipt").status_code == 404


# --- the JSON export ----------------------------------------------------------------------------


def test_the_export_has_the_standard_form_and_matches_its_schema(app, world):
    import jsonschema

    from web.api.openapi import openapi_document

    client, token = _admin_client(app, "decl-admin-a@example.com")
    trip = world["a"]["trip"]
    client.post(
        f"/declarations/trips/{trip}/form",
        data={"csrf_token": token, "contact_name": "Claire Martin", "workplace_address": "Lyon"},
    )
    assert _file(client, token, trip).status_code == 302
    body = client.get(f"/api/v1/trips/{trip}/declaration").json
    document = openapi_document()
    schema = {
        **document["components"]["schemas"]["DeclarationExport"],
        "components": document["components"],
    }
    jsonschema.validate(body, schema)
    form = body["standard_form"]
    assert body["status"] == "filed" and body["filing"]["receipt_number"] == "SIPSI-42"
    assert form["posted_worker"]["family_name"] == "Müller"
    assert form["period"] == {"start": START.isoformat(), "end": END.isoformat()}
    assert form["place_of_work"] == {"state": "FR", "address": "Lyon"}
    assert form["contact_person"]["name"] == "Claire Martin"
    assert form["service_provider"]["state_of_establishment"] == "DE"
    assert "/api/v1/trips/{trip_id}/declaration" in document["paths"]


# --- the inspection bundle's service ------------------------------------------------------------


def test_inspection_bundle_in_the_readers_language(app, world):
    from web.declarations.services import inspection_bundle_for_trip

    client, token = _admin_client(app, "decl-admin-a@example.com")
    trip = world["a"]["trip"]
    with app.test_request_context("/"):
        bundle = inspection_bundle_for_trip(db.session.get(Trip, trip))
        assert bundle.status.state == DeclarationState.QUESTION and bundle.line is None
    _answer(app, trip, "yes")
    with app.test_request_context("/"):
        bundle = inspection_bundle_for_trip(db.session.get(Trip, trip))
        assert "not recorded" in bundle.line
    client.post(
        f"/declarations/trips/{trip}/form",
        data={"csrf_token": token, "contact_name": "Claire Martin"},
    )
    assert _file(client, token, trip).status_code == 302
    for lang in ("en", "fr", "de", "nl", "it", "es", "pl"):
        with app.test_request_context("/"), force_locale(lang):
            bundle = inspection_bundle_for_trip(db.session.get(Trip, trip))
            assert "SIPSI-42" in bundle.line and "Claire Martin" in bundle.contact_line
            assert bundle.receipt is not None and bundle.receipt.url.endswith("/receipt")
            if lang != "en":
                assert "Posted-worker declaration" not in bundle.line, lang


def test_a_filing_date_after_a_past_trips_end_is_refused(app, data, world):
    ended = data.trip(
        world["a"]["employee"], "BE", TODAY - timedelta(days=30), TODAY - timedelta(days=10)
    )
    client, token = _admin_client(app, "decl-admin-a@example.com")
    late = (TODAY - timedelta(days=5)).isoformat()
    response = _file(client, token, ended, filed_on=late, receipt_number="L1-1")
    assert response.status_code == 422
    assert 'id="filed_on-error"' in response.get_data(as_text=True)
    assert _stored(app) == (0, [])
    on_time = (TODAY - timedelta(days=31)).isoformat()
    assert _file(client, token, ended, filed_on=on_time, receipt_number="L1-1").status_code == 302


def test_a_new_receipt_replaces_the_old_file(app, world):
    client, token = _admin_client(app, "decl-admin-a@example.com")
    trip = world["a"]["trip"]
    assert _file(client, token, trip).status_code == 302
    assert _file(client, token, trip, receipt=_jpeg(), filename="scan.jpg").status_code == 302
    count, files = _stored(app)
    assert count == 1 and [f.suffix for f in files] == [".jpg"]
    assert client.get(f"/declarations/trips/{trip}/receipt").data == _jpeg()
    # Without a new file, a correction keeps the receipt.
    assert _file(client, token, trip, receipt=None, receipt_number="SIPSI-43").status_code == 302
    assert _stored(app)[1] == files
    assert _status(app, trip).declaration.receipt_number == "SIPSI-43"


def test_the_employee_is_told_before_the_trip(app, world):
    from web.declarations.services import inspection_bundle_for_trip

    _answer(app, world["a"]["trip"], "yes")
    with app.test_request_context("/"), force_locale("pl"):
        bundle = inspection_bundle_for_trip(db.session.get(Trip, world["a"]["trip"]))
        assert bundle.employee_notice and "Francja" in bundle.employee_notice
