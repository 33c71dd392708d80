"""What the public verification page answers: the signature (verifier/) and then the live
status of the certificate in the register (withdrawn? replaced?). DESIGN §5."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

import verifier
from web.certificates.services import normalise_verification_code
from web.extensions import db
from web.models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    Employee,
    KeyState,
    SigningKey,
)

# The six answers an inspector can get, in words, colour and icon (templates/verify/).
VALID_OFFICIAL = "valid_official"
VALID_PROVISIONAL = "valid_provisional"
NOT_YET_VALID = "not_yet_valid"
EXPIRED = "expired"
WITHDRAWN = "withdrawn"
NOT_GENUINE = "not_genuine"
ANSWERS = (VALID_OFFICIAL, VALID_PROVISIONAL, NOT_YET_VALID, EXPIRED, WITHDRAWN, NOT_GENUINE)


@dataclass(frozen=True)
class HolderDetails:
    """Only what an inspector needs to match the holder's ID and read the coverage."""

    family_name: str
    given_names: str
    family_name_ascii: str | None
    given_names_ascii: str | None
    birth_date: date
    legislation_state: str
    work_states: tuple[str, ...]
    valid_from: date
    valid_to: date
    document_type: str
    kind: str
    issuing_institution: str | None
    authority_reference: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "family_name": self.family_name,
            "given_names": self.given_names,
            "family_name_ascii": self.family_name_ascii,
            "given_names_ascii": self.given_names_ascii,
            "birth_date": self.birth_date.isoformat(),
            "legislation_state": self.legislation_state,
            "work_states": list(self.work_states),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "document_type": self.document_type,
            "kind": self.kind,
            "issuing_institution": self.issuing_institution,
            "authority_reference": self.authority_reference,
        }


@dataclass(frozen=True)
class InspectorAnswer:
    state: str  # one of ANSWERS
    checked_at: datetime
    details: HolderDetails | None = None  # never for "not genuine"
    superseded: bool = False  # a newer certificate replaces this one
    reason: str = ""  # the verifier's status behind the answer, for the JSON API
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return self.state in (VALID_OFFICIAL, VALID_PROVISIONAL)


class _ServerKeys:
    """Public keys for server-side checks, parsed once per kid; the key table is re-read each
    time (it is tiny), so a revocation takes effect on the very next request in every worker."""

    def __init__(self) -> None:
        self._parsed: dict[str, object] = {}
        self._lock = threading.Lock()

    def current(self) -> tuple[verifier.KeySet, verifier.RevocationSet]:
        rows = db.session.execute(
            select(SigningKey.kid, SigningKey.state, SigningKey.public_key_der)
        ).all()
        keys = {}
        revoked = []
        for kid, state, der in rows:
            if state == KeyState.REVOKED.value:
                revoked.append(kid)
                continue
            with self._lock:
                public_key = self._parsed.get(kid)
                if public_key is None:
                    public_key = serialization.load_der_public_key(der)
                    self._parsed[kid] = public_key
            keys[bytes.fromhex(kid)] = public_key
        return verifier.KeySet(keys), verifier.RevocationSet(frozenset(), frozenset(revoked))


_server_keys = _ServerKeys()


def _state_from_dates(kind: str, valid_from: date, valid_to: date, now: datetime) -> str:
    if now < verifier.not_before(valid_from) - verifier.CLOCK_SKEW:
        return NOT_YET_VALID
    if now > verifier.expires_at(valid_to) + verifier.CLOCK_SKEW:
        return EXPIRED
    return VALID_OFFICIAL if kind == CertificateKind.OFFICIAL.value else VALID_PROVISIONAL


def holder_details(certificate: Certificate) -> HolderDetails:
    employee: Employee = certificate.employee
    return HolderDetails(
        family_name=employee.family_name,
        given_names=employee.given_names,
        family_name_ascii=employee.family_name_ascii,
        given_names_ascii=employee.given_names_ascii,
        birth_date=employee.birth_date,
        legislation_state=certificate.legislation_state,
        work_states=tuple(certificate.work_state_list),
        valid_from=certificate.valid_from,
        valid_to=certificate.valid_to,
        document_type=certificate.document_type,
        kind=certificate.kind,
        issuing_institution=certificate.issuing_institution,
        authority_reference=certificate.authority_reference,
    )


def _details_from_claims(
    claims: verifier.CertificateClaims, authority_reference: str | None
) -> HolderDetails:
    # What was signed is what the inspector reads; the register adds only the reference.
    return HolderDetails(
        family_name=claims.family_name,
        given_names=claims.given_names,
        family_name_ascii=claims.family_name_ascii,
        given_names_ascii=claims.given_names_ascii,
        birth_date=claims.birth_date,
        legislation_state=claims.legislation_state,
        work_states=claims.work_states,
        valid_from=claims.valid_from,
        valid_to=claims.valid_to,
        document_type=claims.document_type,
        kind=claims.kind,
        issuing_institution=claims.issuing_institution,
        authority_reference=authority_reference,
    )


def _answer_for_register(
    status: str, details: HolderDetails, now: datetime, reason: str
) -> InspectorAnswer:
    if status == CertificateStatus.WITHDRAWN.value:
        return InspectorAnswer(WITHDRAWN, now, details, reason="revoked")
    state = _state_from_dates(details.kind, details.valid_from, details.valid_to, now)
    superseded = status == CertificateStatus.SUPERSEDED.value
    return InspectorAnswer(state, now, details, superseded=superseded, reason=reason)


def verify_for_inspector(text: str, now: datetime | None = None) -> InspectorAnswer:
    """The answer for a scanned QR text: signature first, then the register's live status."""
    now = now or datetime.now(UTC)
    keys, revoked_keys = _server_keys.current()
    result = verifier.verify_qr_text(text, keys, revoked_keys, now)
    if result.claims is None:
        # Malformed, unknown or revoked key, bad signature: nothing in it can be trusted.
        return InspectorAnswer(NOT_GENUINE, now, reason=result.status)
    # The details come from the signed claims; the register adds only the live status and the
    # authority's reference (two columns: this is the busiest public query).
    register = db.session.execute(
        select(Certificate.status, Certificate.authority_reference).where(
            Certificate.id == verifier.certificate_id_text(result.claims.certificate_id)
        )
    ).first()
    if register is None:
        # Signed by our key but absent from the register: cannot be confirmed, so not genuine.
        return InspectorAnswer(NOT_GENUINE, now, reason="not_in_register")
    details = _details_from_claims(result.claims, register.authority_reference)
    return _answer_for_register(register.status, details, now, result.status)


def lookup_by_code(
    code: str, birth_date: date | None, now: datetime | None = None
) -> InspectorAnswer | None:
    """The typed lookup: verification code plus the holder's birth date, both must match.

    None for any mismatch, so a wrong guess tells nothing about which half was wrong.
    """
    now = now or datetime.now(UTC)
    normalised = normalise_verification_code(code)
    if normalised is None or birth_date is None:
        return None
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.verification_code == normalised)
    )
    if certificate is None or certificate.employee.birth_date != birth_date:
        return None
    return _answer_for_register(certificate.status, holder_details(certificate), now, "code_lookup")
