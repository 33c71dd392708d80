"""Certificate requests filed with the authority: draft → submitted → issued or refused.

A request carries the period asked for, the preconditions the admin confirms before filing
(docs/legal-rules.md §3: registered as employed for the whole period, e.g. the Belgian Dimona;
at least one month of prior insurance; not replacing a posted worker; the employer's substantial
activity at home), and the expected lead time of the issuing state. When the trip starts before
the document can arrive, filing also issues a provisional certificate for the meantime; the
authority's document supersedes it, a refusal withdraws it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from web.audit import record_audit_event
from web.certificates.institutions import validate_institution
from web.certificates.review import confirm_as_recorded_by_operator
from web.certificates.services import (
    CertificateInput,
    import_official_certificate,
    issue_provisional_certificate,
    revoke_certificate,
)
from web.coverage.dates import add_months
from web.coverage.engine import ASSESSMENT_HORIZON_MONTHS, DEROGATION_NOTICE_MONTHS
from web.extensions import db
from web.filing.states import lead_time_days
from web.models import (
    Certificate,
    CertificateKind,
    CertificateRequest,
    CertificateStatus,
    RequestKind,
    RequestStatus,
    Role,
    Trip,
    TripKind,
    TripStatus,
    User,
    utcnow,
)
from web.trips.assessment import determine_trip
from web.trips.records import (
    CERTIFICATE_TYPES,
    OPEN_REQUEST_STATUSES,
    certified_period,
    derogation_possible,
    document_type_of,
    open_request,
    trip_coverage,
)
from web.validation import InputError

CHECKLIST = (
    (
        "registered_for_period",
        _l(
            "The employee is registered as employed by the company for the whole period "
            "(in Belgium: the Dimona declaration)."
        ),
    ),
    (
        "prior_insurance_confirmed",
        _l("The employee was insured in the home country for at least one month before."),
    ),
    ("not_replacing_confirmed", _l("The employee does not replace another posted worker.")),
    (
        "substantial_activity_confirmed",
        _l("The employer has substantial activity in the home country (not only admin)."),
    ),
)
RENEWAL_NOTICE_DAYS = 60


def _audit(action: str, req: CertificateRequest, message: str = "") -> None:
    record_audit_event(
        action,
        object_type="certificate_request",
        object_id=req.id,
        company_id=req.company_id,
        message=message,
    )


def _fill_from_trip(req: CertificateRequest, trip: Trip, start: date, end: date) -> None:
    """The request's certificate, period and preconditions from the engine's answer on the trip."""
    result = trip_coverage(trip) or {}
    certificate_type = result.get("certificate_type") or "A1"
    legislation_state = result.get("legislation_state") or trip.employee.home_state
    if req.kind == RequestKind.DEROGATION.value:
        certificate_type = "A1_via_derogation_art16"
        legislation_state = trip.employee.home_state
    if end < start:
        raise InputError({"period": _("The new period ends before it starts.")})
    req.document_type = document_type_of(certificate_type)
    req.certificate_type = certificate_type
    req.legislation_state = legislation_state
    req.issuer = result.get("certificate_issuer")
    req.work_states = trip.work_states
    req.period_start = start
    req.period_end = end
    req.lead_time_days = lead_time_days(legislation_state)
    # What the trip already states is pre-ticked; the admin confirms before filing.
    req.prior_insurance_confirmed = (trip.prior_insurance_months or 0) >= 1
    req.not_replacing_confirmed = not trip.replacing_posted_worker
    req.substantial_activity_confirmed = trip.employer_substantial_activity


def create_certificate_request(
    trip: Trip,
    kind: str,
    *,
    start: date,
    end: date,
    actor: User | None,
    previous: Certificate | None = None,
) -> CertificateRequest:
    """A draft request for ``trip`` over [start, end], from the engine's answer on the trip."""
    req = CertificateRequest(
        company_id=trip.company_id,
        employee_id=trip.employee_id,
        trip=trip,
        kind=kind,
        status=RequestStatus.DRAFT.value,
        previous_certificate_id=previous.id if previous else None,
        created_by_id=actor.id if actor else None,
    )
    _fill_from_trip(req, trip, start, end)
    db.session.add(req)
    db.session.flush()
    _audit("request.created", req, kind)
    return req


def refresh_draft(req: CertificateRequest, *, start: date, end: date) -> bool:
    """A draft follows its trip's new dates or answer (a filed request does not: the authority
    has it). True when something changed."""
    if req.status != RequestStatus.DRAFT.value:
        return False
    before = (req.period_start, req.period_end, req.certificate_type, req.legislation_state)
    _fill_from_trip(req, req.trip, start, end)
    changed = before != (
        req.period_start,
        req.period_end,
        req.certificate_type,
        req.legislation_state,
    )
    if changed:
        _audit("request.updated", req)
    return changed


