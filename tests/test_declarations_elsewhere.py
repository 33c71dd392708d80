"""The posted-worker declarations of a trip's other work countries (issue 18): each country's own
rule from the rules data (required with its portal and file-by date, not required and why, or
unknown: check — never "not required"), the next step when nothing else asks anything of the
employer, the API's trip representation and its schema, and a constant number of queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.helpers import recorded_statements
from web.declarations.public_messages import DeclarationState
from web.declarations.rules import rule_for
from web.declarations.services import (
    answer_question,
    declaration_status_for_trip,
    declarations_elsewhere,
)
from web.extensions import db
from web.models import Role, Trip, User
from web.trips.follow_up import check_trip_coverage
from web.trips.services import cancel_trip
from web.trips.status import trip_status
from web.vocabulary import CoverageStatus, NextStepKind

TODAY = date.today()
START = TODAY + timedelta(days=60)
END = START + timedelta(days=20)
ADMIN = "elsewhere-admin@example.com"


@pytest.fixture
def company(app, data):
    company = data.company("Nordwind Elsewhere", seat_state="DE")
    data.user(Role.EMPLOYER_ADMIN, company, email=ADMIN)
    # Insured in Greece, where the provider does not file: a provisional statement at once, so
    # coverage asks nothing more of the employer.
    greek = data.employee(
        company,
        email="elsewhere-eleni@example.com",
        family_name="Papadopoulou",
        given_names="Eleni",
        nationality="GR",
        residence_state="GR",
        home_state="GR",
    )
    german = data.employee(company, email="elsewhere-anna@example.com")
    return {"id": company, "greek": greek, "german": german}


def _trip(app, data, employee, work_states, answer="no", destination="FR") -> int:
    trip_id = data.trip(
        employee, destination, START, END, work_states=work_states, prior_insurance_months="24"
    )
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        check_trip_coverage(trip, actor=None)
        if answer is not None:
            admin = db.session.scalar(select(User).filter_by(email=ADMIN))
            answer_question(trip, answer, "", actor=admin)
        db.session.commit()
    return trip_id


def _elsewhere(app, trip_id, today=TODAY):
    with app.app_context():
        return declarations_elsewhere(db.session.get(Trip, trip_id), today)


# --- declarations_elsewhere ---------------------------------------------------------------------


def test_a_trip_to_france_and_austria_hears_austria_requires_one(app, data, company):
    trip = _trip(app, data, company["german"], "FR,AT")
    [austria] = _elsewhere(app, trip)
    rule = rule_for("AT")
    assert austria.state == "AT" and austria.answer is DeclarationState.REQUIRED
    assert austria.label == "Declaration required"
    assert austria.rule is rule and rule.portal_url.startswith("https://")
    assert austria.file_by == rule.file_by(START) == START  # before the work starts
    assert austria.to_file
    assert austria.as_json() == {
        "state": "AT",
        "answer": "required",
        "answer_label": "Declaration required",
        "reason": None,
        "declaration": rule.declaration,
        "portal": {"name": rule.portal_name, "url": rule.portal_url},
        "lead_time": {"days": 0, "counting": "calendar", "when": rule.deadline},
        "file_by": START.isoformat(),
    }
    # Part of the trip's declaration status, beside the destination's own answer.
    with app.app_context():
        status = declaration_status_for_trip(db.session.get(Trip, trip))
        assert status.state is DeclarationState.NOT_REQUIRED  # France: meetings only
        assert [e.state for e in status.elsewhere] == ["AT"]
        assert status.elsewhere_next_step == (
            "The employee also works in Austria: a posted-worker declaration is required there "
            "too for a service provided there (see the trip page)."
        )


def test_a_trip_to_france_only_has_no_other_country(app, data, company):
    assert _elsewhere(app, _trip(app, data, company["german"], "FR")) == []


def test_an_unknown_state_is_check_never_not_required(app, data, company):
    assert rule_for("HU").status == "unknown"
    trip = _trip(app, data, company["german"], "FR,HU")
    [hungary] = _elsewhere(app, trip)
    assert hungary.answer is DeclarationState.UNKNOWN
    assert hungary.label == "Declaration rules not known: check"
    assert "Check the national posting website of Hungary" in hungary.reason
    assert hungary.file_by is None and not hungary.to_file
    assert hungary.as_json()["answer"] == "unknown"


def test_the_employers_own_country_and_countries_outside_the_rules_need_none(app, data, company):
    trip = _trip(app, data, company["german"], "FR,DE,CH,US")
    found = {e.state: e for e in _elsewhere(app, trip)}
    assert list(found) == ["DE", "CH", "US"]  # the order the employer gave
    assert found["DE"].answer is DeclarationState.NOT_REQUIRED
    assert found["DE"].reason == "The work is in the employer's own country."
    assert found["US"].answer is DeclarationState.NOT_REQUIRED
    assert found["US"].reason.startswith("Outside the EU, the EEA, Switzerland and the UK")
    # Switzerland: eight calendar days before the work starts.
    assert found["CH"].answer is DeclarationState.REQUIRED
    assert found["CH"].file_by == START - timedelta(days=8)


def test_a_cancelled_or_ended_trip_asks_nothing_elsewhere(app, data, company):
    trip = _trip(app, data, company["german"], "FR,AT")
    assert [e.to_file for e in _elsewhere(app, trip, today=END)] == [True]  # the last day
    assert [e.to_file for e in _elsewhere(app, trip, today=END + timedelta(days=1))] == [False]
    with app.app_context():
        cancel_trip(db.session.get(Trip, trip))
        db.session.commit()
    assert _elsewhere(app, trip) == []


# --- the trip's status and next step ------------------------------------------------------------


def _status(app, trip, today=TODAY):
    with app.app_context():
        status = trip_status(db.session.get(Trip, trip), today)
        return status.status, status.next_step, status.sentence, status.action


def test_the_next_step_names_the_other_countries_once_nothing_else_asks(app, data, company):
    # Covered (provisional statement); France: no service, so nothing to file there.
    trip = _trip(app, data, company["greek"], "FR,AT,BE,HU")
    status, step, sentence, action = _status(app, trip)
    assert (status, step) == (CoverageStatus.PROVISIONAL, NextStepKind.CHECK_DECLARATIONS_ELSEWHERE)
    # Unknown Hungary is on the trip page ("check"), not a step to file.
    assert sentence == (
        "The employee also works in Austria and Belgium: a posted-worker declaration is required "
        "there too for a service provided there (see the trip page)."
    )
    assert action == {
        "endpoint": "admin.trip",
        "method": "get",
        "values": {"trip_id": trip, "_anchor": "declarations-elsewhere"},
    }
    assert NextStepKind.CHECK_DECLARATIONS_ELSEWHERE.label == (
        "Check the declarations in the other work countries"
    )
    # Once the trip has ended, nothing is left to file.
    assert _status(app, trip, END + timedelta(days=1))[1] is NextStepKind.NOTHING


def test_coverage_and_the_destinations_declaration_come_first(app, data, company):
    # France's question unanswered: that is the step.
    question = _trip(app, data, company["greek"], "FR,AT", answer=None)
    assert _status(app, question)[1] is NextStepKind.ANSWER_DECLARATION
    # France's declaration to file: that is the step.
    to_file = _trip(app, data, company["greek"], "FR,AT", answer="yes")
    assert _status(app, to_file)[1] is NextStepKind.FILE_DECLARATION
    # Insured in Germany, where the provider files: the certificate request comes first.
    uncovered = _trip(app, data, company["german"], "FR,AT")
    status, step, _sentence, _action = _status(app, uncovered)
    assert status is not CoverageStatus.PROVISIONAL and step is NextStepKind.FILE_REQUEST
    # Only unknown or not-required other countries: nothing to do.
    quiet = _trip(app, data, company["greek"], "FR,HU,DE")
    assert _status(app, quiet)[1] is NextStepKind.NOTHING


# --- the API -------------------------------------------------------------------------------------


def _admin(app):
    client = app.test_client()
    assert AuthActions(client).login(ADMIN).status_code == 302
    return client


def test_the_api_trip_lists_the_other_countries_and_matches_its_schema(app, data, company):
    import jsonschema

    from web.api.openapi import openapi_document

    trip = _trip(app, data, company["greek"], "FR,AT,HU")
    client = _admin(app)
    body = client.get(f"/api/v1/trips/{trip}", headers={"Accept-Language": "fr"}).json
    document = openapi_document()
    schema = {**document["components"]["schemas"]["Trip"], "components": document["components"]}
    jsonschema.validate(body, schema)
    assert [(e["state"], e["answer"]) for e in body["declarations_elsewhere"]] == [
        ("AT", "required"),
        ("HU", "unknown"),
    ]
    austria = body["declarations_elsewhere"][0]
    assert austria["portal"]["url"] == rule_for("AT").portal_url
    assert austria["file_by"] == START.isoformat()
    assert body["coverage"]["next_step"] == "check_declarations_elsewhere"
    assert "Autriche" in body["coverage"]["next_step_text"]  # the reader's language
    page = client.get("/api/v1/trips").json
    schemas = document["components"]["schemas"]
    jsonschema.validate(page, {**schemas["TripPage"], "components": document["components"]})
    [listed] = [t for t in page["trips"] if t["id"] == trip]
    assert [(e["state"], e["answer_label"]) for e in listed["declarations_elsewhere"]] == [
        ("AT", "Declaration required"),
        ("HU", "Declaration rules not known: check"),
    ]


def test_the_trip_list_takes_as_many_queries_for_many_countries(app, data, company):
    _trip(app, data, company["greek"], "FR")
    client = _admin(app)
    client.get("/api/v1/trips")  # warm up (the rules data, the session)

    def queries() -> int:
        with recorded_statements(app) as seen:
            assert client.get("/api/v1/trips").status_code == 200
        return len(seen)

    few = queries()
    for states in ("FR,AT", "FR,AT,BE,HU", "FR,DE,CH,US"):
        _trip(app, data, company["greek"], states)
    assert queries() == few
