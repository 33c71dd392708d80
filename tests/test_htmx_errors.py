"""htmx errors land where the user looks (issue 15, point 4): a wrong filter answers 400 with the
region that asked — its message inside, announced, and none of the rows the filter did not
choose — and the htmx configuration swaps 4xx answers but never 5xx ones."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import AuthActions
from web.models import Role

HX = {"HX-Request": "true"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def admin(app, data, client):
    company = data.company("Acme")
    data.user(Role.EMPLOYER_ADMIN, company, email="admin@example.com")
    employee = data.employee(company, email="zoe@example.com", family_name="Zander")
    data.trip(employee, destination="FR", start=date(2026, 3, 1), end=date(2026, 3, 31))
    AuthActions(client).login("admin@example.com")
    return company


def _fragment(response, status: int) -> str:
    assert response.status_code == status, response.status_code
    body = response.get_data(as_text=True)
    assert "<html" not in body, "a region's answer, not a page"
    assert "HX-Request" in response.headers.get("Vary", "")
    return body


@pytest.mark.parametrize(
    ("query", "label", "message"),
    [
        ("month=2026-13", "Month", "“2026-13” is not a month"),
        ("country=XX", "Country", "unknown country code “XX”"),
        ("status=lost", "Status", "Choose one of the listed options."),
        ("declaration=maybe", "Posted-worker declaration", "Choose one of the listed options."),
    ],
)
def test_coverage_filter_error_is_the_rows_region_with_its_message(
    client, admin, query, label, message
):
    assert 'data-trip="' in client.get("/admin/coverage", headers=HX).get_data(as_text=True)
    body = _fragment(client.get(f"/admin/coverage?{query}", headers=HX), 400)
    assert 'role="alert"' in body and "The list was not updated" in body
    assert label in body and message in html.unescape(body)
    name = query.split("=")[0]
    assert f'href="#{name}"' in body  # the message leads to its filter
    assert 'data-trip="' not in body and "<table" not in body  # no stale rows


def test_coverage_page_with_a_wrong_filter_shows_the_message_beside_the_field_too(client, admin):
    response = client.get("/admin/coverage?country=XX")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<html" in page and 'aria-describedby="country-error"' in page
    assert 'class="filter-errors" role="alert"' in page and 'data-trip="' not in page
    # A right filter brings the rows back.
    body = _fragment(client.get("/admin/coverage?country=FR", headers=HX), 200)
    assert 'data-trip="' in body and "filter-errors" not in body


def test_trips_filter_errors(client, admin):
    assert "Zander" in client.get("/admin/trips", headers=HX).get_data(as_text=True)
    body = _fragment(client.get("/admin/trips?from=2026-02-30", headers=HX), 400)
    assert "is not a date" in html.unescape(body) and 'href="#from"' in body
    assert "Zander" not in body and "<table" not in body
    body = _fragment(client.get("/admin/trips?from=2026-04-01&to=2026-03-01", headers=HX), 400)
    assert "is before the “From” date" in html.unescape(body) and 'href="#to"' in body
    body = _fragment(client.get("/admin/trips?from=2026-01-01&to=2026-12-31", headers=HX), 200)
    assert "Zander" in body and "filter-errors" not in body


def test_employee_search_error(client, admin):
    body = _fragment(client.get("/admin/employees?q=" + "z" * 101, headers=HX), 400)
    assert "Search with at most 100 characters." in body and 'href="#q"' in body
    assert "Zander" not in body
    body = _fragment(client.get("/admin/employees?q=zan", headers=HX), 200)
    assert "Zander" in body


def test_an_error_page_for_htmx_is_the_message_alone(client, admin):
    body = _fragment(client.get("/admin/trips?employee=999999", headers=HX), 404)
    assert 'role="alert"' in body and "does not exist" in body
    page = client.get("/admin/trips?employee=999999")
    assert page.status_code == 404 and "<html" in page.get_data(as_text=True)


def _response_handling() -> list[dict]:
    base = (ROOT / "templates" / "base.html").read_text()
    content = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", base).group(1)
    return json.loads(content)["responseHandling"]


def _handling(status: int) -> dict:
    """The rule htmx picks: the first whose code, as a regular expression, matches."""
    return next(rule for rule in _response_handling() if re.search(rule["code"], str(status)))


@pytest.mark.parametrize("status", [400, 403, 404, 409, 413, 422, 429])
def test_htmx_swaps_4xx_answers(status):
    rule = _handling(status)
    assert rule["swap"] is True and not rule.get("error")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_htmx_never_swaps_5xx_answers(status):
    rule = _handling(status)
    assert rule["swap"] is False and rule["error"] is True


def test_htmx_swaps_success_but_not_no_content():
    assert _handling(200)["swap"] is True
    assert _handling(204)["swap"] is False
