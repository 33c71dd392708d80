"""The employee's wallet: certificates in the order they matter, trips and their coverage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from web.certificates.services import (
    best_certificate_for,
    is_in_force,
)
from web.coverage.explain import text
from web.extensions import db
from web.models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    Employee,
    Trip,
    TripStatus,
)
from web.trips.records import trip_coverage
from web.trips.status import TripCoverageStatus, trip_statuses
from web.vocabulary import CoverageStatus

EXPIRY_WARNING_DAYS = 30

# The language an inspector in a country most likely reads (the inspector view's default).
COUNTRY_LANGUAGE = {
    "DE": "de",
    "AT": "de",
    "LI": "de",
    "CH": "de",
    "FR": "fr",
    "LU": "fr",
    "MC": "fr",
    "BE": "fr",
    "NL": "nl",
    "IT": "it",
    "SM": "it",
    "VA": "it",
    "ES": "es",
    "AD": "es",
    "PL": "pl",
}


@dataclass(frozen=True)
class Chip:
    """A certificate's status as the wallet shows it: a key for the style, and days left."""

    key: str  # valid, provisional, expiring, not_yet_valid, expired, withdrawn, superseded,
    # pending_review, rejected
    days_left: int | None = None


def chip_for(certificate: Certificate, today: date) -> Chip:
    if certificate.status in (
        CertificateStatus.PENDING_REVIEW.value,
        CertificateStatus.REJECTED.value,
    ):
        return Chip(certificate.status)
    if certificate.status == CertificateStatus.WITHDRAWN.value:
        return Chip("withdrawn")
    if certificate.status == CertificateStatus.SUPERSEDED.value:
        return Chip("superseded")
    if today > certificate.valid_to:
        return Chip("expired")
    if today < certificate.valid_from:
        return Chip("not_yet_valid")
    days_left = (certificate.valid_to - today).days
    if days_left < EXPIRY_WARNING_DAYS:
        return Chip("expiring", days_left)
    if certificate.kind == CertificateKind.PROVISIONAL.value:
        return Chip("provisional")
    return Chip("valid")


_CHIP_ORDER = {
    "valid": 0,
    "provisional": 0,
    "expiring": 0,
    "not_yet_valid": 1,
    "pending_review": 1,
    "superseded": 2,
    "rejected": 3,
    "expired": 3,
    "withdrawn": 4,
}


def employee_certificates(employee: Employee) -> list[Certificate]:
    return list(
        db.session.scalars(select(Certificate).where(Certificate.employee_id == employee.id))
    )


def wallet_certificates(
    certificates: list[Certificate], today: date
) -> list[tuple[Certificate, Chip]]:
    """Current certificates first (then future, replaced, expired, withdrawn), newest first."""
    rows = [(c, chip_for(c, today)) for c in certificates]
    rows.sort(key=lambda row: (_CHIP_ORDER[row[1].key], -row[0].valid_to.toordinal()))
    return rows


def current_certificates(certificates: list[Certificate], today: date) -> list[Certificate]:
    """The certificates a phone must hold offline: in force today or later."""
    return [c for c in certificates if is_in_force(c) and c.valid_to >= today]


@dataclass(frozen=True)
class TripCoverage:
    """A trip in the wallet with its coverage status — the same status and next step the
    employer's console shows (web/trips/status.py), in the employee's words."""

    trip: Trip
    status: TripCoverageStatus

    @property
    def covered(self) -> bool:
        return self.status.status in (CoverageStatus.COVERED, CoverageStatus.PROVISIONAL)

    @property
    def certificate(self) -> Certificate | None:
        return self.status.certificate if self.covered else None

    @property
    def why_not_covered(self) -> str:
        """The coverage check's own one-sentence answer, in the reader's language (empty for an
        answer stored before the explanations existed)."""
        explanation = (trip_coverage(self.trip) or {}).get("explanation") or {}
        return text(explanation.get("summary")) if explanation.get("summary") else ""


def upcoming_trips(employee: Employee, today: date) -> list[TripCoverage]:
    """The employee's planned trips not over yet, each with its coverage status."""
    trips = list(
        db.session.scalars(
            select(Trip)
            .where(
                Trip.employee_id == employee.id,
                Trip.end_date >= today,
                Trip.status == TripStatus.PLANNED.value,
            )
            .order_by(Trip.start_date)
        )
    )
    statuses = trip_statuses(trips, today)
    return [TripCoverage(trip, statuses[trip.id]) for trip in trips]


def current_trip(trips: list[TripCoverage], today: date) -> Trip | None:
    return next((t.trip for t in trips if t.trip.start_date <= today <= t.trip.end_date), None)


def inspector_language(country: str | None, default: str = "en") -> str:
    return COUNTRY_LANGUAGE.get(country or "", default)


@dataclass(frozen=True)
class AskChoice:
    """What the button opens: the certificate for here and now, or None with the closest one."""

    certificate: Certificate | None
    closest: Certificate | None
    trip: Trip | None
    country: str | None


def choose_certificate(employee: Employee, today: date) -> AskChoice:
    """Covering today and the current trip's destination; official before provisional."""
    certificates = employee_certificates(employee)
    trips = upcoming_trips(employee, today)
    trip = current_trip(trips, today)
    country = trip.destination_state if trip else None
    best = best_certificate_for(certificates, country, today) if country else None
    if best is None and country is None:
        # No trip today: any certificate in force today, the inspector's country unknown.
        in_force = [
            c for c in certificates if is_in_force(c) and c.valid_from <= today <= c.valid_to
        ]
        best = max(in_force, key=lambda c: (c.kind == "official", c.valid_to), default=None)
    closest = None
    if best is None:
        candidates = [c for c in certificates if is_in_force(c)]
        closest = min(candidates, key=lambda c: abs((c.valid_to - today).days), default=None)
    return AskChoice(best, closest, trip, country)
