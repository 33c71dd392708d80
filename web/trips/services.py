"""Trips of a company's employees: create, update, cancel, list (tenant-scoped)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from web.access import for_company, page_of
from web.audit import record_audit_event
from web.extensions import db
from web.filing.certificate_requests import cancel_open_requests
from web.models import Employee, Trip, TripStatus, utcnow
from web.trips.input import TripInput
from web.validation import InputError


def create_trip(employee: Employee, data: TripInput) -> Trip:
    trip = Trip(company_id=employee.company_id, employee=employee)
    _apply_trip(trip, data)
    db.session.add(trip)
    db.session.flush()
    record_audit_event(
        "trip.created", object_type="trip", object_id=trip.id, company_id=employee.company_id
    )
    return trip


def _apply_trip(trip: Trip, data: TripInput) -> None:
    trip.destination_state = data.destination_state
    trip.work_states = ",".join(data.work_states)
    trip.start_date = data.start_date
    trip.end_date = data.end_date
    trip.kind = data.kind
    trip.purpose = data.purpose
    trip.employment_status = data.employment_status
    trip.prior_insurance_months = data.prior_insurance_months
    trip.replacing_posted_worker = data.replacing_posted_worker
    trip.employer_substantial_activity = data.employer_substantial_activity
    trip.work_split = data.work_split
    trip.art16_agreement = data.art16_agreement
    trip.previous_legislation_state = data.previous_legislation_state
    trip.fixed_place_of_business = data.fixed_place_of_business


def update_trip(trip: Trip, data: TripInput) -> Trip:
    if trip.status == TripStatus.CANCELLED.value:
        raise InputError({"status": _("A cancelled trip cannot be changed.")})
    _apply_trip(trip, data)
    record_audit_event("trip.updated", object_type="trip", object_id=trip.id)
    return trip


def cancel_trip(trip: Trip) -> None:
    if trip.status == TripStatus.CANCELLED.value:
        return
    trip.status = TripStatus.CANCELLED.value
    trip.cancelled_at = utcnow()
    cancel_open_requests(trip)
    record_audit_event("trip.cancelled", object_type="trip", object_id=trip.id)


def list_trips(
    company_id: int,
    *,
    employee_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    include_cancelled: bool = False,
    page: int = 1,
    last_if_past_end: bool = False,
) -> tuple[list[Trip], int]:
    """Trips of the company overlapping [start, end], optionally for one employee, with their
    employees (the lists show them: no query per row)."""
    stmt = for_company(Trip, company_id).options(joinedload(Trip.employee))
    if employee_id is not None:
        stmt = stmt.where(Trip.employee_id == employee_id)
    if start is not None:
        stmt = stmt.where(Trip.end_date >= start)
    if end is not None:
        stmt = stmt.where(Trip.start_date <= end)
    if not include_cancelled:
        stmt = stmt.where(Trip.status != TripStatus.CANCELLED.value)
    return page_of(stmt, (Trip.start_date, Trip.id), page, last_if_past_end=last_if_past_end)
