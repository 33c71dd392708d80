"""What the public verification page answers: the signature (verifier/) and then the live
status of the certificate in the register (withdrawn? replaced?). docs/design.md §4."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives import serialization
from flask_babel import format_date, format_time
from sqlalchemy import bindparam, select

import verifier
from verifier.claims import decode_payload
from verifier.cose import parse_qr_text
from web.certificates.institutions import institution_name, institutions_by_code
from web.certificates.services import PROVING_STATUSES, normalise_verification_code
from web.certificates.titles import DocumentTitle, document_title
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
SUPERSEDED = "superseded"  # genuine, but a newer certificate replaces it: never "valid"
NOT_GENUINE = "not_genuine"  # in our format, but its signature or key fails: a forgery
NOT_READABLE = "not_readable"  # not an A1 Wallet code at all, or damaged: scan again or type it
ANSWERS = (
    VALID_OFFICIAL,
    VALID_PROVISIONAL,
    NOT_YET_VALID,
    EXPIRED,
    WITHDRAWN,
    SUPERSEDED,
    NOT_GENUINE,
    NOT_READABLE,
)
# The verifier's statuses for a text it could not decode: nothing says it is a forgery (a blurry
# photo, another app's QR code), so the inspector is told to try again, never "not genuine".
UNREADABLE_STATUSES = frozenset({"malformed"})


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
    # When the provider's reviewer confirmed an official certificate (the public wording).
    confirmed_on: date | None = None

    @property
    def issuing_institution_name(self) -> str | None:
        return institution_name(self.issuing_institution)

    @property
    def issuing_institution_code(self) -> str | None:
        """The listed code ("DE:DRV-BUND"), printed small beside the name; None for a name typed
        under "other", which has no code."""
        value = self.issuing_institution
        return value if value and institution_name(value) != value else None

    @property
    def title(self) -> DocumentTitle:
        return document_title(self)  # type: ignore[arg-type]  # reads only kind, document_type

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
            "confirmed_on": self.confirmed_on.isoformat() if self.confirmed_on else None,
        }


@dataclass(frozen=True)
class InspectorAnswer:
    state: str  # one of ANSWERS
    checked_at: datetime
    details: HolderDetails | None = None  # never for "not genuine" or "not readable"
    superseded: bool = False  # a newer certificate replaces this one
    reason: str = ""  # the verifier's status behind the answer, for the JSON API
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return self.state in (VALID_OFFICIAL, VALID_PROVISIONAL)


class _ServerKeys:
    """Public keys for server-side checks, with their document classes (the same rule as the
    published trust list: a key vouches only for its own kind), parsed once per kid; the key
    table is re-read each time (it is tiny), so a revocation takes effect on the very next
    request in every worker."""

    def __init__(self) -> None:
        self._parsed: dict[str, object] = {}
        self._lock = threading.Lock()

    def parsed(self, kid: str, der: bytes) -> object:
        with self._lock:
            public_key = self._parsed.get(kid)
            if public_key is None:
                public_key = serialization.load_der_public_key(der)
                self._parsed[kid] = public_key
        return public_key

    def current(self) -> tuple[verifier.KeySet, verifier.RevocationSet]:
        rows = db.session.execute(
            select(
                SigningKey.kid,
                SigningKey.state,
                SigningKey.public_key_der,
                SigningKey.document_class,
            )
        ).all()
        keys = {}
        classes = {}
        revoked = []
        for kid, state, der, document_class in rows:
            if state == KeyState.REVOKED.value:
                revoked.append(kid)
                continue
            keys[bytes.fromhex(kid)] = self.parsed(kid, der)
            classes[bytes.fromhex(kid)] = document_class
        return (
            verifier.KeySet(keys, classes),
            verifier.RevocationSet(frozenset(), frozenset(revoked)),
        )


_server_keys = _ServerKeys()


def _state_from_dates(kind: str, valid_from: date, valid_to: date, now: datetime) -> str:
    if now < verifier.not_before(valid_from) - verifier.CLOCK_SKEW:
        return NOT_YET_VALID
    if now > verifier.expires_at(valid_to) + verifier.CLOCK_SKEW:
        return EXPIRED
    return VALID_OFFICIAL if kind == CertificateKind.OFFICIAL.value else VALID_PROVISIONAL


def signed_details(certificate: Certificate, now: datetime | None = None) -> HolderDetails | None:
    """The identity and coverage as signed in the certificate's QR, or None when its token
    does not verify (no token, revoked or unknown key, altered). Never the live employee row:
    an edited employee record must not change what an old certificate says."""
    if not certificate.qr_text:
        return None
    keys, revoked_keys = _server_keys.current()
    result = verifier.verify_qr_text(
        certificate.qr_text, keys, revoked_keys, now or datetime.now(UTC)
    )
    claims = result.claims
    if claims is None or verifier.certificate_id_text(claims.certificate_id) != certificate.id:
        return None
    return _details_from_claims(
        claims, certificate.authority_reference, _day(certificate.reviewed_at)
    )


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


def holder_details(certificate: Certificate) -> HolderDetails:
    """What the holder's own inspector view shows: the signed claims; the register only for a
    certificate whose token cannot be read (it has no QR an inspector could check anyway)."""
    signed = signed_details(certificate)
    if signed is not None:
        return signed
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
        confirmed_on=_day(certificate.reviewed_at),
    )


def _details_from_claims(
    claims: verifier.CertificateClaims,
    authority_reference: str | None,
    confirmed_on: date | None = None,
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
        confirmed_on=confirmed_on,
    )


def _answer_for_register(
    status: str, details: HolderDetails, now: datetime, reason: str
) -> InspectorAnswer:
    if status not in PROVING_STATUSES and status != CertificateStatus.WITHDRAWN.value:
        # Waiting for the provider's review, or rejected: nothing signed to confirm.
        return InspectorAnswer(NOT_GENUINE, now, reason="not_confirmed")
    if status == CertificateStatus.WITHDRAWN.value:
        return InspectorAnswer(WITHDRAWN, now, details, reason="revoked")
    if status == CertificateStatus.SUPERSEDED.value:
        # Genuine, but the holder has a newer one (other dates, or a corrected identity).
        return InspectorAnswer(SUPERSEDED, now, details, superseded=True, reason=reason)
    state = _state_from_dates(details.kind, details.valid_from, details.valid_to, now)
    return InspectorAnswer(state, now, details, reason=reason)


# The QR's signing key (live: a revoked key fails at once) and its certificate's register row,
# in one query built once (this is the busiest public request).
_KEY_AND_REGISTER = (
    select(
        SigningKey.state,
        SigningKey.public_key_der,
        SigningKey.document_class,
        Certificate.status,
        Certificate.authority_reference,
        Certificate.reviewed_at,
    )
    .select_from(SigningKey)
    .outerjoin(Certificate, Certificate.id == bindparam("certificate_id"))
    .where(SigningKey.kid == bindparam("kid"))
)


@dataclass(frozen=True)
class _Verified:
    """A token whose signature, key class and dates held with this key: the check need not be
    repeated while the key's row is unchanged and the dates still hold."""

    kid: str
    certificate_id: str
    public_key_der: bytes
    document_class: str
    result: verifier.VerificationResult
    since: datetime  # the dates hold from since (inclusive) to until (exclusive), as verified
    until: datetime


