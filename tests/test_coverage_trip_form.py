"""The trip form asks for the facts that give a definite answer (issue 14, point 3): the
legislation before a person recruited for the posting, a self-employed person's fixed place of
business; the end first filed is kept on the trip from its history."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from tests.helpers import post_form
from web.extensions import db
from web.models import Role, Trip, User

POSTING = {
    "destination_state": "FR",
    "start_date": "2026-03-01",
    "end_date": "2026-06-30",
    "kind": "posting",
    "employment_status": "employed",
    "employer_substantial_activity": "y",
}
SELF_EMPLOYED_MULTI_STATE = {
    "destination_state": "FR",
    "work_states": ["BE", "NL"],
    "start_date": "2026-03-01",
    "end_date": "2026-12-31",
    "kind": "regular_multi_state",
    "employment_status": "self_employed",
    "work_split": "BE 10, FR 60, NL 30",
}


@pytest.fixture
def admin(app, data, client):
    company = data.company("Acme")
    data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    AuthActions(client).login("admin@example.com")
    return company


def _trip_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Trip))


def test_recruited_from_another_state_is_a_definite_answer(client, app, data, admin):
    """Reg. 987/2009 Art 14(1): a person recruited for the posting must already be subject to
    the sending state's legislation immediately before; under Poland's, Art 12 cannot apply."""
    employee = data.employee(admin)
    response = post_form(
        client,
        f"/admin/employees/{employee}/trips/new",
        {**POSTING, "previous_legislation_state": "PL"},
    )
    assert response.status_code == 302
    with app.app_context():
        trip = db.session.scalar(select(Trip))
        assert trip.previous_legislation_state == "PL"
        assert trip.coverage_type == "none_host_legislation"


def test_fixed_place_of_business_decides_for_the_self_employed(client, app, data, admin):
    """Reg. 883/2004 Art 13(2)(b), 987/2009 Art 14(9): no substantial part in the residence
    state (Belgium, 10 %): the fixed place of business in France decides."""
    employee = data.employee(admin, residence_state="BE")
    response = post_form(
        client,
        f"/admin/employees/{employee}/trips/new",
        {**SELF_EMPLOYED_MULTI_STATE, "fixed_place_of_business": "FR"},
    )
    assert response.status_code == 302
    with app.app_context():
        trip = db.session.scalar(select(Trip))
        assert trip.fixed_place_of_business == "FR"
        assert trip.coverage_type == "A1"
        assert '"legislation_state": "FR"' in trip.coverage_json


@pytest.mark.parametrize("lang", ["en", "de"])
def test_fixed_place_outside_the_work_states_is_refused(client, app, data, admin, lang):
    employee = data.employee(admin, residence_state="BE")
    with app.app_context():
        db.session.scalar(select(User).where(User.email == "admin@example.com")).locale = lang
        db.session.commit()
    response = post_form(
        client,
        f"/admin/employees/{employee}/trips/new",
        {**SELF_EMPLOYED_MULTI_STATE, "fixed_place_of_business": "IT"},
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    expected = {
        "en": "is not one of the countries of work",
        "de": "ist keines der Länder, in denen gearbeitet wird",
    }[lang]
    assert expected in text
    assert 'id="fixed_place_of_business"' in text
    assert _trip_count(app) == 0


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (
            {**SELF_EMPLOYED_MULTI_STATE, "previous_legislation_state": "PL"},
            "previous_legislation_state",
        ),
        ({**POSTING, "fixed_place_of_business": "FR"}, "fixed_place_of_business"),
        ({**POSTING, "previous_legislation_state": "XX"}, "previous_legislation_state"),
    ],
)
def test_a_fact_that_does_not_apply_names_its_field(client, app, data, admin, form, field):
    employee = data.employee(admin, residence_state="BE")
    response = post_form(client, f"/admin/employees/{employee}/trips/new", form)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _trip_count(app) == 0


def test_the_form_shows_each_fact_only_where_it_applies(client, data, admin):
    employee = data.employee(admin)
    page = client.get(f"/admin/employees/{employee}/trips/new").get_data(as_text=True)
    assert 'data-kinds="posting" data-statuses="employed"' in page
    assert 'data-kinds="regular_multi_state" data-statuses="self_employed"' in page
    assert "js/trip-form.js" in page
    assert 'name="previous_legislation_state"' in page and 'name="fixed_place_of_business"' in page


def test_the_first_filed_end_is_kept_on_the_trip(app, data):
    """The end first filed with the authority comes from the trip's history, not from a form."""
    from web.filing.certificate_requests import create_certificate_request
    from web.models import utcnow
    from web.trips.assessment import determine_trip

    company = data.company()
    employee = data.employee(company)
    trip_id = data.trip(employee, "FR", start=date(2026, 1, 1), end=date(2027, 6, 30))
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        determine_trip(trip, today=date(2024, 6, 1))
        assert trip.original_end_date is None
        req = create_certificate_request(
            trip, "initial", start=trip.start_date, end=trip.end_date, actor=None
        )
        req.status, req.submitted_at = "submitted", utcnow()
        trip.end_date = date(2028, 6, 30)
        determine_trip(trip, today=date(2024, 6, 1))
        db.session.commit()
        assert db.session.get(Trip, trip_id).original_end_date == date(2027, 6, 30)


