"""API fuzzing: schemathesis drives /api/v1 from its own OpenAPI document on a live server.

Every request it generates (valid and invalid, sent as an employer admin with the session cookie
and the CSRF header) must get a documented status code and content type, a body valid against
the documented schema, and never a 500. Plausible cases (from the engine's property tests) are
sent too, so that the determinations reach the rules and not only the input checks. Bounded and
deterministic: a fixed number of examples per operation, derandomized, no example database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from tests.conftest import AuthActions, base_config
from tests.helpers import csrf_token
from tests.live import LiveServer, signed_in_session
from tests.test_coverage_properties import multi_state_cases, posting_cases
from web.api.openapi import openapi_document
from web.extensions import db
from web.models import Role

ADMIN = "fuzz.admin@example.com"
EXAMPLES = 80
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

CONFIG = schemathesis.Config.from_str(
    """
[checks]
# JSON Schema cannot say "percentages add up to 100" or "a known country": such cases get 422.
positive_data_acceptance.expected-statuses = ["2xx", "422"]
# This check wants 401/403 without credentials; without a session the API refuses with 400 (no
# CSRF session token), which test_refusals_are_documented checks, with the other refusals.
ignored_auth.enabled = false

[[operations]]
# Any trip id is schema-valid; one that is not a trip of the admin's company answers 404.
include-operation-id = "declarationExport"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404"]

