"""The coverage dashboard: every planned trip of a company with its coverage status, next step
and declaration, filtered, a page at a time with counts over all of them; and the same rows as
CSV. Queries per page are constant: the trips with their employees, then `trip_statuses` for all
of them at once (its declarations included). A status is decided in Python from the trip's
stored answer, certificates, requests and declaration, so the counts and the status filter need
every trip's; only the page's rows are rendered, and their sentences are built only when shown
(benchmarks/trip_lists.py counts the queries and times the pages)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from web.access import PAGE_SIZE, for_company, page_count
from web.declarations.services import DeclarationStatus
from web.extensions import db
from web.models import Trip, TripStatus
from web.trips.status import CoverageStatus, TripCoverageStatus, trip_statuses


@dataclass
class CoverageRow:
    trip: Trip
    coverage: TripCoverageStatus
    # The posted-worker declaration (web/declarations/): its .bucket is the dashboard's column.
    declaration: DeclarationStatus | None = None

    @property
    def status(self) -> CoverageStatus:
        return self.coverage.status


def coverage_rows(
    company_id: int,
    *,
    month: date | None = None,
    country: str | None = None,
    status: str | None = None,
    declaration: str | None = None,
    today: date | None = None,
) -> list[CoverageRow]:
    """Every planned trip of the company with its coverage status and its declaration's
    (a bucket of BUCKET_LABELS), filtered."""
    stmt = (
        for_company(Trip, company_id)
        .where(Trip.status != TripStatus.CANCELLED.value)
        .options(joinedload(Trip.employee))  # one query: selectinload asks per 500
        .order_by(Trip.start_date, Trip.id)
    )
    if month is not None:
        first = month.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        stmt = stmt.where(Trip.start_date <= last, Trip.end_date >= first)
    if country:
        stmt = stmt.where(
            or_(Trip.destination_state == country, Trip.work_states.contains(country))
        )
    trips = list(db.session.scalars(stmt))
    statuses = trip_statuses(trips, today)  # with each planned trip's declaration
    rows = []
    for trip in trips:
        found = statuses[trip.id]
        if status and found.status != status:
            continue
        if declaration and (found.declaration is None or found.declaration.bucket != declaration):
            continue
        rows.append(CoverageRow(trip, found, found.declaration))
    return rows


@dataclass(frozen=True)
class CoveragePage:
    """One page of the dashboard: its rows, the counts by status over every page, where it is."""

    rows: list[CoverageRow]
    counts: dict[CoverageStatus, int]
    total: int
    page: int
    pages: int


def coverage_page(
    company_id: int, page: int, statuses: list[CoverageStatus], **filters: object
) -> CoveragePage:
    """Page ``page`` of ``coverage_rows`` (the last one when past the end, like the trips list),
    and the number of rows in each of ``statuses`` over all pages."""
    rows = coverage_rows(company_id, **filters)  # type: ignore[arg-type]
    counts = dict.fromkeys(statuses, 0)
    for row in rows:
        counts[row.status] += 1
    pages = page_count(len(rows))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    return CoveragePage(rows[start : start + PAGE_SIZE], counts, len(rows), page, pages)


CSV_HEADER = (
    "trip_id",
    "employee",
    "destination",
    "work_countries",
    "start_date",
    "end_date",
    "kind",
    "status",
    "status_label",
    "next_step",
    "next_step_text",
    "certificate_type",
    "provider_category",
    "certificate_id",
    "covered_until",
    "request_status",
    "declaration",
)


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula is shown as text by spreadsheets (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def coverage_csv(rows: list[CoverageRow]) -> str:
    """The rows as CSV. Built whole, not streamed: the statuses are computed for all rows
    before the first line anyway, and the file of 10,000 trips is ~2 MB."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        trip, coverage = row.trip, row.coverage
        writer.writerow(
            [
                _csv_cell(v)
                for v in (
                    trip.id,
                    trip.employee.display_name,
                    trip.destination_state,
                    " ".join(trip.work_state_list),
                    trip.start_date.isoformat(),
                    trip.end_date.isoformat(),
                    trip.kind,
                    coverage.status.value,
                    coverage.label,
                    coverage.next_step.value,
                    coverage.sentence,
                    trip.coverage_type or "",
                    trip.coverage_category or "",
                    coverage.certificate.id if coverage.certificate else "",
                    coverage.covered_until.isoformat() if coverage.covered_until else "",
                    coverage.request.status if coverage.request else "",
                    row.declaration.bucket if row.declaration else "",
                )
            ]
        )
    return out.getvalue()
