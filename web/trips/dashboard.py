"""The coverage dashboard: every planned trip of a company with its coverage status, next step
and declaration, filtered; and the same rows as CSV. Queries per page are constant: the trips
with their employees, then `trip_statuses` and `declaration_statuses` for all of them at once
(benchmarks/trip_lists.py counts them)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from web.access import for_company
from web.declarations.services import DeclarationStatus, declaration_statuses
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
        .options(selectinload(Trip.employee))
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
    statuses = trip_statuses(trips, today)
    declarations = declaration_statuses(trips, today)
    rows = []
    for trip in trips:
        if status and statuses[trip.id].status != status:
            continue
        if declaration and declarations[trip.id].bucket != declaration:
            continue
        rows.append(CoverageRow(trip, statuses[trip.id], declarations[trip.id]))
    return rows


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