[[operations]]
include-operation-id = "getTrip"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404"]
"""
)
# The document the server serves (test_the_served_document_is_the_fuzzed_one), loaded here
# without a server so that pytest makes one test per operation when it collects.
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)
DETERMINATIONS = schema["/api/v1/determinations"]["POST"]
VERIFY = schema["/api/v1/verify/{token}"]["GET"]


@pytest.fixture
def app_config() -> dict[str, object]:
    # The fuzzer sends hundreds of requests a minute: limits would turn most of them into 429s.
    # The 429 answers are checked on their own (test_429_answers_are_documented).
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def live(app) -> Iterator[LiveServer]:
    with LiveServer(app, access_log=False) as server:
        yield server


@pytest.fixture
def admin(live, data) -> tuple[requests.Session, str]:
    """A session signed in as an employer admin over HTTP, and its CSRF token."""
    data.user(Role.EMPLOYER_ADMIN, data.company("Fuzz GmbH"), email=ADMIN)
    return signed_in_session(live.url, ADMIN, csrf_page="/admin/employees")


def sign(case, admin: tuple[requests.Session, str]):
    """The admin's credentials in place of whatever the generator put in the cookie and the
    header the document declares; a case that leaves one out on purpose keeps it out."""
    session, token = admin
    if case.cookies is not None and "session" in case.cookies:
        case.cookies["session"] = session.cookies["session"]
    if case.headers is not None and "X-CSRFToken" in case.headers:
        case.headers["X-CSRFToken"] = token
    return case


def test_the_served_document_is_the_fuzzed_one(live) -> None:
    response = requests.get(f"{live.url}/api/v1/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.json() == openapi_document()
    assert {op.ok().label for op in schema.get_all_operations()} == {
        "POST /api/v1/determinations",
        "GET /api/v1/trips",
        "GET /api/v1/trips/{trip_id}",
        "GET /api/v1/trips/{trip_id}/declaration",
        "GET /api/v1/verify/{token}",
    }


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_matches_its_openapi_document(case, live, admin) -> None:
    sign(case, admin).call_and_validate(base_url=live.url, timeout=10)


def test_plausible_cases_get_documented_determinations(live, admin) -> None:
    session, token = admin
    statuses: Counter[int] = Counter()

    @FUZZ_SETTINGS
    @given(st.one_of(posting_cases(), multi_state_cases()))
    def post(body: dict) -> None:
        case = DETERMINATIONS.Case(body=body, media_type="application/json")
        response = case.call_and_validate(
            base_url=live.url, session=session, headers={"X-CSRFToken": token}, timeout=10
        )
        statuses[response.status_code] += 1

    post()
    # The strategies make valid cases: nearly all must reach the rules (some, e.g. a posting
    # between two states that no treaty links, may still be refused by the input checks).
    assert set(statuses) <= {200, 422}, statuses
    assert statuses[200] >= 0.8 * sum(statuses.values()), statuses


def test_genuine_tokens_get_documented_answers(live, data) -> None:
    """Real certificates (valid official and provisional, not yet valid, expired), as the token,
    the QR text and the lower-cased QR text: answers with holder details, which random tokens
    never reach."""
    employee = data.employee(data.company("Token AG"), family_name="Łukasiewicz")
    today = date.today()
    certificates = [
        data.certificate(employee, kind="official", states=("FR", "BE")),
        data.certificate(employee),
        data.certificate(employee, start=today + timedelta(days=10), end=today + timedelta(20)),
        data.certificate(employee, start=today - timedelta(days=40), end=today - timedelta(9)),
    ]
    statuses = []
    for certificate in certificates:
        text = certificate.qr_text
        for token in (text.split("/V/", 1)[1], text, text.lower()):
            case = VERIFY.Case(path_parameters={"token": token})
            response = case.call_and_validate(base_url=live.url, timeout=10)
            statuses.append(response.json()["status"])
    expected = ["valid_official", "valid_provisional", "not_yet_valid", "expired"]
    assert statuses == [status for status in expected for _ in range(3)]


def test_refusals_are_documented(live, admin, data) -> None:
    """No session, no or a forged CSRF token, another role: each refusal is documented."""
    body = {"home_state": "DE", "residence_state": "DE", "employment_status": "employed"}
    case = DETERMINATIONS.Case(body=body, media_type="application/json")
    anonymous = case.call(base_url=live.url, timeout=10)
    session, _token = admin
    no_csrf = case.call(base_url=live.url, session=session, timeout=10)
    forged = case.call(
        base_url=live.url, session=session, headers={"X-CSRFToken": "forged"}, timeout=10
    )
    data.user(Role.SUPPORT, None, email="fuzz.agent@example.com")
    agent, agent_token = signed_in_session(live.url, "fuzz.agent@example.com")
    other_role = case.call(
        base_url=live.url, session=agent, headers={"X-CSRFToken": agent_token}, timeout=10
    )
    refusals = [anonymous, no_csrf, forged, other_role]
    assert [response.status_code for response in refusals] == [400, 400, 400, 403]
    for response in refusals:
        case.validate_response(response)


def test_bodies_that_are_not_a_case_get_422(live, admin) -> None:
    """What the generator cannot make: bodies the JSON parser refuses or cannot finish."""
    session, token = admin
    deep = b"[" * 100_000 + b"]" * 100_000  # deeper than Python's JSON parser recurses
    bodies = [
        deep,
        b'{"home_state": ' + deep + b"}",
        b"{",
        b"\xff\xfe{}",  # not UTF-8
        b"[]",
        b"null",
        b'"DE"',
        b'{"home_state": 1e999999}',
    ]
    case = DETERMINATIONS.Case(body={}, media_type="application/json")
    for body in bodies:
        response = session.post(
            f"{live.url}/api/v1/determinations",
            data=body,
            headers={"X-CSRFToken": token, "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 422, (body[:40], response.status_code)
        case.validate_response(response)


def test_429_answers_are_documented(database_url: str, tmp_path: Path, data) -> None:
    """With the limits on, a request over the limit gets the documented 429 (for verify, the
    third of a minute with VERIFY_PAGE_LIMIT at 2; for determinations, the 121st)."""
    app = create_app({**base_config(tmp_path, database_url), "VERIFY_PAGE_LIMIT": "2 per minute"})
    client = app.test_client()
    no_token = client.get("/api/v1/verify/")
    assert no_token.status_code == 404
    VERIFY.Case(path_parameters={"token": ""}).validate_response(no_token)
    verify = [client.get("/api/v1/verify/NOT-A-TOKEN") for _ in range(3)]
    assert [r.status_code for r in verify] == [200, 200, 429]
    VERIFY.Case(path_parameters={"token": "NOT-A-TOKEN"}).validate_response(verify[-1])
    assert int(verify[-1].headers["Retry-After"]) > 0

    data.user(Role.EMPLOYER_ADMIN, data.company("Busy GmbH"), email="busy@example.com")
    AuthActions(client).login("busy@example.com")
    headers = {"X-CSRFToken": csrf_token(client, "/admin/employees")}
    answers = [client.post("/api/v1/determinations", json={}, headers=headers) for _ in range(121)]
    assert [r.status_code for r in answers] == [422] * 120 + [429]
    DETERMINATIONS.Case(body={}, media_type="application/json").validate_response(answers[-1])
    with app.app_context():
        db.engine.dispose()