# --------------------------------------------------------------------------- catalogue remarks


def _shown_remarks() -> list[tuple[str, object]]:
    """Every catalogue text that reaches a reader: notes, scopes, unconfirmed partners' notes
    and the reasons a list is incomplete."""
    import json
    from pathlib import Path

    raw = json.loads(
        (
            Path(__file__).resolve().parent.parent / "web/coverage/data/bilateral_agreements.json"
        ).read_text(encoding="utf-8")
    )
    found: list[tuple[str, object]] = []
    for home, state in raw["home_states"].items():
        found.append((f"{home} incomplete_reason", state.get("incomplete_reason")))
        for partner, versions in state["agreements"].items():
            for entry in versions if isinstance(versions, list) else [versions]:
                found.append((f"{home}-{partner} note", entry["note"]))
                found.append((f"{home}-{partner} scope", entry["scope"]))
        for partner, entry in state.get("unconfirmed_partners", {}).items():
            found.append((f"{home}-{partner} unconfirmed", entry["note"]))
    return found


def test_catalogue_remarks_are_message_ids_not_english_prose() -> None:
    from web.coverage.messages import MESSAGES

    for where, remark in _shown_remarks():
        if remark is None:
            continue
        assert isinstance(remark, dict) and remark["id"] in MESSAGES, (where, remark)


@pytest.mark.parametrize(
    ("home", "partner", "start", "french"),
    [
        ("AT", "XK", date(2026, 1, 1), "ne précisent pas quelles dispositions sont suspendues"),
        ("IT", "XK", date(2026, 1, 1), "convention avec l'ex-Yougoslavie"),
        ("LU", "TH", date(2026, 1, 1), "publiée par CCSS"),
        ("DE", "CN", date(2026, 1, 1), "assurance pension et chômage uniquement"),
    ],
)
def test_a_french_reader_gets_the_catalogue_remark_in_french(
    app, data, home, partner, start, french
):
    from tests.helpers import csrf_token

    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="hr@example.com")
    client = app.test_client()
    AuthActions(client).login("hr@example.com")
    token = csrf_token(client, "/admin/employees")
    case = {
        "home_state": home,
        "residence_state": home,
        "employment_status": "employed",
        "nationality": [home],
        "trip": {
            "kind": "posting",
            "destination": partner,
            "start_date": start.isoformat(),
            "end_date": "2026-06-30",
        },
        "replacing_posted_worker": False,
        "employer_substantial_activity_in_home_state": True,
        "prior_insurance_months": 12,
    }
    response = client.post(
        "/api/v1/determinations",
        json=case,
        headers={"X-CSRFToken": token, "Accept-Language": "fr"},
    )
    assert response.status_code == 200
    said = " ".join(response.json["reasons"] + response.json["warnings"])
    assert french in said, said