def request_warnings(req: CertificateRequest, today: date) -> list[str]:
    warnings = []
    if req.kind == RequestKind.DEROGATION.value and req.period_start < add_months(
        today, DEROGATION_NOTICE_MONTHS
    ):
        warnings.append(
            _(
                "The posting starts in less than 3 months: a derogation should be requested at "
                "least 3 months before the start and may not be decided in time."
            )
        )
    trip = req.trip
    if (
        req.status == RequestStatus.SUBMITTED.value
        and req.kind == RequestKind.INITIAL.value
        and (trip.start_date < req.period_start or trip.end_date > req.period_end)
    ):
        warnings.append(
            _(
                "The trip now runs from %(start)s to %(end)s, beyond the period filed: tell the "
                "authority, or record its decision and file an extension.",
                start=trip.start_date.isoformat(),
                end=trip.end_date.isoformat(),
            )
        )
    if req.status == RequestStatus.DRAFT.value and expected_by(req, today) > req.period_start:
        warnings.append(
            _(
                "The document cannot arrive before the trip starts (about %(days)d days): filing "
                "issues a provisional certificate for the meantime.",
                days=req.lead_time_days,
            )
        )
    return warnings


def expected_by(req: CertificateRequest, filed_on: date) -> date:
    return filed_on + timedelta(days=req.lead_time_days)


def _require_status(req: CertificateRequest, *statuses: str) -> None:
    if req.status not in statuses:
        raise InputError(
            {
                "status": _(
                    "This request is “%(status)s”: that step is not possible any more.",
                    status=RequestStatus.label_of(req.status),
                )
            }
        )


def submit_request(
    req: CertificateRequest, checklist: dict[str, Any], *, actor: User | None, today: date
) -> Certificate | None:
    """File the request once every precondition is confirmed. When the document cannot arrive
    before the trip starts, a provisional certificate covers the meantime (returned)."""
    _require_status(req, RequestStatus.DRAFT.value)
    missing = {name: _("Confirm this before filing.") for name, _label in CHECKLIST}
    for name, _label in CHECKLIST:
        setattr(req, name, bool(checklist.get(name)))
        if getattr(req, name):
            missing.pop(name)
    if missing:
        raise InputError(missing)
    req.status = RequestStatus.SUBMITTED.value
    req.submitted_at = utcnow()
    req.expected_by = expected_by(req, today)
    trip = req.trip
    if req.kind == RequestKind.DEROGATION.value:
        trip.art16_agreement = "requested"
        determine_trip(trip, today=today)
    _audit("request.submitted", req)
    provisional = None
    if req.expected_by > req.period_start and req.kind != RequestKind.DEROGATION.value:
        provisional = issue_provisional_certificate(
            trip.employee,
            CertificateInput(
                req.document_type,
                req.legislation_state,
                req.work_state_list,
                req.period_start,
                req.period_end,
            ),
            actor=actor,
            trip=trip,
        )
        req.provisional_certificate_id = provisional.id
    return provisional


def record_issued(
    req: CertificateRequest,
    *,
    valid_from: date,
    valid_to: date,
    issuing_institution: str,
    authority_reference: str,
    document: bytes | None,
    filename: str,
    actor: User | None,
    today: date,
    institution_other: str = "",
    institution_other_justification: str = "",
) -> Certificate:
    """The authority's document arrived: record it. Like any official record it waits for the
    provider's review, which replaces the provisional one on confirmation; when a provider
    operator records it, their recording is that review and it is confirmed at once."""
    _require_status(req, RequestStatus.SUBMITTED.value)
    errors = {}
    if document is None:
        errors["document"] = _("Attach the authority's PDF.")
    if valid_to < valid_from:
        errors["valid_to"] = _("is before the first day")
    institution = None
    try:
        institution = validate_institution(
            issuing_institution or "",
            institution_other,
            institution_other_justification,
            state=req.legislation_state,
        )
    except InputError as exc:
        errors.update(exc.errors)
    if errors:
        raise InputError(errors)
    assert institution is not None
    trip = req.trip
    provisional = req.provisional_certificate
    supersedes = (
        provisional
        if provisional is not None and provisional.status == CertificateStatus.ACTIVE.value
        else req.previous_certificate
    )
    certificate = import_official_certificate(
        trip.employee,
        CertificateInput(
            req.document_type,
            req.legislation_state,
            req.work_state_list,
            valid_from,
            valid_to,
            institution.value,
            authority_reference.strip()[:120] or None,
            institution.justification,
        ),
        actor=actor,
        document=document,
        filename=filename,
        trip=trip,
        supersedes=supersedes,
    )
    if actor is not None and actor.role_enum is Role.OPERATOR:
        confirm_as_recorded_by_operator(certificate, actor)
    req.status = RequestStatus.ISSUED.value
    req.decided_at = utcnow()
    req.certificate_id = certificate.id
    if req.kind == RequestKind.DEROGATION.value:
        trip.art16_agreement = "granted"
        determine_trip(trip, today=today)
    _audit("request.issued", req)
    return certificate


