"""A trip's coverage status and its next step, computed in one place.

Every screen that says whether a trip is covered — the wallet, the trip page, the trips list, the
employee page, the coverage dashboard, its CSV export and the API — asks `trip_statuses` (many
trips: three queries whatever their number) or `trip_status` (one trip). The status answers "is
this person covered?"; the next step "what must I do?", as the one action that moves the trip on.

The rules, in order:
1. A cancelled trip: cancelled, nothing to do.
2. Certificates in force for the destination covering the period a certificate can cover (the
   whole trip, or the first segment an agreement allows) — any certificate of the employee, not
   only those issued for this trip: covered (all official) or provisional. A covered trip is never
   offered a provisional statement and never told to request a certificate.
3. No answer from the coverage check yet (or it failed): not covered, check again.
4. An official document recorded and waiting for the provider's check: requested.
5. An open request: filed → requested (upload the authority's document when it arrives);
   draft → action needed (confirm the checklist and file).
6. Otherwise by the engine's answer: no agreement, host legislation (an Art 16 exception where
   the law allows one), review needed, or not covered (issue a provisional statement where the
   provider cannot file; prepare the certificate request where it can).
7. The host state's posted-worker declaration (web/declarations/): when coverage asks nothing of
   the employer (covered, or waiting for the authority), a declaration question to answer or a
   declaration to file (or overdue) becomes the next step. The status still answers coverage.
8. The trip's other work countries: when neither coverage nor the destination's declaration asks
   anything, a declaration those countries require (until the trip ends) is the next step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from web.certificates.services import is_in_force
from web.certificates.titles import document_short_title
from web.countries import localised_country_name
from web.database import in_batches
from web.declarations.public_messages import DeclarationState
from web.declarations.services import DeclarationStatus, declaration_statuses
from web.extensions import db
from web.filing.certificate_requests import CHECKLIST
from web.i18n import format_day, translated
from web.models import (
    Certificate,
    CertificateKind,
    CertificateRequest,
    CertificateStatus,
    Employee,
    RequestKind,
    RequestStatus,
    Trip,
    TripStatus,
)
from web.trips.records import (
    CERTIFICATE_TYPES,
    OPEN_REQUEST_STATUSES,
    certified_period,
    derogation_possible,
    trip_coverage,
)
from web.vocabulary import CoverageStatus, NextStepKind

# Next steps that coverage asks of the employer: a declaration to file waits behind them.
_COVERAGE_ACTIONS = frozenset(
    {
        NextStepKind.FILE_REQUEST,
        NextStepKind.PREPARE_REQUEST,
        NextStepKind.ISSUE_PROVISIONAL,
        NextStepKind.REQUEST_EXCEPTION,
        NextStepKind.REGISTER_IN_HOST,
        NextStepKind.CHECK_OPTIONS,
        NextStepKind.COMPLETE_TRIP,
        NextStepKind.CHECK_AGAIN,
    }
)
_DECLARATION_STEPS = {
    DeclarationState.QUESTION: NextStepKind.ANSWER_DECLARATION,
    DeclarationState.REQUIRED: NextStepKind.FILE_DECLARATION,
    DeclarationState.MISSING: NextStepKind.FILE_DECLARATION,
}

# Where each next step is done: (endpoint, method, the URL value it needs). None: nowhere to go.
_ACTIONS: dict[NextStepKind, tuple[str, str, str] | None] = {
    NextStepKind.NOTHING: None,
    NextStepKind.FILE_REQUEST: ("admin.certificate_request", "get", "request_id"),
    NextStepKind.UPLOAD_DOCUMENT: ("admin.certificate_request", "get", "request_id"),
    NextStepKind.WAIT_FOR_CHECK: None,
    NextStepKind.PREPARE_REQUEST: ("admin.new_request", "post", "trip_id"),
    NextStepKind.ISSUE_PROVISIONAL: ("admin.issue_provisional", "get", "trip_id"),
    NextStepKind.REQUEST_EXCEPTION: ("admin.new_request", "post", "trip_id"),
    NextStepKind.REGISTER_IN_HOST: None,
    NextStepKind.CHECK_OPTIONS: None,
    NextStepKind.COMPLETE_TRIP: ("admin.edit_trip", "get", "trip_id"),
    NextStepKind.CHECK_AGAIN: ("admin.recheck_trip", "post", "trip_id"),
    NextStepKind.ANSWER_DECLARATION: ("admin.trip", "get", "trip_id"),
    NextStepKind.FILE_DECLARATION: ("admin.trip", "get", "trip_id"),
    NextStepKind.CHECK_DECLARATIONS_ELSEWHERE: ("admin.trip", "get", "trip_id"),
}


@dataclass(frozen=True)
class TripCoverageStatus:
    """A trip's status, what decides it, and its next step; sentences in the reader's language."""

    trip: Trip
    status: CoverageStatus
    next_step: NextStepKind
    # The certificate that proves coverage (the one in force today, else the first), its end.
    certificate: Certificate | None = None
    covered_until: date | None = None
    # The open request (or, when none, the latest), and when the authority's answer is due.
    request: CertificateRequest | None = None
    expected_by: date | None = None
    # Draft requests: the checklist items not confirmed yet (their labels).
    missing: tuple[str, ...] = field(default_factory=tuple)
    # The host state's posted-worker declaration (None for a cancelled trip).
    declaration: DeclarationStatus | None = None

    @property
    def label(self) -> str:
        return self.status.label

    @property
    def sentence(self) -> str:
        """The next step as one sentence for the employer (console, CSV, API)."""
        kind = self.next_step
        if kind in (NextStepKind.ANSWER_DECLARATION, NextStepKind.FILE_DECLARATION):
            assert self.declaration is not None
            return self.declaration.next_step
        if kind is NextStepKind.CHECK_DECLARATIONS_ELSEWHERE:
            assert self.declaration is not None
            return self.declaration.elsewhere_next_step
        if kind is NextStepKind.NOTHING and self.status is CoverageStatus.CANCELLED:
            return _("Nothing to do: the trip is cancelled.")
        if kind is NextStepKind.NOTHING and self.certificate is not None:
            return _(
                "Nothing to do: covered by %(document)s until %(date)s.",
                document=document_short_title(self.certificate),
                date=format_day(self.covered_until or self.certificate.valid_to),
            )
        if kind is NextStepKind.FILE_REQUEST:
            request_kind = RequestKind.label_of(self.request.kind) if self.request else ""
            if self.missing:
                return ngettext(
                    "%(request)s ready: confirm the open point of its checklist and file it.",
                    "%(request)s ready: confirm the %(num)d open points of its checklist and "
                    "file it.",
                    len(self.missing),
                    request=request_kind,
                )
            return _("%(request)s ready: file it with the authority.", request=request_kind)
        if kind is NextStepKind.UPLOAD_DOCUMENT:
            if self.expected_by is not None:
                return _(
                    "Filed: upload the authority's document when it arrives (expected by "
                    "%(date)s).",
                    date=format_day(self.expected_by),
                )
            return _("Filed: upload the authority's document when it arrives.")
        if kind is NextStepKind.WAIT_FOR_CHECK:
            return _(
                "The authority's document is recorded: it counts once the provider has checked it."
            )
        if kind is NextStepKind.PREPARE_REQUEST:
            return _("A certificate is needed: prepare the request to the authority.")
        if kind is NextStepKind.ISSUE_PROVISIONAL:
            return _("A certificate is needed: issue a provisional statement.")
        if kind is NextStepKind.REQUEST_EXCEPTION:
            return _(
                "The host country's social security applies, unless both countries agree to an "
                "exception (Art 16): ask for one if the employee should stay insured at home."
            )
        if kind is NextStepKind.REGISTER_IN_HOST:
            return _(
                "%(country)s's social security applies: register the employee there.",
                country=localised_country_name(self.legislation_state),
            )
        if kind is NextStepKind.CHECK_OPTIONS:
            return _(
                "No social security agreement covers this trip: check the options for staying "
                "insured at home (see the trip page)."
            )
        if kind is NextStepKind.COMPLETE_TRIP:
            return _("The coverage check needs a person's review: see the reasons on the trip.")
        if kind is NextStepKind.CHECK_AGAIN:
            return _("The coverage has not been checked yet: check it again.")
        return _("Nothing to do.")

    @property
    def employee_sentence(self) -> str:
        """The same state as the employee reads it in the wallet (they file nothing), with
        what to do if an authority asks meanwhile."""
        status = self.status
        if status in (CoverageStatus.COVERED, CoverageStatus.PROVISIONAL):
            return _("Covered until %(date)s.", date=format_day(self.covered_until))
        if status is CoverageStatus.REQUESTED and self.expected_by is not None:
            return _(
                "Your employer has asked the authority for your certificate; it is expected by "
                "%(date)s. If an authority asks before then, call support.",
                date=format_day(self.expected_by),
            )
        if status is CoverageStatus.REQUESTED:
            return _(
                "Your employer has asked the authority for your certificate. If an authority "
                "asks before it arrives, call support."
            )
        if status is CoverageStatus.ACTION_NEEDED:
            return _(
                "Your employer is preparing the request for your certificate. If an authority "
                "asks before it arrives, call support."
            )
        if status is CoverageStatus.HOST_LEGISLATION:
            return _(
                "The social security of %(country)s applies on this trip: your employer "
                "registers you there. If an authority asks, call support.",
                country=localised_country_name(self.legislation_state),
            )
        if status is CoverageStatus.NO_AGREEMENT:
            return _(
                "No social security agreement covers this country: no certificate can exist. "
                "If an authority asks, call support."
            )
        if status is CoverageStatus.CANCELLED:
            return _("This trip is cancelled.")
        return _(
            "No certificate covers this trip yet. Ask your employer's HR team to request one "
            "before you travel; if you are already abroad and an authority asks, call support."
        )

    @property
    def legislation_state(self) -> str:
        """The state whose social security applies, as the coverage check found it."""
        found = (trip_coverage(self.trip) or {}).get("legislation_state")
        return found or self.trip.destination_state

    @property
    def action(self) -> dict[str, Any] | None:
        """Where the next step is done: endpoint, method and URL values (None: nowhere)."""
        target = _ACTIONS[self.next_step]
        if target is None:
            return None
        endpoint, method, key = target
        values: dict[str, Any] = {}
        if key == "request_id":
            if self.request is None:
                return None
            values["request_id"] = self.request.id
        else:
            values["trip_id"] = self.trip.id
        if self.next_step in (NextStepKind.ANSWER_DECLARATION, NextStepKind.FILE_DECLARATION):
            values["_anchor"] = "declaration"  # the declaration panel of the trip page
        if self.next_step is NextStepKind.CHECK_DECLARATIONS_ELSEWHERE:
            values["_anchor"] = "declarations-elsewhere"  # its block "The other work countries"
        if endpoint == "admin.new_request":
            values["kind"] = (
                "derogation" if self.next_step is NextStepKind.REQUEST_EXCEPTION else "initial"
            )
        return {"endpoint": endpoint, "method": method, "values": values}

    def as_json(self) -> dict[str, Any]:
        """The API's and the wallet data's form: codes for machines, sentences for people."""
        return {
            "status": self.status.value,
            "status_label": self.label,
            "next_step": self.next_step.value,
            "next_step_label": self.next_step.label,
            "next_step_text": self.sentence,
            "certificate_id": self.certificate.id if self.certificate else None,
            "covered_until": self.covered_until.isoformat() if self.covered_until else None,
            "request_id": self.request.id if self.request else None,
            "request_status": self.request.status if self.request else None,
            "expected_by": self.expected_by.isoformat() if self.expected_by else None,
            "declaration": self.declaration.state.value if self.declaration else None,
        }


def _cover(
    trip: Trip, certificates: list[Certificate], first: date, last: date
) -> list[Certificate] | None:
    """The certificates in force for the destination that together cover [first, last] day by
    day (an official one, then the provisional statement for its extension, say), official first
    where both reach a day. None when a day is uncovered."""
    usable = sorted(
        (c for c in certificates if is_in_force(c) and trip.destination_state in c.work_state_list),
        key=lambda c: (c.valid_from, c.kind != CertificateKind.OFFICIAL.value),
    )
    day, used = first, []
    while day <= last:
        reaching = [c for c in usable if c.valid_from <= day <= c.valid_to]
        if not reaching:
            return None
        best = max(
            reaching,
            key=lambda c: (c.kind == CertificateKind.OFFICIAL.value, c.valid_to),
        )
        used.append(best)
        day = date.fromordinal(best.valid_to.toordinal() + 1)
    return used


def _status_of(
    trip: Trip,
    certificates: list[Certificate],
    requests: list[CertificateRequest],
    today: date,
) -> TripCoverageStatus:
    if trip.status == TripStatus.CANCELLED.value:
        return TripCoverageStatus(trip, CoverageStatus.CANCELLED, NextStepKind.NOTHING)
    result = trip_coverage(trip) or {}
    certificate_type = result.get("certificate_type")
    open_requests = [r for r in requests if r.status in OPEN_REQUEST_STATUSES]
    filed = next((r for r in open_requests if r.status == RequestStatus.SUBMITTED.value), None)
    draft = next((r for r in open_requests if r.status == RequestStatus.DRAFT.value), None)
    latest = (open_requests or requests or [None])[-1]
    first, last = (
        certified_period(trip, result)
        if certificate_type in CERTIFICATE_TYPES
        else (trip.start_date, trip.end_date)
    )
    cover = _cover(trip, certificates, first, last)
    if cover is not None:
        shown = next((c for c in cover if c.valid_from <= today <= c.valid_to), cover[0])
        until = cover[-1].valid_to
        official = all(c.kind == CertificateKind.OFFICIAL.value for c in cover)
        status = CoverageStatus.COVERED if official else CoverageStatus.PROVISIONAL
        step = NextStepKind.NOTHING
        if not official and filed is not None:
            step = NextStepKind.UPLOAD_DOCUMENT
        elif not official and draft is not None:
            step = NextStepKind.FILE_REQUEST
        return TripCoverageStatus(
            trip,
            status,
            step,
            certificate=shown,
            covered_until=until,
            request=filed or draft or latest,
            expected_by=filed.expected_by if filed is not None else None,
            missing=_missing(draft) if step is NextStepKind.FILE_REQUEST else (),
        )
    if not result:
        # Not checked yet (or the check failed), and no certificate covers it (above).
        return TripCoverageStatus(trip, CoverageStatus.NOT_COVERED, NextStepKind.CHECK_AGAIN)
    waiting = next(
        (
            c
            for c in certificates
            if c.status == CertificateStatus.PENDING_REVIEW.value
            and trip.destination_state in c.work_state_list
            and c.valid_from <= first
            and c.valid_to >= last
        ),
        None,
    )
    if waiting is not None:
        return TripCoverageStatus(
            trip,
            CoverageStatus.REQUESTED,
            NextStepKind.WAIT_FOR_CHECK,
            request=filed or latest,
        )
    if filed is not None:
        return TripCoverageStatus(
            trip,
            CoverageStatus.REQUESTED,
            NextStepKind.UPLOAD_DOCUMENT,
            request=filed,
            expected_by=filed.expected_by,
        )
    if draft is not None:
        return TripCoverageStatus(
            trip,
            CoverageStatus.ACTION_NEEDED,
            NextStepKind.FILE_REQUEST,
            request=draft,
            missing=_missing(draft),
        )
    if certificate_type == "none_no_treaty":
        return TripCoverageStatus(
            trip, CoverageStatus.NO_AGREEMENT, NextStepKind.CHECK_OPTIONS, request=latest
        )
    if certificate_type == "none_host_legislation":
        step = (
            NextStepKind.REQUEST_EXCEPTION
            if derogation_possible(trip)
            else NextStepKind.REGISTER_IN_HOST
        )
        return TripCoverageStatus(trip, CoverageStatus.HOST_LEGISLATION, step, request=latest)
    if certificate_type not in CERTIFICATE_TYPES or not result.get("legislation_state"):
        step = (
            NextStepKind.REQUEST_EXCEPTION
            if derogation_possible(trip)
            else NextStepKind.COMPLETE_TRIP
        )
        return TripCoverageStatus(trip, CoverageStatus.REVIEW_NEEDED, step, request=latest)
    step = (
        NextStepKind.ISSUE_PROVISIONAL
        if result.get("provider_category") == "provisional"
        else NextStepKind.PREPARE_REQUEST
    )
    return TripCoverageStatus(trip, CoverageStatus.NOT_COVERED, step, request=latest)


def _missing(draft: CertificateRequest | None) -> tuple[str, ...]:
    if draft is None:
        return ()
    return tuple(translated(label) for name, label in CHECKLIST if not getattr(draft, name))


def trip_statuses(
    trips: Iterable[Trip], today: date | None = None
) -> dict[int, TripCoverageStatus]:
    """trip id → status, for any number of trips in four queries (the trips' employees, their
    certificates, the trips' requests, their declarations) and none per trip."""
    trips = list(trips)
    today = today or date.today()
    if not trips:
        return {}
    employee_ids = {t.employee_id for t in trips}
    # Held here, so the session's identity map (weak references) answers `trip.employee`
    # without a query per trip.
    employees = [
        employee
        for ids in in_batches(employee_ids)
        for employee in db.session.scalars(
            select(Employee)
            .where(Employee.id.in_(ids))
            .options(joinedload(Employee.company))  # the declaration rules read the company's seat
        )
    ]
    certificates: dict[int, list[Certificate]] = {i: [] for i in employee_ids}
    for ids in in_batches(employee_ids):
        for certificate in db.session.scalars(
            select(Certificate).where(Certificate.employee_id.in_(ids))
        ):
            certificates[certificate.employee_id].append(certificate)
    requests: dict[int, list[CertificateRequest]] = {t.id: [] for t in trips}
    for ids in in_batches(requests):
        for req in db.session.scalars(
            select(CertificateRequest)
            .where(CertificateRequest.trip_id.in_(ids))
            .order_by(CertificateRequest.created_at, CertificateRequest.id)
        ):
            requests[req.trip_id].append(req)
    declarations = declaration_statuses(trips, today)
    statuses = {
        t.id: _with_declaration(
            _status_of(t, certificates[t.employee_id], requests[t.id], today), declarations[t.id]
        )
        for t in trips
    }
    del employees
    return statuses


def _with_declaration(
    status: TripCoverageStatus, declaration: DeclarationStatus
) -> TripCoverageStatus:
    """Rule 7: the declaration's step, once coverage asks nothing of the employer."""
    if status.status is CoverageStatus.CANCELLED:
        return status
    step = status.next_step
    if step not in _COVERAGE_ACTIONS and declaration.state in _DECLARATION_STEPS:
        step = _DECLARATION_STEPS[declaration.state]
    elif step not in _COVERAGE_ACTIONS and declaration.elsewhere_to_file:
        step = NextStepKind.CHECK_DECLARATIONS_ELSEWHERE  # rule 8
    return replace(status, next_step=step, declaration=declaration)


def trip_status(trip: Trip, today: date | None = None) -> TripCoverageStatus:
    """One trip's status (the trip page, the wallet's trip line, the API)."""
    return trip_statuses([trip], today)[trip.id]
