"""Issue 8's employer workflows: each trip through the engine, certificate requests from draft to
the authority's decision, provisional certificates, extensions, Art 16 derogations, multi-state
renewals, the coverage dashboard and the operator's filing states."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.factories import Factories, tiny_pdf
from tests.helpers import csrf_token, post_form
from web.extensions import db
from web.filing.certificate_requests import open_due_renewals
from web.models import (
    AuditEvent,
    Certificate,
    CertificateRequest,
    FilingState,
    Role,
    Trip,
)

TODAY = date.today()
PDF = tiny_pdf()
CHECKLIST = {
    "registered_for_period": "y",
    "prior_insurance_confirmed": "y",
    "not_replacing_confirmed": "y",
    "substantial_activity_confirmed": "y",
}


@pytest.fixture
def world(app, data, client):
    company = data.company("Nordwind", seat_state="DE")
    data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    employee = data.employee(company, email="anna@example.com")
    AuthActions(client).login("admin@example.com")
    return {"company": company, "employee": employee}


def _trip_form(destination: str, start: date, end: date, **extra: str) -> dict[str, str]:
    return {
        "destination_state": destination,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "kind": "posting",
        "employment_status": "employed",
        "prior_insurance_months": "24",
        "employer_substantial_activity": "y",
        "art16_agreement": "none",
        **extra,
    }


def _add_trip(client, employee: int, form: dict[str, str]):
    return post_form(client, f"/admin/employees/{employee}/trips/new", form)


def _only(app, model, **where):
    with app.app_context():
        rows = db.session.scalars(select(model).filter_by(**where)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _record_issued(client, path: str, start: date, end: date) -> None:
    """The authority's document arrived for the request at ``path``; the provider's reviewer
    confirms the record (an admin's record waits for that review)."""
    token = csrf_token(client, path)
    response = client.post(
        f"{path}/issued",
        data={
            "valid_from": start.isoformat(),
            "valid_to": end.isoformat(),
            "issuing_institution": "DE:DRV-BUND",
            "csrf_token": token,
            "document": (io.BytesIO(PDF), "a1.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    certificate_id = response.headers["Location"].rstrip("/").split("/")[-1]
    Factories(client.application).confirm_official(certificate_id)


def _trip_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


# --- the trip through the engine ---------------------------------------------------------------


def test_new_trip_is_checked_at_once_and_shows_its_rule_and_reasons(app, client, world):
    start = TODAY + timedelta(days=90)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", start, start)))
    (trip,) = _only(app, Trip, id=trip_id)
    result = json.loads(trip.coverage_json)
    assert (trip.coverage_type, trip.coverage_category) == ("A1", "official")
    assert result["legislation_state"] == "DE"
    page = client.get(f"/admin/trips/{trip_id}").get_data(as_text=True)
    assert "Art 12(1)" in page  # the rule applied
    assert "Posting from Germany to France" in page  # the engine's reasons
    assert "The provider files the request with the authority" in page


def test_trip_the_engine_cannot_assess_is_refused_with_the_field_named(app, client, world):
    start = TODAY + timedelta(days=30)
    form = _trip_form("FR", start, start + timedelta(days=200), kind="regular_multi_state")
    response = _add_trip(client, world["employee"], form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="work_split-error"' in html
    assert "The coverage check cannot assess this" in html
    assert _only(app, Trip) == []  # nothing half-saved

    form["work_split"] = "DE sixty"
    response = _add_trip(client, world["employee"], form)
    assert response.status_code == 422
    assert "DE sixty" in response.get_data(as_text=True)

    form["work_split"] = "DE 60, FR 30"  # adds up to 90
    response = _add_trip(client, world["employee"], form)
    assert response.status_code == 422
    assert "100" in response.get_data(as_text=True)

    form["prior_insurance_months"] = "many"
    response = _add_trip(client, world["employee"], form)
    assert response.status_code == 422
    assert 'id="prior_insurance_months-error"' in response.get_data(as_text=True)


def test_no_treaty_says_no_certificate_exists_and_what_home_cover_may_apply(app, client, world):
    start = TODAY + timedelta(days=20)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("TH", start, start)))
    (trip,) = _only(app, Trip, id=trip_id)
    assert trip.coverage_type == "none_no_treaty"
    assert _only(app, Certificate) == [] and _only(app, CertificateRequest) == []
    page = client.get(f"/admin/trips/{trip_id}").get_data(as_text=True)
    assert "no certificate can exist" in page  # the one plain sentence first
    assert "Ausstrahlung" in page  # the home cover that may still apply (German law)
    rows = client.get("/admin/coverage?status=no_agreement").get_data(as_text=True)
    assert f"/admin/trips/{trip_id}" in rows


# --- provisional category: issued at once -------------------------------------------------------


def _operator_removes(app, state: str) -> None:
    with app.app_context():
        db.session.delete(db.session.get(FilingState, state))
        db.session.commit()


def test_provisional_category_issues_a_signed_certificate_at_once(app, client, world):
    _operator_removes(app, "DE")
    start = TODAY + timedelta(days=5)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", start, start)))
    (cert,) = _only(app, Certificate, trip_id=trip_id)
    assert (cert.kind, cert.document_type, cert.legislation_state) == ("provisional", "A1", "DE")
    assert (cert.valid_from, cert.valid_to) == (start, start)
    assert cert.qr_text and cert.signing_kid  # signed
    assert _only(app, CertificateRequest) == []

    # In the employee's wallet.
    employee_client = app.test_client()
    AuthActions(employee_client).login("anna@example.com")
    assert cert.id in employee_client.get("/wallet/").get_data(as_text=True)

    # Extended trip: a new provisional for the longer period replaces the old one.
    form = _trip_form("FR", start, start + timedelta(days=40))
    response = post_form(client, f"/admin/trips/{trip_id}/edit", form)
    assert response.status_code == 302
    certs = {c.id: c for c in _only(app, Certificate, trip_id=trip_id)}
    assert certs[cert.id].status == "superseded"
    (new,) = [c for c in certs.values() if c.status == "active"]
    assert new.valid_to == start + timedelta(days=40)

    # Saved again unchanged: nothing new.
    assert post_form(client, f"/admin/trips/{trip_id}/edit", form).status_code == 302
    assert len(_only(app, Certificate, trip_id=trip_id)) == 2


def test_bilateral_posting_beyond_the_agreement_is_split_and_certified_for_its_first_part(
    app, client, world
):
    _operator_removes(app, "DE")
    start = TODAY + timedelta(days=10)
    end = start + timedelta(days=365 * 2 + 200)  # DE–KR: 24 months at most
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("KR", start, end)))
    (trip,) = _only(app, Trip, id=trip_id)
    result = json.loads(trip.coverage_json)
    assert len(result["segments"]) == 2, result
    (cert,) = _only(app, Certificate, trip_id=trip_id)
    assert cert.document_type == "CoC"
    assert cert.valid_from == start
    assert cert.valid_to == date.fromisoformat(result["segments"][0]["end_date"]) < end
    page = client.get(f"/admin/trips/{trip_id}").get_data(as_text=True)
    assert "Periods" in page


# --- official category: the request -------------------------------------------------------------


def _request_of(app, trip_id: int) -> CertificateRequest:
    (req,) = _only(app, CertificateRequest, trip_id=trip_id)
    return req


def test_official_request_from_draft_to_issued_with_a_provisional_for_the_meantime(
    app, client, world
):
    start = TODAY + timedelta(days=10)  # before the 30 days of lead time are over
    trip_id = _trip_id(
        _add_trip(client, world["employee"], _trip_form("FR", start, start + timedelta(days=20)))
    )
    req = _request_of(app, trip_id)
    assert (req.status, req.kind, req.lead_time_days) == ("draft", "initial", 30)
    page = client.get(f"/admin/requests/{req.id}").get_data(as_text=True)
    assert "Dimona" in page and "about 30 days" in page
    assert "cannot arrive before the trip starts" in page

    # Every precondition must be confirmed before filing.
    response = post_form(
        client,
        f"/admin/requests/{req.id}/submit",
        {"registered_for_period": "y"},
        token_from=f"/admin/requests/{req.id}",
    )
    assert response.status_code == 422
    assert 'id="prior_insurance_confirmed-error"' in response.get_data(as_text=True)
    assert _request_of(app, trip_id).status == "draft"

    response = post_form(
        client,
        f"/admin/requests/{req.id}/submit",
        CHECKLIST,
        token_from=f"/admin/requests/{req.id}",
    )
    assert response.status_code == 302
    req = _request_of(app, trip_id)
    assert req.status == "submitted"
    assert req.expected_by == TODAY + timedelta(days=30)
    (provisional,) = _only(app, Certificate, trip_id=trip_id)
    assert provisional.kind == "provisional" and provisional.id == req.provisional_certificate_id
    assert client.get("/admin/coverage").get_data(as_text=True).count("chip-coverage-provisional")

    # Filing twice is refused, not repeated.
    again = post_form(
        client,
        f"/admin/requests/{req.id}/submit",
        CHECKLIST,
        token_from=f"/admin/requests/{req.id}",
    )
    assert again.status_code == 422

    # The authority's document: a PDF is required.
    decision = {
        "valid_from": start.isoformat(),
        "valid_to": (start + timedelta(days=20)).isoformat(),
        "issuing_institution": "DE:DRV-BUND",
        "authority_reference": "A1-2026-0042",
    }
    token = csrf_token(client, f"/admin/requests/{req.id}")
    response = client.post(
        f"/admin/requests/{req.id}/issued", data={**decision, "csrf_token": token}
    )
    assert response.status_code == 422
    response = client.post(
        f"/admin/requests/{req.id}/issued",
        data={**decision, "csrf_token": token, "document": (io.BytesIO(PDF), "a1.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    req = _request_of(app, trip_id)
    assert req.status == "issued"
    certs = {c.id: c for c in _only(app, Certificate, trip_id=trip_id)}
    official = certs[req.certificate_id]
    assert (official.kind, official.authority_reference) == ("official", "A1-2026-0042")
    # Recorded by the admin, it waits for the provider: the provisional one still covers.
    assert (official.status, certs[provisional.id].status) == ("pending_review", "active")
    Factories(app).confirm_official(official.id)
    certs = {c.id: c for c in _only(app, Certificate, trip_id=trip_id)}
    assert certs[provisional.id].status == "superseded"
    rows = client.get("/admin/coverage?status=covered").get_data(as_text=True)
    assert f"/admin/trips/{trip_id}" in rows


def test_request_far_ahead_issues_no_provisional_and_a_refusal_is_recorded(app, client, world):
    start = TODAY + timedelta(days=120)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("AT", start, start)))
    req = _request_of(app, trip_id)
    path = f"/admin/requests/{req.id}"
    assert post_form(client, f"{path}/submit", CHECKLIST, token_from=path).status_code == 302
    assert _only(app, Certificate) == []  # the document arrives before the trip
    assert f"/admin/trips/{trip_id}" in client.get("/admin/coverage?status=requested").get_data(
        as_text=True
    )
    response = post_form(client, f"{path}/refused", {"reason": "  "}, token_from=path)
    assert response.status_code == 422
    response = post_form(
        client, f"{path}/refused", {"reason": "Not employed for the period"}, token_from=path
    )
    assert response.status_code == 302
    req = _request_of(app, trip_id)
    assert (req.status, req.refusal_reason) == ("refused", "Not employed for the period")
    assert f"/admin/trips/{trip_id}" in client.get("/admin/coverage?status=not_covered").get_data(
        as_text=True
    )


def test_refusal_withdraws_the_provisional_certificate_of_the_meantime(app, client, world):
    start = TODAY + timedelta(days=3)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", start, start)))
    req = _request_of(app, trip_id)
    path = f"/admin/requests/{req.id}"
    post_form(client, f"{path}/submit", CHECKLIST, token_from=path)
    post_form(client, f"{path}/refused", {"reason": "Host law applies"}, token_from=path)
    (provisional,) = _only(app, Certificate, trip_id=trip_id)
    assert provisional.status == "withdrawn"
    assert "Host law applies" in provisional.withdrawal_reason


def test_extension_of_an_officially_covered_trip_is_a_request_for_the_new_period(
    app, client, world, data
):
    start = TODAY + timedelta(days=60)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", start, start)))
    req = _request_of(app, trip_id)
    path = f"/admin/requests/{req.id}"
    post_form(client, f"{path}/submit", CHECKLIST, token_from=path)
    _record_issued(client, path, start, start)
    new_end = start + timedelta(days=45)
    response = post_form(client, f"/admin/trips/{trip_id}/edit", _trip_form("FR", start, new_end))
    assert response.status_code == 302
    extension = [r for r in _only(app, CertificateRequest, trip_id=trip_id) if r.kind != "initial"]
    assert len(extension) == 1
    assert (extension[0].kind, extension[0].status) == ("extension", "draft")
    assert (extension[0].period_start, extension[0].period_end) == (
        start + timedelta(days=1),
        new_end,
    )
    initial = _request_of_kind(app, trip_id, "initial")
    assert initial.certificate_id is not None
    assert extension[0].previous_certificate_id == initial.certificate_id


def _request_of_kind(app, trip_id: int, kind: str) -> CertificateRequest:
    (req,) = [r for r in _only(app, CertificateRequest, trip_id=trip_id) if r.kind == kind]
    return req


# --- Art 16 derogation ---------------------------------------------------------------------------


def test_art16_derogation_for_a_posting_beyond_24_months(app, client, world):
    start = TODAY + timedelta(days=40)  # less than 3 months away: the warning
    end = start + timedelta(days=900)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", start, end)))
    (trip,) = _only(app, Trip, id=trip_id)
    assert trip.coverage_type == "none_host_legislation"
    assert _only(app, CertificateRequest) == []
    page = client.get(f"/admin/trips/{trip_id}").get_data(as_text=True)
    assert "Ask for an exception (Art 16)" in page  # the next step

    response = post_form(
        client, f"/admin/trips/{trip_id}/requests/derogation", token_from=f"/admin/trips/{trip_id}"
    )
    assert response.status_code == 302
    req = _request_of(app, trip_id)
    assert (req.kind, req.certificate_type, req.legislation_state) == (
        "derogation_art16",
        "A1_via_derogation_art16",
        "DE",
    )
    path = f"/admin/requests/{req.id}"
    assert "less than 3 months" in client.get(path).get_data(as_text=True)

    post_form(client, f"{path}/submit", CHECKLIST, token_from=path)
    (trip,) = _only(app, Trip, id=trip_id)
    assert (trip.art16_agreement, trip.coverage_type) == ("requested", "review_required")
    assert _only(app, Certificate) == []  # no provisional for a derogation not yet granted

    _record_issued(client, path, start, end)
    (trip,) = _only(app, Trip, id=trip_id)
    assert (trip.art16_agreement, trip.coverage_type) == ("granted", "A1_via_derogation_art16")
    (cert,) = _only(app, Certificate, trip_id=trip_id)
    assert (cert.kind, cert.valid_to) == ("official", end)


def test_derogation_is_refused_for_a_short_posting(app, client, world):
    start = TODAY + timedelta(days=200)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", start, start)))
    response = post_form(
        client, f"/admin/trips/{trip_id}/requests/derogation", token_from=f"/admin/trips/{trip_id}"
    )
    assert response.status_code == 422
    assert "more than 24 months" in response.get_data(as_text=True)


# --- multi-state renewal ------------------------------------------------------------------------


def test_multi_state_a1_is_renewed_each_time_it_expires(app, client, world, data):
    start = TODAY - timedelta(days=300)
    end = TODAY + timedelta(days=700)
    form = _trip_form("FR", start, end, kind="regular_multi_state", work_split="DE 60, FR 40")
    trip_id = _trip_id(_add_trip(client, world["employee"], form))
    (trip,) = _only(app, Trip, id=trip_id)
    assert (trip.coverage_type, json.loads(trip.coverage_json)["legislation_state"]) == ("A1", "DE")
    initial = _request_of(app, trip_id)
    path = f"/admin/requests/{initial.id}"
    post_form(client, f"{path}/submit", CHECKLIST, token_from=path)
    first_end = TODAY + timedelta(days=20)
    _record_issued(client, path, start, first_end)
    assert "Request the renewal of the A1" in client.get(f"/admin/trips/{trip_id}").get_data(
        as_text=True
    )
    # The daily job opens the renewal by itself; a second run does not repeat it.
    with app.app_context():
        created = open_due_renewals(TODAY)
        db.session.commit()
        assert len(created) == 1
        assert open_due_renewals(TODAY) == []
    renewal = _request_of_kind(app, trip_id, "renewal")
    assert renewal.period_start == first_end + timedelta(days=1)
    assert renewal.period_end == first_end + timedelta(days=365)  # 12 months ahead at most
    assert (
        renewal.previous_certificate_id == _request_of_kind(app, trip_id, "initial").certificate_id
    )


def test_renewal_command_runs_from_cron(app, runner, world):
    result = runner.invoke(args=["coverage", "renewals"])
    assert result.exit_code == 0, result.output
    assert "0 renewal request" in result.output


# --- the dashboard ------------------------------------------------------------------------------


def test_dashboard_filters_and_csv_export(app, client, world, data):
    _operator_removes(app, "DE")
    june = date(TODAY.year + 1, 6, 10)
    fr = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", june, june)))
    at = _trip_id(
        _add_trip(
            client,
            world["employee"],
            _trip_form("AT", june + timedelta(days=30), june + timedelta(days=31)),
        )
    )
    th = _trip_id(_add_trip(client, world["employee"], _trip_form("TH", june, june)))

    def listed(query: str) -> set[int]:
        html = client.get(f"/admin/coverage?{query}").get_data(as_text=True)
        return {t for t in (fr, at, th) if f'/admin/trips/{t}"' in html}

    assert listed("") == {fr, at, th}
    assert listed(f"month={june:%Y-%m}") == {fr, th}
    assert listed("country=AT") == {at}
    assert listed("status=no_agreement") == {th}
    assert listed("status=provisional") == {fr, at}
    htmx = client.get("/admin/coverage?country=fr", headers={"HX-Request": "true"})
    assert "<html" not in htmx.get_data(as_text=True) and f"/admin/trips/{fr}" in htmx.get_data(
        as_text=True
    )
    for bad in ("month=2026-13", "country=XX", "status=lost"):
        assert client.get(f"/admin/coverage?{bad}").status_code == 400
        assert client.get(f"/admin/coverage.csv?{bad}").status_code == 400

    response = client.get(f"/admin/coverage.csv?month={june:%Y-%m}")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {(int(r["trip_id"]), r["status"]) for r in rows} == {
        (fr, "provisional"),
        (th, "no_agreement"),
    }
    assert {r["certificate_type"] for r in rows} == {"A1", "none_no_treaty"}


def test_csv_cells_cannot_run_as_formulas(app, client, data):
    company = data.company("Formula Ltd")
    data.user(Role.EMPLOYER_ADMIN, company, email="f-admin@example.com")
    data.employee(company, email="eve@example.com", family_name="=HYPERLINK(1)")
    from web.trips.dashboard import _csv_cell

    assert _csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _csv_cell("@SUM") == "'@SUM" and _csv_cell("Müller") == "Müller"


def test_dashboard_shows_only_the_own_company(app, client, world, data):
    other = data.company("Other")
    other_employee = data.employee(other, email="other@example.com")
    other_trip = data.trip(other_employee)
    html = client.get("/admin/coverage").get_data(as_text=True)
    assert f'/admin/trips/{other_trip}"' not in html
    assert client.get(f"/admin/trips/{other_trip}").status_code == 404


# --- the operator's filing states ---------------------------------------------------------------


def test_operator_keeps_the_filing_states_and_the_engine_follows(app, client, data):
    data.user(Role.OPERATOR, None, email="op@example.com")
    operator = app.test_client()
    AuthActions(operator).login("op@example.com")
    page = "/operator/filing-states"
    assert "Germany (DE)" in operator.get(page).get_data(as_text=True)

    assert post_form(operator, page, {"state": "CH", "lead_time_days": "45"}).status_code == 302
    assert post_form(operator, page, {"state": "CH", "lead_time_days": "0"}).status_code == 422
    assert post_form(operator, page, {"state": "", "lead_time_days": "10"}).status_code == 422
    bad = post_form(operator, page, {"state": "CH", "lead_time_days": "soon"})
    assert bad.status_code == 422 and "whole number" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(FilingState, "CH").lead_time_days == 45

    # The API reads the same list: DE off the list → a DE posting is "provisional".
    company = data.company("Api Co")
    data.user(Role.EMPLOYER_ADMIN, company, email="api-admin@example.com")
    admin = app.test_client()
    AuthActions(admin).login("api-admin@example.com")
    case = {
        "home_state": "DE",
        "residence_state": "DE",
        "employment_status": "employed",
        "prior_insurance_months": 12,
        "trip": {
            "kind": "posting",
            "destination": "FR",
            "start_date": "2027-02-01",
            "end_date": "2027-02-28",
        },
    }
    token = csrf_token(admin, "/admin/employees")

    def category() -> str:
        response = admin.post("/api/v1/determinations", json=case, headers={"X-CSRFToken": token})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["provider_category"]

    assert category() == "official"
    response = post_form(operator, f"{page}/DE/remove", token_from=page)
    assert response.status_code == 302
    assert category() == "provisional"
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"filing_state.added", "filing_state.removed"} <= actions


def test_cancelled_trip_cancels_its_open_request(app, client, world):
    start = TODAY + timedelta(days=100)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", start, start)))
    assert (
        post_form(
            client, f"/admin/trips/{trip_id}/cancel", token_from=f"/admin/trips/{trip_id}"
        ).status_code
        == 302
    )
    assert _request_of(app, trip_id).status == "cancelled"


def test_the_wallet_tells_the_employee_where_an_uncovered_trip_stands(app, client, world):
    def wallet_text() -> str:
        employee = app.test_client()
        AuthActions(employee).login("anna@example.com")
        return employee.get("/wallet/").get_data(as_text=True)

    soon = TODAY + timedelta(days=100)
    _trip_id(_add_trip(client, world["employee"], _trip_form("TH", soon, soon)))
    assert "no certificate can exist" in wallet_text()

    far = soon + timedelta(days=30)
    _trip_id(_add_trip(client, world["employee"], _trip_form("FR", far, far + timedelta(days=900))))
    assert "The social security of France applies to this trip" in wallet_text()

    later = far + timedelta(days=1000)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("AT", later, later)))
    assert "has asked the authority" not in wallet_text()  # a draft is not filed yet
    req = _request_of(app, trip_id)
    path = f"/admin/requests/{req.id}"
    post_form(client, f"{path}/submit", CHECKLIST, token_from=path)
    assert "Your employer has asked the authority for your certificate" in wallet_text()


