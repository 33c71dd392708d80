"""Each trip through the coverage engine: the case built from the trip and its employee, and the
engine's answer kept on the trip (the console, the wallet and the API then read the same answer).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from web.coverage import CaseError, determine
from web.coverage.explain import field_errors
from web.extensions import db
from web.filing.states import filing_state_codes
from web.models import (
    CertificateRequest,
    Employee,
    RequestKind,
    Trip,
    TripKind,
    utcnow,
)
from web.trips.input import parse_work_split
from web.validation import InputError

# Engine field → trip form field, so an error shows beside what the admin can change.
_FORM_FIELDS = {
    "trip.destination": "destination_state",
    "trip.start_date": "start_date",
    "trip.end_date": "end_date",
    "trip.kind": "kind",
    "work_split_pct": "work_split",
    "employed_work_split_pct": "work_split",
    "employer_seats": "work_split",
    "prior_insurance_months": "prior_insurance_months",
    "employment_status": "employment_status",
    "art16_agreement": "art16_agreement",
    "previous_legislation_state": "previous_legislation_state",
    "fixed_place_of_business": "fixed_place_of_business",
    "trip.original_end_date": "end_date",
}


def case_for_trip(trip: Trip) -> dict[str, Any]:
    """The engine's input (web/coverage/validation.py) from the trip and its employee."""
    employee: Employee = trip.employee
    case: dict[str, Any] = {
        "home_state": employee.home_state,
        "residence_state": employee.residence_state,
        "nationality": [employee.nationality],
        "employment_status": trip.employment_status,
        "trip": {
            "kind": trip.kind,
            "destination": trip.destination_state,
            "start_date": trip.start_date.isoformat(),
            "end_date": trip.end_date.isoformat(),
        },
        "replacing_posted_worker": trip.replacing_posted_worker,
        "employer_substantial_activity_in_home_state": trip.employer_substantial_activity,
        "art16_agreement": trip.art16_agreement,
    }
    if trip.prior_insurance_months is not None:
        case["prior_insurance_months"] = trip.prior_insurance_months
    if trip.previous_legislation_state:
        case["recruited_for_posting"] = True
        case["previous_legislation_state"] = trip.previous_legislation_state
    if trip.fixed_place_of_business:
        case["fixed_place_of_business"] = trip.fixed_place_of_business
    original_end = first_filed_end(trip)
    if trip.kind == TripKind.POSTING.value and original_end and original_end < trip.end_date:
        case["trip"]["original_end_date"] = original_end.isoformat()
    if trip.kind == TripKind.REGULAR_MULTI_STATE.value:
        split = parse_work_split(trip.work_split) if trip.work_split else None
        key = (
            "employed_work_split_pct"
            if trip.employment_status == "employed_and_self_employed"
            else "work_split_pct"
        )
        if split is not None:
            case[key] = split
        seat = employee.company.seat_state or employee.home_state
        case["employer_seats"] = [{"country": seat}]
    return case


def first_filed_end(trip: Trip) -> date | None:
    """The end of the period first filed with the authority (the initial request, once filed):
    what the employer notified before any extension, so the engine can tell an extended posting
    from one foreseen longer at the outset."""
    if trip.id is None:
        return None
    first = db.session.scalars(
        select(CertificateRequest)
        .where(
            CertificateRequest.trip_id == trip.id,
            CertificateRequest.kind == RequestKind.INITIAL.value,
            CertificateRequest.submitted_at.is_not(None),
        )
        .order_by(CertificateRequest.submitted_at, CertificateRequest.id)
        .limit(1)
    ).first()
    if first is None or first.period_start != trip.start_date:
        return None
    return first.period_end


def determine_trip(trip: Trip, *, today: date | None = None) -> dict[str, Any]:
    """Run the engine on the trip and keep its answer on the trip. InputError (by form field)
    when the case cannot be assessed: the engine never guesses."""
    # Kept on the trip from its history, never typed: the console and the API then agree.
    trip.original_end_date = first_filed_end(trip)
    try:
        result = determine(
            case_for_trip(trip), provider_filing_states=filing_state_codes(), today=today
        )
    except CaseError as exc:
        errors: dict[str, str] = {}
        for name, message in field_errors(exc.messages).items():
            field = _FORM_FIELDS.get(name.split("[")[0], "coverage")
            text = _("The coverage check cannot assess this: %(detail)s", detail=message)
            errors[field] = text if field not in errors else f"{errors[field]} {text}"
        raise InputError(errors) from None
    trip.coverage_json = json.dumps(result, default=str)
    trip.coverage_type = result["certificate_type"]
    trip.coverage_category = result["provider_category"]
    trip.determined_at = utcnow()
    return result
