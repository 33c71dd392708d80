"""The declaration where the employee, the inspector and support meet it: beside a certificate
in the wallet and in the inspector view, the notice on the wallet home before a trip, the
receipts the phone keeps for offline use, and the line on a support incident.

Built on ``inspection_bundle_for_trip`` and ``declaration_statuses`` (web/declarations/services.py);
the strings come from there, translated in the seven languages of the inspector view."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from web.declarations import bp
from web.declarations.public_messages import DeclarationState
from web.declarations.services import (
    InspectionBundle,
    declaration_statuses,
    inspection_bundle_for_trip,
)
from web.models import Certificate, Trip

if TYPE_CHECKING:
    from web.wallet.services import TripCoverage

_NOT_RECORDED = (DeclarationState.REQUIRED, DeclarationState.MISSING)


def trip_for_certificate(
    trips: list[TripCoverage], certificate: Certificate, today: date
) -> Trip | None:
    """The trip whose declaration goes beside ``certificate``: the one it covers today, else the
    next one it covers (a page kept on the phone before the trip is still right during it)."""
    covered = [
        t.trip for t in trips if t.certificate is not None and t.certificate.id == certificate.id
    ]
    current = [t for t in covered if t.start_date <= today <= t.end_date]
    return (current or covered or [None])[0]


def bundle_beside(trip: Trip | None) -> InspectionBundle | None:
    """What to show beside the certificate, in the current locale: the declaration filed, or
    required and not recorded. None otherwise (no trip, none needed, the question open)."""
    if trip is None:
        return None
    bundle = inspection_bundle_for_trip(trip)
    return bundle if bundle.line else None


def employee_notices(trips: list[TripCoverage], today: date) -> dict[int, str]:
    """trip id → the notice for each trip not started yet whose declaration is required and not
    recorded (one query for the statuses, one bundle per such trip)."""
    upcoming = [t.trip for t in trips if t.trip.start_date > today]
    statuses = declaration_statuses(upcoming, today)
    notices = {}
    for trip in upcoming:
        if statuses[trip.id].state in _NOT_RECORDED:
            notice = inspection_bundle_for_trip(trip, today).employee_notice
            if notice:
                notices[trip.id] = notice
    return notices


def receipt_urls(trips: list[TripCoverage], today: date) -> list[str]:
    """The receipts of the current and upcoming trips, for the phone to keep (one query)."""
    statuses = declaration_statuses([t.trip for t in trips], today)
    return [s.receipt.url for s in statuses.values() if s.receipt is not None and s.receipt.url]


@bp.app_template_global()
def incident_declaration(trip: Trip | None) -> InspectionBundle | None:
    """For templates/declarations/_incident_line.html: the declaration of the incident's trip."""
    return bundle_beside(trip)
