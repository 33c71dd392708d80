"""What the engine's answer on a trip sets in motion: a provisional statement at once where the
provider cannot file, a draft request where it can, a new period for an extended trip."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import gettext as _

from web.certificates.services import covers, is_in_force, issue_provisional_certificate
from web.filing.certificate_requests import (
    cancel_request,
    create_certificate_request,
    refresh_draft,
)
from web.models import (
    CertificateKind,
    RequestKind,
    RequestStatus,
    Trip,
    TripStatus,
    User,
)
from web.trips.assessment import determine_trip
from web.trips.records import (
    CERTIFICATE_TYPES,
    certificate_input,
    certified_period,
    open_request,
    trip_certificates,
    trip_requests,
)


def act_on_determination(trip: Trip, result: dict[str, Any], *, actor: User | None) -> str | None:
    """What the answer sets in motion: a provisional certificate at once where the provider cannot
    file, a draft request where it can, a new period for an extended trip. Returns a message for
    the admin, or None when nothing was to be done."""
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


def check_trip_coverage(trip: Trip, *, actor: User | None) -> str | None:
    """A new or edited trip through the engine at once, and what its answer sets in motion."""
    result = determine_trip(trip)
    return act_on_determination(trip, result, actor=actor)
