"""Issuing provisional certificates, importing official ones, revoking and superseding.

Every certificate carries a signed QR (the A1W1 format of verifier/) and a typed
verification code. Every issue, import and revocation writes an AuditEvent.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

import verifier
from verifier.ids import crockford_text, crockford_value
from web.audit import record_audit_event
from web.certificates.institutions import OTHER, institutions_by_code, validate_institution
from web.certificates.keys import active_signing_key, check_key_may_sign, private_key_of
from web.extensions import db
from web.models import (
    AuditEvent,
    Certificate,
    CertificateKind,
    CertificateRequest,
    CertificateStatus,
    DocumentType,
    Employee,
    Role,
    Trip,
    User,
    utcnow,
)
from web.validation import InputError, country_field, country_list_field, date_range_fields

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_VALIDITY_DAYS = 5 * 366 + 1


class CertificatePermissionError(PermissionError):
    """The actor may not issue or change certificates for this employee."""


def new_verification_code() -> str:
    """12 Crockford-Base32 characters: 60 random bits, shown as XXXX-XXXX-XXXX."""
    return crockford_text(secrets.randbits(60), 12)


def normalise_verification_code(text: str) -> str | None:
    """The stored form of a typed code (any case, dashes and spaces, O/I/L typed for 0/1/1)."""
    cleaned = "".join(ch for ch in (text or "") if ch not in "- ")
    if len(cleaned) != 12 or not cleaned.isascii():
        return None
    try:
        return crockford_text(crockford_value(cleaned), 12)
    except ValueError:
        return None


@dataclass
class CertificateInput:
    document_type: str
    legislation_state: str
    work_states: list[str]
    valid_from: date
    valid_to: date
    issuing_institution: str | None = None
    authority_reference: str | None = None
    # When the institution is not on the list (web/certificates/institutions.py): why.
    institution_other_justification: str | None = None


def validate_certificate_input(raw: dict[str, Any], *, official: bool) -> CertificateInput:
    """Check the fields of a certificate (form, CLI and services share this)."""
    errors: dict[str, str] = {}
    document_type = (raw.get("document_type") or "").strip()
    if document_type.upper() == "COC":
        document_type = DocumentType.COC.value
    if document_type not in (DocumentType.A1.value, DocumentType.COC.value):
        errors["document_type"] = _("must be A1 or CoC")
    legislation = country_field(raw.get("legislation_state"), errors, "legislation_state")
    states = country_list_field(raw.get("work_states"), errors, "work_states")
    if not states and "work_states" not in errors:
        errors["work_states"] = _("name at least one country of work")
    valid_from, valid_to = date_range_fields(
        raw,
        errors,
        "valid_from",
        "valid_to",
        max_days=MAX_VALIDITY_DAYS,
        too_long=_("makes the certificate longer than five years"),
    )
    reference = " ".join(str(raw.get("authority_reference") or "").split()) or None
    if reference and len(reference) > 120:
        errors["authority_reference"] = _("is longer than %(n)d characters", n=120)
    institution = None
    if official:
        if not str(raw.get("issuing_institution") or "").strip():
            errors["issuing_institution"] = _("is required for an official certificate")
        else:
            try:
                institution = validate_institution(
                    raw.get("issuing_institution"),
                    raw.get("institution_other"),
                    raw.get("institution_other_justification"),
                    state=legislation or None,
                )
            except InputError as exc:
                errors.update(exc.errors)
    if errors:
        raise InputError(errors)
    assert valid_from is not None and valid_to is not None
    return CertificateInput(
        document_type,
        legislation,
        states,
        valid_from,
        valid_to,
        institution.value if institution else None,
        reference,
        institution.justification if institution else None,
    )


def _check_may_manage(actor: User | None, employee: Employee) -> None:
    """Only operators and the employer admins of the employee's own company."""
    if actor is None:
        return  # the operator command line, run on the server
    role = actor.role_enum
    if role is Role.OPERATOR:
        return
    if role is Role.EMPLOYER_ADMIN and actor.company_id == employee.company_id:
        return
    raise CertificatePermissionError("not allowed to manage this employee's certificates")