def test_a_draft_follows_its_trip_and_goes_when_no_certificate_is_needed(app, client, world):
    start = TODAY + timedelta(days=100)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", start, start)))
    draft = _request_of(app, trip_id)
    later = start + timedelta(days=7)
    response = post_form(client, f"/admin/trips/{trip_id}/edit", _trip_form("FR", later, later))
    assert response.status_code == 302
    moved = _request_of(app, trip_id)
    assert (moved.id, moved.period_start, moved.period_end) == (draft.id, later, later)

    # Longer than 24 months: host law applies, the draft has nothing left to ask for.
    end = later + timedelta(days=900)
    assert (
        post_form(client, f"/admin/trips/{trip_id}/edit", _trip_form("FR", later, end)).status_code
        == 302
    )
    assert _request_of(app, trip_id).status == "cancelled"


def test_a_filed_request_is_not_changed_by_a_trip_edit(app, client, world):
    start = TODAY + timedelta(days=100)
    trip_id = _trip_id(_add_trip(client, world["employee"], _trip_form("FR", start, start)))
    req = _request_of(app, trip_id)
    path = f"/admin/requests/{req.id}"
    post_form(client, f"{path}/submit", CHECKLIST, token_from=path)
    later = start + timedelta(days=7)
    post_form(client, f"/admin/trips/{trip_id}/edit", _trip_form("FR", later, later))
    filed = _request_of(app, trip_id)
    assert (filed.status, filed.period_start) == ("submitted", start)
    assert "beyond the period filed" in client.get(path).get_data(as_text=True)
