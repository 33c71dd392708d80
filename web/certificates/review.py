"""The provider's review of official certificates (four eyes).

An official certificate recorded by a customer waits as ``pending_review``: unsigned, in no QR,
answered by no verification page. A reviewer — an operator, or a support agent an operator gave
the right — checks the authority's PDF against the fields, may correct them, and confirms
(only then is it signed and valid) or rejects it with a reason (kept, with its PDF). Whoever
recorded a certificate can never confirm it. The one exception: an operator who records the
authority's document in the filing workflow confirms it as they record it, and is recorded as
its reviewer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from web.audit import record_audit_event
from web.certificates.services import (
    _audit,
    _supersede,
    sign_certificate,
    validate_certificate_input,
)
from web.extensions import db
from web.models import Certificate, CertificateStatus, Role, User, utcnow
from web.validation import InputError

MAX_REASON_LENGTH = 500
REVIEWED_FIELDS = (
    "document_type",
    "legislation_state",
    "work_states",
    "valid_from",
    "valid_to",
    "issuing_institution",
    "authority_reference",
    "institution_other_justification",
)


class ReviewPermissionError(PermissionError):
    """The actor may not review this certificate (no right, or they recorded it)."""


def may_review_certificates(user: User | None) -> bool:
    """Operators always; support agents when an operator gave them the right."""
    if user is None or not user.active:
        return False
    role = user.role_enum
    return role is Role.OPERATOR or (role is Role.SUPPORT and bool(user.can_review_certificates))


def review_queue() -> list[Certificate]:
    """Every certificate waiting for review, oldest first (across all tenants)."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.status == CertificateStatus.PENDING_REVIEW.value)
            .order_by(Certificate.created_at, Certificate.id)
        )
    )


