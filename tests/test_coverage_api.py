"""The applicable-legislation engine through its two other doors: the JSON API and the CLI."""

from __future__ import annotations

import json

import pytest

from tests.conftest import AuthActions
from tests.helpers import csrf_token
from tests.test_coverage_engine import multi, posting
from web.models import Role

CCSS_1 = multi("BE", {"BE": 33, "LU": 33, "NL": 33}, ["LU"])  # → Belgium (Art 13(1)(a))


def _admin(app, data):
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="hr@example.com")
    client = app.test_client()
    AuthActions(client).login("hr@example.com")
    return client, csrf_token(client, "/admin/employees")


def test_api_determines_a_case(app, data):
    client, token = _admin(app, data)
    response = client.post("/api/v1/determinations", json=CCSS_1, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json["legislation_state"] == "BE" and response.json["certificate_type"] == "A1"
    assert "13(1)(a)" in response.json["rule"]


def test_api_names_every_bad_field(app, data):
    client, token = _admin(app, data)
    bad = posting("XX", start="2026-05-01", end="2026-04-01")
    response = client.post("/api/v1/determinations", json=bad, headers={"X-CSRFToken": token})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert any("destination" in name for name in errors) and any(
        "end_date" in name for name in errors
    )
    not_json = client.post(
        "/api/v1/determinations",
        data="[",
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422


def test_api_is_for_employer_admins_with_csrf(app, data):
    client, _token = _admin(app, data)
    assert client.post("/api/v1/determinations", json=CCSS_1).status_code == 400  # no CSRF token
    # Anonymous: refused before the view (no CSRF token, no session).
    assert app.test_client().post("/api/v1/determinations", json=CCSS_1).status_code == 400
    data.user(Role.SUPPORT, None, email="agent@example.com")
    agent = app.test_client()
    AuthActions(agent).login("agent@example.com")
    token = csrf_token(agent, "/account")
    assert (
        agent.post(
            "/api/v1/determinations", json=CCSS_1, headers={"X-CSRFToken": token}
        ).status_code
        == 403
    )


def test_cli_one_case_and_an_array(runner, tmp_path):
    one = tmp_path / "one.json"
    one.write_text(json.dumps(CCSS_1))
    result = runner.invoke(args=["coverage", "determine", str(one)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["legislation_state"] == "BE"
    many = tmp_path / "many.json"
    second = multi("FR", {"FR": 20, "LU": 40, "DE": 40}, ["LU"])  # CCSS 2 → Luxembourg
    many.write_text(json.dumps([CCSS_1, second]))
    result = runner.invoke(args=["coverage", "determine", str(many)])
    assert [r["legislation_state"] for r in json.loads(result.output)] == ["BE", "LU"]


def test_cli_bad_input_exits_2(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([CCSS_1, posting("XX")]))
    result = runner.invoke(args=["coverage", "determine", str(bad)])
    assert result.exit_code == 2 and "case 1" in result.output and "XX" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert runner.invoke(args=["coverage", "determine", str(broken)]).exit_code == 2


@pytest.mark.parametrize("start", ["9999-01-01", "9998-02-01", "1899-12-31"])
def test_dates_outside_the_calendar_the_engine_serves_are_refused_not_500(start):
    """Found by a mutation run of the API fuzzer: a year-9999 posting overflowed the 24 months."""
    from web.coverage import CaseError, determine

    case = {
        "home_state": "DE",
        "residence_state": "DE",
        "employment_status": "employed",
        "trip": {"kind": "posting", "destination": "FR", "start_date": start, "end_date": start},
    }
    with pytest.raises(CaseError) as caught:
        determine(case)
    assert "between 1900-01-01 and 2999-12-31" in caught.value.errors["trip.start_date"]
