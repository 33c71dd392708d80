"""The trips list, the coverage dashboard and its CSV export at size: the queries per page do not
grow with the trips (no query per row), the dashboard pages like the trips list with counts over
all its rows, and a page past the end shows the last page. The trips are written in bulk by
benchmarks/trip_lists.py's `fill`, one in each coverage status in turn (its timings at 10,000
trips are in docs/design.md §12)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from benchmarks.trip_lists import SCENARIOS, fill
from tests.conftest import AuthActions
from tests.helpers import recorded_statements
from web.access import PAGE_SIZE
from web.extensions import db
from web.models import Role
from web.vocabulary import CoverageStatus

PAGES = (
    "/admin/trips",
    "/admin/trips?cancelled=1",
    "/admin/coverage",
    "/admin/coverage?declaration=required",
    "/admin/coverage.csv",
    "/admin/employees",
)


def _company_with(app, data, trips: int):
    """A company with ``trips`` trips (ten per employee) and its admin, signed in."""
    with app.app_context():
        company = fill(f"Lists {trips}", trips)
    email = f"admin{trips}@example.com"
    data.user(Role.EMPLOYER_ADMIN, company, email=email)
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    return client


def _planned(trips: int) -> int:
    return sum(1 for n in range(trips) if not SCENARIOS[n % len(SCENARIOS)][3])


def _queries(app, client, url: str) -> int:
    with recorded_statements(app) as statements:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    return len(statements)


def _rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr[^>]* data-trip="(\d+)"', html)]


@pytest.fixture
def ninety(app, data):
    return _company_with(app, data, 90)


def test_queries_per_page_do_not_grow_with_the_trips(app, data, ninety):
    few = _company_with(app, data, 30)
    for url in PAGES:
        few.get(url), ninety.get(url)  # warm up: the rules data, the session's first reads
        assert _queries(app, few, url) == _queries(app, ninety, url), url


def test_every_coverage_status_is_in_the_data(app, ninety):
    html = ninety.get("/admin/coverage").get_data(as_text=True)
    for status in CoverageStatus:
        if status is not CoverageStatus.CANCELLED:
            assert f'href="/admin/coverage?status={status.value}">{status.label}: 0<' not in html


def test_the_dashboard_pages_with_counts_over_all_its_rows(ninety):
    total = _planned(90)
    first = ninety.get("/admin/coverage").get_data(as_text=True)
    second = ninety.get("/admin/coverage?page=2").get_data(as_text=True)
    assert len(_rows(first)) == len(_rows(second)) == PAGE_SIZE
    assert not set(_rows(first)) & set(_rows(second))
    pages = -(-total // PAGE_SIZE)
    assert f"Page 1 of {pages}" in first and f"Page 2 of {pages}" in second
    assert f"{total} trips" in first
    counts = [
        int(n) for n in re.findall(r'class="chip chip-coverage-[a-z_]+"[^>]*>[^<]*: (\d+)<', first)
    ]
    assert sum(counts) == total and counts == [
        int(n) for n in re.findall(r'chip-coverage-[a-z_]+"[^>]*>[^<]*: (\d+)<', second)
    ]


def test_the_pager_keeps_the_filters(app, data):
    client = _company_with(app, data, 200)  # a sixth of the trips go to France
    html = client.get("/admin/coverage?country=FR").get_data(as_text=True)
    assert "Page 1 of" in html
    assert re.search(r'href="/admin/coverage\?country=FR&amp;page=2" rel="next"', html)
    fragment = client.get(
        "/admin/coverage?country=FR&page=2", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'href="/admin/coverage?country=FR&amp;page=1" rel="prev"' in fragment
    # A status chip starts that status's list from its first page.
    assert 'href="/admin/coverage?country=FR&amp;status=covered"' in fragment


@pytest.mark.parametrize("url", ["/admin/coverage", "/admin/trips"])
def test_a_page_past_the_end_shows_the_last_page(ninety, url):
    past = ninety.get(f"{url}?page=99")
    assert past.status_code == 200
    html = past.get_data(as_text=True)
    shown, pages = re.search(r"Page (\d+) of (\d+)", html).groups()
    assert shown == pages and int(pages) > 1
    assert 'rel="next"' not in html and f"page={int(pages) - 1}" in html
    last = ninety.get(f"{url}?page={pages}").get_data(as_text=True)
    assert _rows(html) and _rows(html) == _rows(last)


def test_an_employees_page_past_the_end_shows_the_last_page(ninety):
    html = ninety.get("/admin/employees?page=99").get_data(as_text=True)
    assert "9 employees" in html
    assert len(re.findall(r'href="/admin/employees/\d+"', html)) == 9


@pytest.mark.parametrize("value", ["abc", "0", "-3"])
def test_a_page_that_is_no_number_shows_the_first(ninety, value):
    first = _rows(ninety.get("/admin/coverage").get_data(as_text=True))
    response = ninety.get(f"/admin/coverage?page={value}")
    assert response.status_code == 200
    assert _rows(response.get_data(as_text=True)) == first


def test_the_csv_has_every_row_and_ignores_the_page(ninety):
    rows = list(
        csv.DictReader(io.StringIO(ninety.get("/admin/coverage.csv?page=3").get_data(as_text=True)))
    )
    assert len(rows) == len({r["trip_id"] for r in rows}) == _planned(90)
    assert {r["status"] for r in rows} == {
        s.value for s in CoverageStatus if s is not CoverageStatus.CANCELLED
    }


def test_statuses_are_the_same_read_in_batches(app, ninety, monkeypatch):
    """Tens of thousands of trips exceed what one IN (...) may bind on SQLite (32,766): the
    status queries read in batches, and the answer does not depend on the batch size."""
    from sqlalchemy import select

    import web.database
    from web.models import Trip
    from web.trips.status import trip_statuses

    with app.app_context():
        trips = db.session.scalars(select(Trip)).all()
        assert len(trips) == 90

        def answers():
            return {
                i: (s.status, s.next_step, s.declaration.state if s.declaration else None)
                for i, s in trip_statuses(trips).items()
            }

        whole = answers()
        monkeypatch.setattr(web.database, "IN_LIST_BATCH", 7)
        assert answers() == whole
        assert list(web.database.in_batches(range(15))) == [
            list(range(7)),
            list(range(7, 14)),
            [14],
        ]
