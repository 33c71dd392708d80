"""The declaration where the employee, the inspector and support meet it: beside a certificate
in the wallet and in the inspector view, the notice on the wallet home before a trip, the
receipts the phone keeps for offline use, and the line on a support incident.

Built on ``inspection_bundle_for_trip`` and ``declaration_statuses`` (web/declarations/services.py);
the strings come from there, translated in the seven languages of the inspector view."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from web.certificates.services import certificate_covering_trip
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
        t.trip for t in trips if certificate_covering_trip(t.trip, [certificate]) is not None
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


# The fields of the EU standard declaration form the panel asks for, in the form's order.
STANDARD_FORM_FIELDS = {
    "provider_registration": _l("Your company's VAT or registration number"),
    "provider_address": _l("Your company's address"),
    "recipient_name": _l("Client in the country (name)"),
    "recipient_address": _l("Client's address"),
    "workplace_address": _l("Address of the place of work"),
    "sector": _l("Sector and activity (e.g. NACE code)"),
    "contact_name": _l("Contact person in the country (name)"),
    "contact_email": _l("Contact person's e-mail"),
    "contact_phone": _l("Contact person's phone"),
    "contact_address": _l("Contact person's address"),
}
# The panel's other fields, as an error summary names them.
PANEL_FIELDS = {
    "provides_service": _l("Does the employee provide a service there?"),
    "exemption": _l("Exemption"),
    "filed_on": _l("Filed on"),
    "receipt_number": _l("Receipt number"),
    "receipt": _l("Receipt"),
    **STANDARD_FORM_FIELDS,
}


@bp.app_template_global()
def declaration_standard_form_fields() -> list[tuple[str, str]]:
    """(field, label) of the EU standard form's fields, for the declaration panel."""
    return [(name, str(label)) for name, label in STANDARD_FORM_FIELDS.items()]


@bp.app_template_global()
def declaration_field_label(name: str) -> str:
    """The label of a declaration panel field, as its error summary names it."""
    return str(PANEL_FIELDS.get(name, _("Details for the EU standard declaration form")))