def _check_issue_rate(actor: User | None) -> None:
    """A stolen admin account must not mint certificates in bulk (the 2021 DCC lesson)."""
    if actor is None:
        return
    limit = current_app.config["PROVISIONAL_ISSUE_LIMIT_PER_HOUR"]
    since = utcnow() - timedelta(hours=1)
    issued = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.actor_id == actor.id,
            AuditEvent.action == "certificate.issued",
            AuditEvent.at >= since,
        )
    )
    if issued >= limit:
        record_audit_event(
            "certificate.issue_throttled",
            outcome="denied",
            actor_id=actor.id,
            actor_role=actor.role,
            company_id=actor.company_id,
        )
        db.session.commit()  # the denial is kept even though the caller rolls back
        raise InputError(
            {"rate": _("Too many certificates issued in the last hour. Try again later.")}
        )


def claims_for(certificate: Certificate) -> verifier.CertificateClaims:
    employee = certificate.employee
    return verifier.CertificateClaims(
        certificate_id=verifier.parse_certificate_id(certificate.id),
        document_type=certificate.document_type,
        kind=certificate.kind,
        legislation_state=certificate.legislation_state,
        work_states=tuple(certificate.work_state_list),
        family_name=employee.family_name,
        given_names=employee.given_names,
        family_name_ascii=employee.family_name_ascii,
        given_names_ascii=employee.given_names_ascii,
        birth_date=employee.birth_date,
        valid_from=certificate.valid_from,
        valid_to=certificate.valid_to,
        issuer=current_app.config["PROVIDER_ID"],
        issuing_institution=certificate.issuing_institution,
    )


def sign_certificate(certificate: Certificate) -> None:
    """Sign the certificate's claims with the active key of its kind's class and keep the QR
    text. The key that signs provisional statements never signs an official record."""
    claims = claims_for(certificate)
    key = active_signing_key(claims.kind)
    check_key_may_sign(key, claims.kind)
    cose = verifier.sign_certificate(claims, private_key_of(key))
    certificate.qr_text = verifier.qr_text(cose, current_app.config["PUBLIC_BASE_URL"])
    certificate.signing_kid = key.kid


def resign_certificates(kid: str, *, today: date, actor: User | None = None) -> list[Certificate]:
    """After a key compromise: sign again, with the active key of its class, every certificate in
    use that ``kid`` signed (not withdrawn, not waiting for review, not yet ended). Same
    certificate, same claims, a new signature; the old QR stays void with the revoked key, the
    wallet shows the new one when next online. The operator's page and `keys resign` both call
    this; ``actor`` None is the command line."""
    from web.certificates.keys import SigningKeyError, get_key

    key = get_key(kid)
    if key.active_marker is not None:
        raise SigningKeyError(
            _(
                "Key %(kid)s is the key that signs: revoke it or rotate first, then re-sign.",
                kid=key.kid,
            )
        )
    certificates = list(
        db.session.scalars(
            select(Certificate)
            .where(
                Certificate.signing_kid == key.kid,
                Certificate.status.not_in(
                    (
                        CertificateStatus.WITHDRAWN.value,
                        CertificateStatus.PENDING_REVIEW.value,
                        CertificateStatus.REJECTED.value,
                    )
                ),
                Certificate.valid_to >= today,
            )
            .order_by(Certificate.id)
        )
    )
    for certificate in certificates:
        sign_certificate(certificate)
        _audit("certificate.resigned", certificate, actor, f"was signed by {key.kid}")
    signing_kids = sorted({c.signing_kid for c in certificates if c.signing_kid})
    record_audit_event(
        "key.resigned",
        object_type="signing_key",
        object_id=key.kid,
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else "cli",
        message=f"{len(certificates)} certificates signed again"
        + (f" by {', '.join(signing_kids)}" if signing_kids else ""),
    )
    return certificates