class _VerifiedTokens:
    """The last tokens verified "valid" in this worker (a bounded LRU): an inspector's page is
    scanned again and again during one check; each scan still reads the key and the register."""

    def __init__(self, size: int = 2048) -> None:
        self._items: OrderedDict[str, _Verified] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, text: str) -> _Verified | None:
        with self._lock:
            item = self._items.get(text)
            if item is not None:
                self._items.move_to_end(text)
            return item

    def put(self, text: str, item: _Verified) -> None:
        with self._lock:
            self._items[text] = item
            self._items.move_to_end(text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_verified_tokens = _VerifiedTokens()


def _verify_with_register(text: str, now: datetime):
    """The verifier's result and the register row, with one query. The ids are read from the
    still unverified envelope only to choose the rows; verify_qr_text then checks the signature,
    the key and its class as always (unless this very token already passed with this very key
    row). None when the text does not decode that far: the caller verifies it the long way."""
    known = _verified_tokens.get(text)
    if known is not None:
        kid, certificate_id = known.kid, known.certificate_id
    else:
        try:
            envelope = parse_qr_text(text)
            claims = decode_payload(envelope.payload)[0]
        except Exception:  # anything undecodable: the full path gives its precise status
            return None
        kid = envelope.kid.hex()
        certificate_id = verifier.certificate_id_text(claims.certificate_id)
    # Core on a pooled connection of its own: plain rows, no ORM session to build and tear down
    # (the busiest public request reads two committed rows and writes nothing).
    with db.engine.connect() as connection:
        row = connection.execute(
            _KEY_AND_REGISTER, {"kid": kid, "certificate_id": certificate_id}
        ).first()
    register = row if row is not None and row.status is not None else None
    if (
        known is not None
        and row is not None
        and row.state != KeyState.REVOKED.value
        and row.public_key_der == known.public_key_der
        and row.document_class == known.document_class
        and known.since <= now < known.until
    ):
        return known.result, register
    kid_bytes = bytes.fromhex(kid)
    revoked = verifier.RevocationSet(frozenset(), frozenset())
    if row is None:
        keys = verifier.KeySet({}, {})
    elif row.state == KeyState.REVOKED.value:
        keys = verifier.KeySet({}, {})
        revoked = verifier.RevocationSet(frozenset(), frozenset([kid]))
    else:
        keys = verifier.KeySet(
            {kid_bytes: _server_keys.parsed(kid, row.public_key_der)},
            {kid_bytes: row.document_class},
        )
    result = verifier.verify_qr_text(text, keys, revoked, now)
    if result.status == "valid" and result.claims is not None:
        claims = result.claims
        _verified_tokens.put(
            text,
            _Verified(
                kid,
                certificate_id,
                row.public_key_der,
                row.document_class,
                result,
                since=verifier.not_before(claims.valid_from) - verifier.CLOCK_SKEW,
                until=verifier.expires_at(claims.valid_to) + verifier.CLOCK_SKEW,
            ),
        )
    return result, register


def verify_for_inspector(text: str, now: datetime | None = None) -> InspectorAnswer:
    """The answer for a scanned QR text: signature first, then the register's live status."""
    now = now or datetime.now(UTC)
    fast = _verify_with_register(text, now)
    if fast is not None:
        result, register = fast
        if result.claims is None:
            state = NOT_READABLE if result.status in UNREADABLE_STATUSES else NOT_GENUINE
            return InspectorAnswer(state, now, reason=result.status)
        if register is None:
            return InspectorAnswer(NOT_GENUINE, now, reason="not_in_register")
        details = _details_from_claims(
            result.claims, register.authority_reference, _day(register.reviewed_at)
        )
        return _answer_for_register(register.status, details, now, result.status)
    keys, revoked_keys = _server_keys.current()
    result = verifier.verify_qr_text(text, keys, revoked_keys, now)
    if result.claims is None:
        # Unknown or revoked key, bad signature, wrong key class: a code in our format that
        # fails, so not genuine. Undecodable: not readable. Nothing in either can be trusted.
        state = NOT_READABLE if result.status in UNREADABLE_STATUSES else NOT_GENUINE
        return InspectorAnswer(state, now, reason=result.status)
    # The details come from the signed claims; the register adds only the live status and the
    # authority's reference (two columns: this is the busiest public query).
    register = db.session.execute(
        select(Certificate.status, Certificate.authority_reference, Certificate.reviewed_at).where(
            Certificate.id == verifier.certificate_id_text(result.claims.certificate_id)
        )
    ).first()
    if register is None:
        # Signed by our key but absent from the register: cannot be confirmed, so not genuine.
        return InspectorAnswer(NOT_GENUINE, now, reason="not_in_register")
    details = _details_from_claims(
        result.claims, register.authority_reference, _day(register.reviewed_at)
    )
    return _answer_for_register(register.status, details, now, result.status)


def lookup_by_code(
    code: str, birth_date: date | None, now: datetime | None = None
) -> InspectorAnswer | None:
    """The typed lookup: verification code plus the holder's birth date, both must match.

    The birth date is compared with the signed one and the answer shows the signed claims, as a
    scan of the QR would. None for any mismatch, so a wrong guess tells nothing about which half
    was wrong; None too for a certificate whose token does not verify.
    """
    now = now or datetime.now(UTC)
    normalised = normalise_verification_code(code)
    if normalised is None or birth_date is None:
        return None
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.verification_code == normalised)
    )
    if certificate is None:
        return None
    details = signed_details(certificate, now)
    if details is None or details.birth_date != birth_date:
        return None
    return _answer_for_register(certificate.status, details, now, "code_lookup")


@dataclass(frozen=True)
class ScanDocumentTitle:
    """A document's title for the offline verifier, which reads kind and type from the claims."""

    kind: str
    document_type: str

    @property
    def text(self) -> str:
        return str(document_title(self))  # type: ignore[arg-type]  # reads kind, document_type


def scan_document_titles() -> list[ScanDocumentTitle]:
    return [
        ScanDocumentTitle(kind.value, document_type)
        for kind in CertificateKind
        for document_type in ("A1", "CoC")
    ]


def institution_names() -> list[tuple[str, str]]:
    """Every listed institution's code and name: the offline verifier shows names, not codes."""
    return sorted((code, i.name) for code, i in institutions_by_code().items())


def checked_at_words(moment: datetime) -> str:
    """The time of a check with the month in words in the page's language ("2. Dezember 2026,
    15:58:56"): Babel's medium date is all digits in German and Dutch."""
    return f"{format_date(moment, 'long')}, {format_time(moment, 'medium')}"