def record_refused(
    req: CertificateRequest, reason: str, *, actor: User | None, today: date
) -> None:
    """The authority refused: the provisional certificate issued for the meantime is withdrawn
    (it would claim a coverage the authority denied)."""
    _require_status(req, RequestStatus.SUBMITTED.value)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InputError({"reason": _("Give the authority's reason.")})
    req.status = RequestStatus.REFUSED.value
    req.decided_at = utcnow()
    req.refusal_reason = reason[:500]
    provisional = req.provisional_certificate
    if provisional is not None and provisional.status != CertificateStatus.WITHDRAWN.value:
        revoke_certificate(
            provisional,
            _("The authority refused the request: %(reason)s", reason=reason),
            actor=actor,
        )
    if req.kind == RequestKind.DEROGATION.value:
        req.trip.art16_agreement = "none"
        determine_trip(req.trip, today=today)
    _audit("request.refused", req)


def cancel_request(req: CertificateRequest) -> None:
    _require_status(req, *OPEN_REQUEST_STATUSES)
    req.status = RequestStatus.CANCELLED.value
    req.decided_at = utcnow()
    _audit("request.cancelled", req)


def cancel_open_requests(trip: Trip) -> None:
    """A cancelled trip needs no certificate: its open requests are cancelled too."""
    for req in db.session.scalars(
        select(CertificateRequest).where(
            CertificateRequest.trip_id == trip.id,
            CertificateRequest.status.in_(OPEN_REQUEST_STATUSES),
        )
    ):
        cancel_request(req)


def create_initial_request(trip: Trip, *, actor: User | None) -> CertificateRequest:
    """The certificate request for a trip that needs an official certificate and has none in
    preparation (the next step "Prepare the certificate request"; an earlier draft may have been
    cancelled). An open request is returned as it is."""
    result = trip_coverage(trip) or {}
    if (
        result.get("certificate_type") not in CERTIFICATE_TYPES
        or result.get("provider_category") != "official"
        or not result.get("legislation_state")
    ):
        raise InputError(
            {
                "kind": _(
                    "This trip needs no request to an authority: see the coverage check's answer."
                )
            }
        )
    existing = open_request(trip)
    if existing is not None:
        return existing
    start, end = certified_period(trip, result)
    return create_certificate_request(
        trip, RequestKind.INITIAL.value, start=start, end=end, actor=actor
    )


def request_derogation(trip: Trip, *, actor: User | None) -> CertificateRequest:
    """An Art 16 request to keep home legislation for the whole posting beyond 24 months."""
    if not derogation_possible(trip):
        raise InputError(
            {
                "kind": _(
                    "An Art 16 derogation is for postings of more than 24 months within the EU, "
                    "EEA and Switzerland."
                )
            }
        )
    existing = open_request(trip, RequestKind.DEROGATION.value)
    if existing is not None:
        return existing
    return create_certificate_request(
        trip, RequestKind.DEROGATION.value, start=trip.start_date, end=trip.end_date, actor=actor
    )


def _current_official(trip: Trip) -> Certificate | None:
    return db.session.scalar(
        select(Certificate)
        .where(
            Certificate.trip_id == trip.id,
            Certificate.kind == CertificateKind.OFFICIAL.value,
            Certificate.status == CertificateStatus.ACTIVE.value,
        )
        .order_by(Certificate.valid_to.desc())
    )


def renewal_due(trip: Trip, today: date) -> Certificate | None:
    """The multi-state A1 to renew: it ends within RENEWAL_NOTICE_DAYS (or the state's lead time,
    if longer) while the work goes on after it."""
    if trip.kind != TripKind.REGULAR_MULTI_STATE.value or trip.status == TripStatus.CANCELLED:
        return None
    current = _current_official(trip)
    if current is None or current.valid_to >= trip.end_date:
        return None
    notice = max(RENEWAL_NOTICE_DAYS, lead_time_days(current.legislation_state))
    return current if current.valid_to - timedelta(days=notice) <= today else None


def request_renewal(trip: Trip, *, actor: User | None, today: date) -> CertificateRequest:
    """The next period of a multi-state A1 (at most the 12 months the assessment looks ahead)."""
    current = renewal_due(trip, today)
    if current is None:
        raise InputError(
            {"kind": _("No multi-state A1 of this trip is close to its end while work goes on.")}
        )
    existing = open_request(trip, RequestKind.RENEWAL.value)
    if existing is not None:
        return existing
    start = current.valid_to + timedelta(days=1)
    end = min(trip.end_date, add_months(start, ASSESSMENT_HORIZON_MONTHS) - timedelta(days=1))
    return create_certificate_request(
        trip, RequestKind.RENEWAL.value, start=start, end=end, actor=actor, previous=current
    )


def open_due_renewals(today: date) -> list[CertificateRequest]:
    """Draft renewal requests for every multi-state trip whose A1 is about to end (cron)."""
    trips = db.session.scalars(
        select(Trip).where(
            Trip.kind == TripKind.REGULAR_MULTI_STATE.value,
            Trip.status != TripStatus.CANCELLED.value,
            Trip.end_date > today,
        )
    )
    created = []
    for trip in trips:
        if renewal_due(trip, today) is not None and open_request(trip) is None:
            created.append(request_renewal(trip, actor=None, today=today))
    return created