def review_queue_size() -> int:
    """How many certificates wait for review (the operator's trust pages show it)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Certificate)
        .where(Certificate.status == CertificateStatus.PENDING_REVIEW.value)
    )


def recently_reviewed(limit: int = 20) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.reviewed_at.is_not(None))
            .order_by(Certificate.reviewed_at.desc())
            .limit(limit)
        )
    )


def _refuse(certificate: Certificate, reviewer: User, why: str) -> None:
    # Committed at once: the caller rolls back, the refusal stays in the audit trail.
    db.session.rollback()
    record_audit_event(
        "certificate.review_refused",
        outcome="denied",
        object_type="certificate",
        object_id=certificate.id,
        company_id=certificate.company_id,
        actor_id=reviewer.id,
        actor_role=reviewer.role,
        message=why,
    )
    db.session.commit()
    raise ReviewPermissionError(why)


def check_may_review(certificate: Certificate, reviewer: User) -> None:
    """The right to review, and four eyes: never the person who recorded the certificate."""
    if not may_review_certificates(reviewer):
        _refuse(certificate, reviewer, "no review right")
    if certificate.created_by_id is not None and certificate.created_by_id == reviewer.id:
        _refuse(certificate, reviewer, "four eyes: the recorder cannot review")


def _require_pending(certificate: Certificate) -> None:
    if certificate.status != CertificateStatus.PENDING_REVIEW.value:
        raise InputError({"status": _("This certificate is not waiting for review any more.")})


def _apply_corrections(certificate: Certificate, raw: dict[str, Any]) -> list[str]:
    """Validate the reviewer's fields as a new official record would be; returns the names of
    the fields that changed."""
    data = validate_certificate_input(raw, official=True)
    new = {
        "document_type": data.document_type,
        "legislation_state": data.legislation_state,
        "work_states": ",".join(data.work_states),
        "valid_from": data.valid_from,
        "valid_to": data.valid_to,
        "issuing_institution": data.issuing_institution,
        "authority_reference": data.authority_reference,
        "institution_other_justification": data.institution_other_justification,
    }
    changed = [name for name in REVIEWED_FIELDS if getattr(certificate, name) != new[name]]
    for name in changed:
        setattr(certificate, name, new[name])
    return changed


def _confirm(certificate: Certificate, reviewer: User, note: str, changed: list[str]) -> None:
    certificate.status = CertificateStatus.ACTIVE.value
    certificate.reviewed_by_id = reviewer.id
    certificate.reviewed_at = utcnow()
    certificate.review_note = note[:MAX_REASON_LENGTH] or None
    try:
        sign_certificate(certificate)
    except ValueError as exc:  # claims the QR format cannot carry
        raise InputError({"certificate": str(exc)}) from None
    replaced = (
        db.session.get(Certificate, certificate.supersedes_id)
        if certificate.supersedes_id
        else None
    )
    if replaced is not None and replaced.status == CertificateStatus.ACTIVE.value:
        _supersede(replaced, certificate, reviewer)
    message = "corrected: " + ", ".join(changed) if changed else ""
    _audit("certificate.confirmed", certificate, reviewer, message)


def confirm_official_certificate(
    certificate: Certificate,
    *,
    reviewer: User,
    corrections: dict[str, Any] | None = None,
    note: str = "",
) -> Certificate:
    """The reviewer checked the PDF: apply their corrections, sign, and replace what it
    supersedes. Raises ReviewPermissionError (audited) or InputError."""
    check_may_review(certificate, reviewer)
    _require_pending(certificate)
    changed = _apply_corrections(certificate, corrections) if corrections is not None else []
    _confirm(certificate, reviewer, " ".join((note or "").split()), changed)
    return certificate


def confirm_as_recorded_by_operator(certificate: Certificate, operator: User) -> Certificate:
    """The filing workflow, when a provider operator records the authority's document: the
    operator's recording is the provider's check, confirmed at once in their name."""
    if operator.role_enum is not Role.OPERATOR or not operator.active:
        raise ReviewPermissionError("only an operator confirms while recording")
    _require_pending(certificate)
    _confirm(certificate, operator, "recorded and confirmed by a provider operator", [])
    return certificate


def reject_official_certificate(
    certificate: Certificate, reason: str, *, reviewer: User
) -> Certificate:
    """The PDF does not support the record: keep both, with the reason the admin and the
    employee read ("Rejected: …"). Nothing is signed."""
    check_may_review(certificate, reviewer)
    _require_pending(certificate)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InputError({"reason": _("Give the reason for the rejection.")})
    if len(reason) > MAX_REASON_LENGTH:
        raise InputError({"reason": _("is longer than %(n)d characters", n=MAX_REASON_LENGTH)})
    certificate.status = CertificateStatus.REJECTED.value
    certificate.rejection_reason = reason
    certificate.reviewed_by_id = reviewer.id
    certificate.reviewed_at = utcnow()
    _audit("certificate.rejected", certificate, reviewer)
    return certificate


def set_review_right(user: User, allowed: bool, *, actor: User | None) -> User:
    """An operator gives (or takes back) a support agent's right to review certificates."""
    if user.role_enum is not Role.SUPPORT:
        raise InputError(
            {"role": _("Only support agents get this right; operators always have it.")}
        )
    if bool(user.can_review_certificates) != allowed:
        user.can_review_certificates = allowed
        record_audit_event(
            "user.review_right_granted" if allowed else "user.review_right_revoked",
            object_type="user",
            object_id=user.id,
            actor_id=actor.id if actor else None,
            actor_role=actor.role if actor else "cli",
        )
    return user


@dataclass(frozen=True)
class DocumentPreview:
    """What the review page says of the authority's PDF beside the fields. The PDF itself is
    only ever a download: the page draws its pages with pdf.js from the same bytes, and keeps
    the text pypdf reads for a browser without JavaScript or a file pdf.js cannot draw."""

    pages: int
    size: int
    text: str
    truncated: bool


PREVIEW_PAGES = 3
# Pages the review page draws at most: a 1000-page file must not exhaust the reviewer's browser.
DRAWN_PAGES = 20
PREVIEW_CHARS = 6000


def document_preview(certificate: Certificate) -> DocumentPreview | None:
    from pypdf import PdfReader

    from web.certificates.services import document_file

    path = document_file(certificate)
    if path is None:
        return None
    content = path.read_bytes()
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        parts = [page.extract_text() or "" for page in reader.pages[:PREVIEW_PAGES]]
        pages = len(reader.pages)
    except Exception:  # checked at upload; a file changed on disk since shows no text
        return DocumentPreview(0, len(content), "", False)
    text = "\n\n".join(p.strip() for p in parts).strip()
    truncated = pages > PREVIEW_PAGES or len(text) > PREVIEW_CHARS
    return DocumentPreview(pages, len(content), text[:PREVIEW_CHARS], truncated)
