"""Each trip through the engine: the case built from the trip and the employee, the answer kept on
the trip, what follows from it (a provisional certificate at once, or a request to file), and the
coverage status the dashboard lists.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from web.access import for_company
from web.certificates.services import (
    CertificateInput,
    certificate_covering_trip,
    covers,
    is_in_force,
    issue_provisional_certificate,
)
from web.coverage import CaseError, determine
from web.coverage.countries import in_883_area
from web.coverage.dates import fits_within
from web.coverage.engine import MAX_POSTING_MONTHS
from web.extensions import db
from web.filing.states import filing_state_codes
from web.models import (
    Certificate,
    CertificateKind,
    CertificateRequest,
    Employee,
    RequestKind,
    RequestStatus,
    Trip,
    TripKind,
    TripStatus,
    User,
    utcnow,
)
from web.validation import InputError

if TYPE_CHECKING:
    from web.declarations.services import DeclarationStatus

CERTIFICATE_TYPES = frozenset({"A1", "A1_via_derogation_art16", "CoC", "CoC_prolongation"})
OPEN_REQUEST_STATUSES = (RequestStatus.DRAFT.value, RequestStatus.SUBMITTED.value)

COVERAGE_STATUS_LABELS = {
    "covered": _l("Covered"),
    "pending": _l("Pending"),
    "provisional": _l("Provisional"),
    "not_covered": _l("Not covered"),
    "no_treaty": _l("No treaty"),
}

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


# --- the case ----------------------------------------------------------------------------------


def parse_work_split(text: str) -> dict[str, float]:
    """ "DE 60, FR 40" or "DE=60; FR=40" → {"DE": 60.0, "FR": 40.0}; InputError otherwise."""
    split: dict[str, float] = {}
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        code, _sep, number = part.replace("=", " ").replace(":", " ").partition(" ")
        try:
            share = float(number.strip().rstrip("%").strip())
        except ValueError:
            raise InputError(
                {
                    "work_split": _(
                        "write each country with its share, e.g. “DE 60, FR 40” (not “%(part)s”)",
                        part=part[:30],
                    )
                }
            ) from None
        split[code.strip().upper()] = share
    return split


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
        from web.coverage.explain import field_errors

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


def trip_coverage(trip: Trip) -> dict[str, Any] | None:
    return json.loads(trip.coverage_json) if trip.coverage_json else None


# --- what follows from the answer --------------------------------------------------------------


def certified_period(trip: Trip, result: dict[str, Any]) -> tuple[date, date]:
    """The part of the trip a certificate can cover: all of it, or the first segment the agreement
    allows when the trip is longer than its maximum (the rest falls under host law)."""
    for segment in result.get("segments") or []:
        if segment.get("certificate_type") in CERTIFICATE_TYPES:
            return (
                date.fromisoformat(segment["start_date"]),
                date.fromisoformat(segment["end_date"]),
            )
    return trip.start_date, trip.end_date


def document_type_of(certificate_type: str) -> str:
    return "CoC" if certificate_type.startswith("CoC") else "A1"


def certificate_input(
    trip: Trip, result: dict[str, Any], start: date, end: date
) -> CertificateInput:
    return CertificateInput(
        document_type=document_type_of(result["certificate_type"]),
        legislation_state=result["legislation_state"],
        work_states=trip.work_state_list,
        valid_from=start,
        valid_to=end,
    )


def trip_certificates(trip: Trip) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.trip_id == trip.id)
            .order_by(Certificate.valid_from, Certificate.created_at)
        )
    )


def trip_requests(trip: Trip) -> list[CertificateRequest]:
    return list(
        db.session.scalars(
            select(CertificateRequest)
            .where(CertificateRequest.trip_id == trip.id)
            .order_by(CertificateRequest.created_at, CertificateRequest.id)
        )
    )


def open_request(trip: Trip, kind: str | None = None) -> CertificateRequest | None:
    return next(
        (
            r
            for r in trip_requests(trip)
            if r.status in OPEN_REQUEST_STATUSES and (kind is None or r.kind == kind)
        ),
        None,
    )


def derogation_possible(trip: Trip) -> bool:
    """A posting beyond the 24 months of Art 12 within Reg. 883/2004 (the TCA allows none)."""
    employee = trip.employee
    return (
        trip.kind == TripKind.POSTING.value
        and not fits_within(trip.start_date, trip.end_date, MAX_POSTING_MONTHS)
        and in_883_area(employee.home_state)
        and in_883_area(trip.destination_state)
        and trip.coverage_type in ("none_host_legislation", "review_required")
    )


def act_on_determination(trip: Trip, result: dict[str, Any], *, actor: User | None) -> str | None:
    """What the answer sets in motion: a provisional certificate at once where the provider cannot
    file, a draft request where it can, a new period for an extended trip. Returns a message for
    the admin, or None when nothing was to be done."""
    from web.filing.requests import (
        cancel_request,
        create_certificate_request,
        refresh_draft,
    )

    if trip.status == TripStatus.CANCELLED.value:
        return None
    if result["certificate_type"] not in CERTIFICATE_TYPES or not result["legislation_state"]:
        # No certificate to ask for any more: drafts go (a derogation request is for exactly
        # this answer, and a filed request is the authority's to decide).
        stale = [
            r
            for r in trip_requests(trip)
            if r.status == RequestStatus.DRAFT.value and r.kind != RequestKind.DEROGATION.value
        ]
        for req in stale:
            cancel_request(req)
        if stale:
            return _("The draft request is cancelled: this trip needs no certificate any more.")
        return None
    start, end = certified_period(trip, result)
    certificates = [c for c in trip_certificates(trip) if is_in_force(c)]
    current = max(
        (c for c in certificates if c.status == "active"), key=lambda c: c.valid_to, default=None
    )
    if any(covers(c, trip.destination_state, start, end) for c in certificates):
        return None
    if result["provider_category"] == "provisional":
        # Extended trip: the new provisional for the longer period replaces the old one.
        supersedes = (
            current
            if current is not None and current.kind == CertificateKind.PROVISIONAL.value
            else None
        )
        from_day = start
        if current is not None and current.kind == CertificateKind.OFFICIAL.value:
            from_day = max(start, current.valid_to + timedelta(days=1))
        issue_provisional_certificate(
            trip.employee,
            certificate_input(trip, result, from_day, end),
            actor=actor,
            trip=trip,
            supersedes=supersedes,
        )
        return _("A provisional certificate is issued and in the employee's wallet.")
    if result["provider_category"] == "official":
        pending = open_request(trip)
        if pending is not None:
            if pending.kind == RequestKind.EXTENSION.value and pending.previous_certificate:
                start = pending.previous_certificate.valid_to + timedelta(days=1)
            if pending.kind in (
                RequestKind.INITIAL.value,
                RequestKind.EXTENSION.value,
            ) and refresh_draft(pending, start=start, end=end):
                return _("The draft request follows the trip's new dates.")
            return None
        official = current if current and current.kind == CertificateKind.OFFICIAL.value else None
        if official is not None and official.valid_to < end:
            create_certificate_request(
                trip,
                RequestKind.EXTENSION.value,
                start=official.valid_to + timedelta(days=1),
                end=end,
                actor=actor,
                previous=official,
            )
            return _("An extension request for the new period is ready to file.")
        create_certificate_request(
            trip, RequestKind.INITIAL.value, start=start, end=end, actor=actor
        )
        return _("A certificate request is ready: check its preconditions and file it.")
    return None


# --- the coverage dashboard --------------------------------------------------------------------


def coverage_status(
    trip: Trip, certificates: list[Certificate], requests: list[CertificateRequest]
) -> str:
    """covered / provisional / pending / no_treaty / not_covered, for one trip."""
    if trip.coverage_type == "none_no_treaty":
        return "no_treaty"
    best = certificate_covering_trip(trip, certificates)
    if best is not None:
        return "covered" if best.kind == CertificateKind.OFFICIAL.value else "provisional"
    if any(r.status in OPEN_REQUEST_STATUSES for r in requests):
        return "pending"
    if trip.coverage_type == "review_required":
        return "pending"
    if any(c.kind == CertificateKind.PROVISIONAL.value and is_in_force(c) for c in certificates):
        return "provisional"  # a provisional for part of the trip (e.g. the first segment)
    return "not_covered"


@dataclass
class CoverageRow:
    trip: Trip
    status: str
    certificate: Certificate | None
    request: CertificateRequest | None
    # The posted-worker declaration (web/declarations/): its .bucket is the dashboard's column.
    declaration: DeclarationStatus | None = None


def coverage_rows(
    company_id: int,
    *,
    month: date | None = None,
    country: str | None = None,
    status: str | None = None,
    declaration: str | None = None,
) -> list[CoverageRow]:
    """Every planned trip of the company with its coverage status and its declaration's
    (a bucket of BUCKET_LABELS), filtered."""
    from web.declarations.services import declaration_statuses

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
    ids = [t.id for t in trips]
    certificates: dict[int, list[Certificate]] = {i: [] for i in ids}
    requests: dict[int, list[CertificateRequest]] = {i: [] for i in ids}
    if ids:
        for cert in db.session.scalars(select(Certificate).where(Certificate.trip_id.in_(ids))):
            certificates[cert.trip_id].append(cert)  # type: ignore[index]
        for req in db.session.scalars(
            select(CertificateRequest)
            .where(CertificateRequest.trip_id.in_(ids))
            .order_by(CertificateRequest.created_at)
        ):
            requests[req.trip_id].append(req)
    declarations = declaration_statuses(trips)  # one query for every trip
    rows = []
    for trip in trips:
        trip_status = coverage_status(trip, certificates[trip.id], requests[trip.id])
        if status and trip_status != status:
            continue
        if declaration and declarations[trip.id].bucket != declaration:
            continue
        rows.append(
            CoverageRow(
                trip,
                trip_status,
                certificate_covering_trip(trip, certificates[trip.id]),
                next((r for r in reversed(requests[trip.id])), None),
                declarations[trip.id],
            )
        )
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
    "certificate_type",
    "provider_category",
    "certificate_id",
    "certificate_valid_to",
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
        trip = row.trip
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
                    row.status,
                    trip.coverage_type or "",
                    trip.coverage_category or "",
                    row.certificate.id if row.certificate else "",
                    row.certificate.valid_to.isoformat() if row.certificate else "",
                    row.request.status if row.request else "",
                    row.declaration.bucket if row.declaration else "",
                )
            ]
        )
    return out.getvalue()


def check_trip_coverage(trip: Trip, *, actor: User | None) -> str | None:
    """A new or edited trip through the engine at once, and what its answer sets in motion."""
    result = determine_trip(trip)
    return act_on_determination(trip, result, actor=actor)
