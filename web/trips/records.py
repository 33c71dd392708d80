"""What a trip has: the engine's stored answer, its certificates and its certificate requests, and
the facts read from them. Reads only; every other trip module builds on this one."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select

from web.certificates.services import CertificateInput
from web.coverage.countries import in_883_area
from web.coverage.dates import fits_within
from web.coverage.engine import MAX_POSTING_MONTHS
from web.extensions import db
from web.models import (
    Certificate,
    CertificateRequest,
    RequestStatus,
    Trip,
    TripKind,
)

# The engine's certificate types that a document proves (the others: no certificate exists).
CERTIFICATE_TYPES = frozenset({"A1", "A1_via_derogation_art16", "CoC", "CoC_prolongation"})
OPEN_REQUEST_STATUSES = (RequestStatus.DRAFT.value, RequestStatus.SUBMITTED.value)


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