def _new_certificate(
    employee: Employee,
    trip: Trip | None,
    data: CertificateInput,
    kind: str,
    actor: User | None,
    *,
    status: str = CertificateStatus.ACTIVE.value,
) -> Certificate:
    if trip is not None and trip.employee_id != employee.id:
        raise InputError({"trip": _("This trip belongs to another employee.")})
    certificate = Certificate(
        id=verifier.certificate_id_text(secrets.token_bytes(10)),
        company_id=employee.company_id,
        employee=employee,
        trip=trip,
        document_type=data.document_type,
        kind=kind,
        legislation_state=data.legislation_state,
        work_states=",".join(data.work_states),
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        issuing_institution=data.issuing_institution,
        authority_reference=data.authority_reference,
        institution_other_justification=data.institution_other_justification,
        status=status,
        verification_code=new_verification_code(),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(certificate)
    try:
        if status == CertificateStatus.ACTIVE.value:
            sign_certificate(certificate)  # refuses claims the QR format cannot carry
        else:
            # Signed only once confirmed, but refused now if the QR format could not carry it.
            verifier.validate_claims(claims_for(certificate))
    except ValueError as exc:
        db.session.expunge(certificate)
        raise InputError({"certificate": str(exc)}) from None
    return certificate


def _flush_unique(certificate: Certificate) -> None:
    """Flush; on the (2^-60) chance of a duplicate verification code, draw another."""
    for _attempt in range(3):
        savepoint = db.session.begin_nested()
        try:
            db.session.flush()
            savepoint.commit()
            return
        except IntegrityError:
            savepoint.rollback()
            certificate.verification_code = new_verification_code()
            db.session.add(certificate)
    raise RuntimeError("could not draw a unique verification code")


def _audit(action: str, certificate: Certificate, actor: User | None, message: str = "") -> None:
    """An AuditEvent about a certificate; ``actor`` None is the operator command line."""
    record_audit_event(
        action,
        object_type="certificate",
        object_id=certificate.id,
        company_id=certificate.company_id,
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else "cli",
        message=message,
    )


def _audit_issue(action: str, certificate: Certificate, actor: User | None) -> None:
    c = certificate
    _audit(action, c, actor, f"{c.document_type} {c.kind} {c.legislation_state}")
    if c.valid_from < utcnow().date():
        # Back-dating is allowed (the trip may have started) but always visible in the audit.
        _audit("certificate.backdated", c, actor, f"valid from {c.valid_from.isoformat()}")


def _check_may_supersede(old: Certificate, employee: Employee) -> None:
    if old.employee_id != employee.id:
        raise InputError(
            {"supersedes": _("The certificate to replace belongs to another employee.")}
        )


def _supersede(old: Certificate | None, new: Certificate, actor: User | None) -> None:
    if old is None:
        return
    if old.employee_id != new.employee_id:
        raise InputError(
            {"supersedes": _("The certificate to replace belongs to another employee.")}
        )
    if old.status != CertificateStatus.ACTIVE.value:
        raise InputError({"supersedes": _("Only a current certificate can be replaced.")})
    old.status = CertificateStatus.SUPERSEDED.value
    old.superseded_by_id = new.id
    _audit("certificate.superseded", old, actor, f"by {new.id}")


def issue_provisional_certificate(
    employee: Employee,
    data: CertificateInput,
    *,
    actor: User | None,
    trip: Trip | None = None,
    supersedes: Certificate | None = None,
    idempotency_key: str | None = None,
) -> Certificate:
    """A provisional A1/CoC signed by the provider, for an employee (and trip).

    Only operators and the employee's own employer admins; rate limited per actor. With an
    ``idempotency_key`` (a UUID, unique per company) a replayed request returns the certificate
    already issued for that key, also when two requests race: the loser's IntegrityError rolls
    the session back and it returns the winner's certificate. A key used for a different
    certificate (another employee, trip or content) is refused.
    """
    import uuid

    def already_issued() -> Certificate | None:
        existing = db.session.scalar(
            select(Certificate).where(
                Certificate.company_id == employee.company_id,
                Certificate.idempotency_key == key,
            )
        )
        if existing is None:
            return None
        same = (
            existing.employee_id == employee.id
            and existing.trip_id == (trip.id if trip is not None else None)
            and existing.kind == CertificateKind.PROVISIONAL.value
            and existing.document_type == data.document_type
            and existing.legislation_state == data.legislation_state
            and existing.work_state_list == list(data.work_states)
            and (existing.valid_from, existing.valid_to) == (data.valid_from, data.valid_to)
        )
        if not same:
            raise InputError(
                {
                    "idempotency": _(
                        "This form was already used to issue another certificate. "
                        "Open the form again to issue a new one."
                    )
                }
            )
        return existing

    _check_may_manage(actor, employee)
    key = None
    if idempotency_key is not None and idempotency_key.strip():
        try:
            key = str(uuid.UUID(idempotency_key.strip()))
        except ValueError:
            raise InputError({"idempotency": _("The idempotency key must be a UUID.")}) from None
        existing = already_issued()
        if existing is not None:
            return existing  # a replay: no second certificate, no second audit event
    _check_issue_rate(actor)
    with db.session.no_autoflush:  # the row is inserted with its key, below
        certificate = _new_certificate(
            employee, trip, data, CertificateKind.PROVISIONAL.value, actor
        )
        certificate.idempotency_key = key
    if key is not None:
        try:
            db.session.flush()
        except IntegrityError:
            # Most likely the same key issued at this moment by a concurrent request, which won
            # (PostgreSQL makes the second insert wait for the first to commit or roll back).
            db.session.rollback()  # nothing of this attempt may be written
            existing = already_issued()
            if existing is None:
                raise  # not the key (a 2^-60 verification-code clash): let the caller retry
            return existing
    _flush_unique(certificate)
    _supersede(supersedes, certificate, actor)
    _audit_issue("certificate.issued", certificate, actor)
    return certificate


def extend_certificate(old: Certificate, new_valid_to: date, *, actor: User | None) -> Certificate:
    """Extension of a provisional certificate: a new one for the longer period supersedes it."""
    if old.kind != CertificateKind.PROVISIONAL.value:
        raise InputError(
            {
                "kind": _(
                    "An official certificate is extended by importing the authority's new document."
                )
            }
        )
    data = CertificateInput(
        old.document_type, old.legislation_state, old.work_state_list, old.valid_from, new_valid_to
    )
    if new_valid_to <= old.valid_to:
        raise InputError({"valid_to": _("must be after the current end date")})
    return issue_provisional_certificate(
        old.employee, data, actor=actor, trip=old.trip, supersedes=old
    )


# The employee fields a certificate's QR carries: a change to any of them re-issues it.
SIGNED_IDENTITY_FIELDS = (
    "family_name",
    "given_names",
    "family_name_ascii",
    "given_names_ascii",
    "birth_date",
)


def reissue_for_identity_change(
    employee: Employee, *, actor: User | None, today: date
) -> tuple[list[Certificate], list[Certificate]]:
    """After the employee's signed identity changed: every current provisional certificate is
    re-issued with the new identity and supersedes the old one (which then answers
    "superseded"). Official ones keep the identity printed on the authority's document.

    Returns (the new provisional certificates, the official certificates left as they are).
    """
    current = [
        c
        for c in db.session.scalars(
            select(Certificate).where(
                Certificate.employee_id == employee.id,
                Certificate.status == CertificateStatus.ACTIVE.value,
                Certificate.valid_to >= today,
            )
        )
        if c.qr_text  # never signed (e.g. waiting for review): nothing carries the old identity
    ]
    reissued: list[Certificate] = []
    for old in (c for c in current if c.kind == CertificateKind.PROVISIONAL.value):
        data = CertificateInput(
            old.document_type,
            old.legislation_state,
            old.work_state_list,
            old.valid_from,
            old.valid_to,
        )
        new = _new_certificate(employee, old.trip, data, CertificateKind.PROVISIONAL.value, actor)
        _flush_unique(new)
        _supersede(old, new, actor)
        _audit("certificate.reissued", new, actor, f"identity changed; replaces {old.id}")
        # A request filed for the meantime follows the new certificate (its refusal withdraws
        # it, the authority's document supersedes it).
        for column in ("provisional_certificate_id", "previous_certificate_id"):
            db.session.execute(
                update(CertificateRequest)
                .where(getattr(CertificateRequest, column) == old.id)
                .values({column: new.id})
            )
        reissued.append(new)
    official = [c for c in current if c.kind == CertificateKind.OFFICIAL.value]
    return reissued, official


class DocumentRefused(InputError):
    """The uploaded file is not accepted as the authority's PDF (too large, not a PDF)."""

    def __init__(self, message: str, *, reason: str, too_large: bool = False) -> None:
        super().__init__({"document": message})
        self.reason = reason  # for the audit trail: no content, no file name
        self.too_large = too_large


def check_pdf(content: bytes) -> int:
    """A well-formed, unencrypted PDF of at least one page, at most 10 MB, as pypdf parses it
    (a magic-bytes check lets anything through). Returns the page count."""
    from pypdf import PdfReader

    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(
            _("The authority's document is larger than 10 MB."), reason="too_large", too_large=True
        )
    not_a_pdf = _("The authority's document is not a readable PDF file.")
    if not content.startswith(b"%PDF-"):
        raise DocumentRefused(not_a_pdf, reason="not_pdf")
    try:
        # Not strict: authorities' PDFs often carry a wrong xref offset that pypdf repairs;
        # what it cannot parse (no trailer, no page tree, broken objects) is refused.
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise DocumentRefused(
                _("The authority's document is encrypted: upload a copy without a password."),
                reason="encrypted",
            )
        pages = len(reader.pages)
        for page in reader.pages:
            page.mediabox  # noqa: B018 - parses every page object, not just the count
    except DocumentRefused:
        raise
    except Exception:  # pypdf raises many kinds of errors on broken files
        raise DocumentRefused(not_a_pdf, reason="malformed") from None
    if pages < 1:
        raise DocumentRefused(_("The authority's document has no page."), reason="no_page")
    return pages


def check_document_upload(content: bytes, *, actor: User | None, employee: Employee) -> int:
    """check_pdf, writing one audit event for a refused file (the caller rolls back the rest,
    so the event is committed here, like the issue throttle's)."""
    try:
        return check_pdf(content)
    except DocumentRefused as exc:
        db.session.rollback()
        record_audit_event(
            "certificate.document_refused",
            outcome="denied",
            object_type="employee",
            object_id=employee.id,
            company_id=employee.company_id,
            actor_id=actor.id if actor else None,
            actor_role=actor.role if actor else "cli",
            message=exc.reason,
        )
        db.session.commit()
        raise


def documents_root() -> Path:
    return Path(current_app.config["DOCUMENTS_PATH"])


def import_official_certificate(
    employee: Employee,
    data: CertificateInput,
    *,
    actor: User | None,
    document: bytes | None,
    filename: str = "",
    trip: Trip | None = None,
    supersedes: Certificate | None = None,
) -> Certificate:
    """Record the authority's A1/CoC: its metadata, and its PDF kept outside static/.

    It waits for the provider's review (``pending_review``): unsigned, in no QR, answered by no
    verification page, covering no trip, until a reviewer other than its recorder confirms it
    (web/certificates/review.py); that also replaces ``supersedes``. The PDF is checked before
    anything is stored.
    """
    _check_may_manage(actor, employee)
    _check_institution(data)
    if document is not None:
        check_document_upload(document, actor=actor, employee=employee)
    if supersedes is not None:
        _check_may_supersede(supersedes, employee)
    certificate = _new_certificate(
        employee,
        trip,
        data,
        CertificateKind.OFFICIAL.value,
        actor,
        status=CertificateStatus.PENDING_REVIEW.value,
    )
    certificate.supersedes_id = supersedes.id if supersedes is not None else None
    if document is not None:
        digest = hashlib.sha256(document).hexdigest()
        relative = Path(str(employee.company_id)) / f"{certificate.id}-{digest[:16]}.pdf"
        target = documents_root() / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(document)
        tmp.replace(target)  # never a half-written file under the final name
        certificate.document_path = str(relative)
        certificate.document_sha256 = digest
        certificate.document_filename = Path(filename or "certificate.pdf").name[:255]
    _flush_unique(certificate)
    _audit_issue("certificate.imported", certificate, actor)
    return certificate


def _check_institution(data: CertificateInput) -> None:
    """Every way in (form, filing, demo) names a listed institution, or justifies another."""
    if not data.issuing_institution:
        raise InputError({"issuing_institution": _("is required for an official certificate")})
    if data.issuing_institution in institutions_by_code():
        validate_institution(data.issuing_institution, None, None, state=data.legislation_state)
    else:
        validate_institution(
            OTHER,
            data.issuing_institution,
            data.institution_other_justification,
            state=data.legislation_state,
        )


def revoke_certificate(certificate: Certificate, reason: str, *, actor: User | None) -> Certificate:
    """Withdraw a certificate: from now on it is in revoked.json and verifies as withdrawn."""
    if actor is not None:
        _check_may_manage(actor, certificate.employee)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InputError({"reason": _("Give the reason for the withdrawal.")})
    if certificate.status == CertificateStatus.WITHDRAWN.value:
        return certificate
    certificate.status = CertificateStatus.WITHDRAWN.value
    certificate.withdrawn_at = datetime.now(UTC)
    certificate.withdrawal_reason = reason[:500]
    _audit("certificate.withdrawn", certificate, actor)
    return certificate


def document_file(certificate: Certificate) -> Path | None:
    if not certificate.document_path:
        return None
    path = (documents_root() / certificate.document_path).resolve()
    if documents_root().resolve() not in path.parents:
        return None
    return path if path.is_file() else None


# --- which certificate covers what ---------------------------------------------------------------


PROVING_STATUSES = frozenset({CertificateStatus.ACTIVE.value, CertificateStatus.SUPERSEDED.value})


def is_in_force(certificate: Certificate) -> bool:
    """Signed and not withdrawn (an official one waiting for review, or rejected, proves
    nothing). A superseded certificate still proves coverage for its own dates."""
    return certificate.status in PROVING_STATUSES


def covers(certificate: Certificate, state: str, first_day: date, last_day: date) -> bool:
    """True when the certificate is in force for work in ``state`` on every day of the period."""
    return (
        is_in_force(certificate)
        and state in certificate.work_state_list
        and certificate.valid_from <= first_day
        and certificate.valid_to >= last_day
    )


def _preference(certificate: Certificate) -> tuple[int, int, date]:
    # Official before provisional; the current version before a superseded one; the longest.
    return (
        certificate.kind == CertificateKind.OFFICIAL.value,
        certificate.status == CertificateStatus.ACTIVE.value,
        certificate.valid_to,
    )


def certificate_covering_trip(trip: Trip, certificates: list[Certificate]) -> Certificate | None:
    """The best certificate that covers the trip's destination on all of its dates."""
    fitting = [
        c for c in certificates if covers(c, trip.destination_state, trip.start_date, trip.end_date)
    ]
    return max(fitting, key=_preference, default=None)


def best_certificate_for(
    certificates: list[Certificate], state: str, day: date
) -> Certificate | None:
    """The certificate to show for work in ``state`` on ``day`` (official before provisional)."""
    fitting = [c for c in certificates if covers(c, state, day, day)]
    return max(fitting, key=_preference, default=None)
