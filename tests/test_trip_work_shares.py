"""Working-time shares as one number field per country of work (issue 15, point 3): checked on
the server (a number 0–100, a country of work, together 100 within the engine's rounding), kept
as the same canonical text as before; the text form of the command line still works."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.helpers import post_form
from web.extensions import db
from web.models import Role, Trip, User
from web.trips.input import format_work_split, parse_share, parse_work_split, validate_trip_input
from web.validation import InputError

START = date.today() + timedelta(days=30)
MULTI_STATE = {
    "destination_state": "FR",
    "work_states": ["DE"],
    "start_date": START.isoformat(),
    "end_date": (START + timedelta(days=300)).isoformat(),
    "kind": "regular_multi_state",
    "employment_status": "employed",
    "prior_insurance_months": "24",
    "employer_substantial_activity": "y",
    "art16_agreement": "none",
}


def _errors(raw: dict) -> dict[str, str]:
    with pytest.raises(InputError) as caught:
        validate_trip_input(raw)
    return caught.value.errors


# --- the service ------------------------------------------------------------------------------


def test_one_share_per_country_is_kept_as_the_canonical_text(app):
    with app.test_request_context():
        trip = validate_trip_input({**MULTI_STATE, "work_shares": {"FR": "40", "DE": "60"}})
    # The destination first, then the countries of work: the text every reader already knows.
    assert trip.work_split == "FR 40, DE 60"
    assert parse_work_split(trip.work_split) == {"FR": 40.0, "DE": 60.0}


def test_decimal_shares_and_the_engines_rounding_are_accepted(app):
    with app.test_request_context():
        halves = validate_trip_input({**MULTI_STATE, "work_shares": {"FR": "37,5", "DE": "62.5"}})
        thirds = validate_trip_input(
            {
                **MULTI_STATE,
                "work_states": ["DE", "BE"],
                "work_shares": dict.fromkeys(["FR", "DE", "BE"], "33"),
            }
        )
    assert halves.work_split == "FR 37.5, DE 62.5"
    assert thirds.work_split == "FR 33, DE 33, BE 33"  # 99: within one point, as the engine


@pytest.mark.parametrize(
    ("shares", "field", "words"),
    [
        ({"FR": "40", "DE": "sixty"}, "share-DE", "enter a number from 0 to 100"),
        ({"FR": "-10", "DE": "110"}, "share-FR", "must be between 0 and 100"),
        ({"FR": "nan", "DE": "100"}, "share-FR", "enter a number from 0 to 100"),
        (
            {"FR": "40", "DE": ""},
            "share-DE",
            "enter a share (0 if the employee does not work there)",
        ),
        (
            {"FR": "40", "DE": "60", "IT": "5"},
            "share-IT",
            "Italy is not one of the countries of work",
        ),
        ({"FR": "40", "DE": "60", "XX": "5"}, "share-XX", "unknown country code"),
    ],
)
def test_a_bad_share_is_named_beside_its_field(app, shares, field, words):
    with app.test_request_context():
        errors = _errors({**MULTI_STATE, "work_shares": shares})
    assert words in errors[field], errors


def test_shares_that_do_not_make_100_are_refused_with_the_total(app):
    with app.test_request_context():
        errors = _errors({**MULTI_STATE, "work_shares": {"FR": "30", "DE": "60"}})
    assert errors == {"work_split": "The shares add up to 90%; together they must make 100%."}


def test_empty_shares_are_no_split_and_an_empty_field_of_another_country_is_ignored(app):
    with app.test_request_context():
        trip = validate_trip_input(
            {**MULTI_STATE, "kind": "posting", "work_shares": {"FR": "", "DE": " ", "IT": ""}}
        )
    assert trip.work_split == ""


def test_the_text_form_still_works_and_is_checked_the_same_way(app):
    with app.test_request_context():
        trip = validate_trip_input({**MULTI_STATE, "work_split": "de=60; fr=40"})
        assert trip.work_split == "DE 60, FR 40"
        assert "90%" in _errors({**MULTI_STATE, "work_split": "DE 60, FR 30"})["work_split"]
        assert (
            "unknown country code" in _errors({**MULTI_STATE, "work_split": "XX 100"})["work_split"]
        )
        assert "between 0 and 100" in _errors({**MULTI_STATE, "work_split": "DE 150"})["work_split"]
        assert "DE sixty" in _errors({**MULTI_STATE, "work_split": "DE sixty"})["work_split"]


def test_the_message_is_in_the_readers_language(app):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        errors = _errors({**MULTI_STATE, "work_shares": {"FR": "30", "DE": "abc"}})
    assert errors["share-DE"] == "eine Zahl von 0 bis 100 eingeben"


def test_one_reading_of_a_number_and_one_text_written():
    assert parse_share(" 62,5 % ") == 62.5
    with pytest.raises(ValueError):
        parse_share("inf")
    assert format_work_split({"DE": 60.0, "FR": 33.333}) == "DE 60, FR 33.33"


# --- the console's form -----------------------------------------------------------------------


@pytest.fixture
def admin(app, data, client):
    company = data.company("Shares GmbH")
    data.user(Role.EMPLOYER_ADMIN, company, email="shares-admin@example.com")
    AuthActions(client).login("shares-admin@example.com")
    return company


def _trips(app) -> list[Trip]:
    with app.app_context():
        return list(db.session.scalars(select(Trip)))


def _value_of(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


def test_the_form_saves_the_shares_of_each_country(client, app, data, admin):
    employee = data.employee(admin)
    response = post_form(
        client,
        f"/admin/employees/{employee}/trips/new",
        {**MULTI_STATE, "share-FR": "40", "share-DE": "60"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (trip,) = _trips(app)
    assert trip.work_split == "FR 40, DE 60"
    assert trip.coverage_type == "A1"  # the engine read the split as before

    page = client.get(f"/admin/trips/{trip.id}/edit").get_data(as_text=True)
    assert _value_of(page, "share-FR") == "40" and _value_of(page, "share-DE") == "60"
    assert 'data-country-picker="multiple"' in page and 'data-country-picker="single"' in page


@pytest.mark.parametrize(
    ("shares", "error_id"),
    [
        ({"share-FR": "40", "share-DE": "sixty"}, "share-DE-error"),
        ({"share-FR": "30", "share-DE": "60"}, "work_split-error"),
        ({"share-FR": "40", "share-DE": "60", "share-IT": "5"}, "share-IT-error"),
    ],
)
def test_a_bad_share_comes_back_with_everything_typed(client, app, data, admin, shares, error_id):
    employee = data.employee(admin)
    response = post_form(
        client,
        f"/admin/employees/{employee}/trips/new",
        {**MULTI_STATE, "purpose": "Weekly in Lyon", **shares},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{error_id}"' in html
    for name, value in shares.items():
        assert _value_of(html, name) == value, name  # nothing typed is lost
    assert _value_of(html, "purpose") == "Weekly in Lyon"
    assert _trips(app) == []


def test_without_javascript_the_fields_appear_after_the_first_submit(client, app, data, admin):
    """A browser without JavaScript sends the chosen countries but no share yet: the answer
    names the missing split and offers a field per country of work; the second submit saves."""
    employee = data.employee(admin)
    path = f"/admin/employees/{employee}/trips/new"
    first = client.get(path).get_data(as_text=True)
    assert 'name="share-' not in first
    assert "A field for a country you have just added appears when you save." in first

    response = post_form(client, path, MULTI_STATE)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="work_split-error"' in html
    assert _value_of(html, "share-FR") == "" and _value_of(html, "share-DE") == ""

    response = post_form(client, path, {**MULTI_STATE, "share-FR": "25", "share-DE": "75"})
    assert response.status_code == 302
    assert [t.work_split for t in _trips(app)] == ["FR 25, DE 75"]


def test_a_country_named_only_in_a_text_split_is_chosen_on_the_edit_form(client, app, data, admin):
    """A trip from the command line may name the home country in the split only: editing it
    shows that country among the countries of work, with its share."""
    employee = data.employee(admin)
    trip_id = data.trip(
        employee,
        "FR",
        start=START,
        end=START + timedelta(days=300),
        kind="regular_multi_state",
        work_split="DE 60, FR 40",
    )
    page = client.get(f"/admin/trips/{trip_id}/edit").get_data(as_text=True)
    work_states = re.search(r'<select[^>]*name="work_states".*?</select>', page, re.S).group(0)
    assert '<option selected value="DE">' in work_states
    assert _value_of(page, "share-DE") == "60" and _value_of(page, "share-FR") == "40"


def test_the_shares_error_is_translated_for_the_admin(client, app, data, admin):
    with app.app_context():
        db.session.scalar(
            select(User).where(User.email == "shares-admin@example.com")
        ).locale = "fr"
        db.session.commit()
    employee = data.employee(admin)
    response = post_form(
        client,
        f"/admin/employees/{employee}/trips/new",
        {**MULTI_STATE, "share-FR": "30", "share-DE": "60"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Les parts font 90\u00a0% au total ; elles doivent faire 100\u00a0%." in html
    assert "Total : 90\u00a0% — doit faire 100\u00a0%" in html
