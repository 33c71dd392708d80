"""Certificate claims and their compact CWT payload (see FORMAT.md, "Payload")."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import cbor2

from .ids import CERTIFICATE_ID_BYTES, certificate_id_text

DOCUMENT_TYPES = ("A1", "CoC")
KINDS = ("provisional", "official")

# CWT (RFC 8392) claim keys.
CWT_ISS = 1
CWT_EXP = 4
CWT_NBF = 5
PRIVATE_CLAIMS = -70001
# A1W1 payloads carry exactly these CWT keys, in deterministic (RFC 8949 §4.2.1) order.
_CWT_KEY_ORDER = (CWT_ISS, CWT_EXP, CWT_NBF, PRIVATE_CLAIMS)

# Private claim labels, all below 24 so each key is one CBOR byte.
P_CERTIFICATE_ID = 0
P_DOCUMENT_TYPE = 1
P_KIND = 2
P_LEGISLATION_STATE = 3
P_WORK_STATES = 4
P_FAMILY_NAME = 5
P_GIVEN_NAMES = 6
P_FAMILY_NAME_ASCII = 7
P_GIVEN_NAMES_ASCII = 8
P_BIRTH_DATE = 9
P_VALID_FROM = 10
P_VALID_TO = 11
P_ISSUING_INSTITUTION = 12
_REQUIRED_PRIVATE = frozenset(
    {
        P_CERTIFICATE_ID,
        P_DOCUMENT_TYPE,
        P_KIND,
        P_LEGISLATION_STATE,
        P_WORK_STATES,
        P_FAMILY_NAME,
        P_GIVEN_NAMES,
        P_BIRTH_DATE,
        P_VALID_FROM,
        P_VALID_TO,
    }
)
_LAST_PRIVATE = P_ISSUING_INSTITUTION

# Validity starts at 00:00 in UTC+14 and ends at 24:00 in UTC-12, so it holds through the
# printed dates in every time zone on Earth.
_NBF_OFFSET = -14 * 3600
_EXP_OFFSET = 86400 + 12 * 3600
_DAY = 86400

_EPOCH = dt.date(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
# Dates outside these years are refused: no real certificate needs them, and it keeps every
# computed timestamp far from datetime's limits.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)
_MIN_DAYS = MIN_DATE.toordinal() - _EPOCH_ORDINAL
_MAX_DAYS = MAX_DATE.toordinal() - _EPOCH_ORDINAL

MAX_WORK_STATES = 32
MAX_NAME_LENGTH = 100
MAX_ISSUER_LENGTH = 32
MAX_INSTITUTION_LENGTH = 100

_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_COUNTRIES_RE = re.compile(r"(?:[A-Z]{2})+")


@dataclass(frozen=True)
class CertificateClaims:
    certificate_id: bytes  # exactly 10 random bytes
    document_type: str  # "A1" | "CoC"
    kind: str  # "official" | "provisional"
    legislation_state: str  # ISO 3166-1 alpha-2, upper case
    work_states: tuple[str, ...]  # one or more alpha-2 codes, no repeats
    family_name: str  # as on the ID (any Unicode)
    given_names: str
    family_name_ascii: str | None  # only when it differs from family_name
    given_names_ascii: str | None
    birth_date: dt.date
    valid_from: dt.date  # first day of validity (inclusive)
    valid_to: dt.date  # last day of validity (inclusive)
    issuer: str  # CWT iss: the provider id, short (e.g. "A1W")
    issuing_institution: str | None  # official certificates only, e.g. "DE:DRV-BUND"

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly values: ISO dates, the certificate id as text, work states as a list."""
        return {
            "certificate_id": certificate_id_text(self.certificate_id),
            "document_type": self.document_type,
            "kind": self.kind,
            "legislation_state": self.legislation_state,
            "work_states": list(self.work_states),
            "family_name": self.family_name,
            "given_names": self.given_names,
            "family_name_ascii": self.family_name_ascii,
            "given_names_ascii": self.given_names_ascii,
            "birth_date": self.birth_date.isoformat(),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "issuer": self.issuer,
            "issuing_institution": self.issuing_institution,
        }


def not_before(valid_from: dt.date) -> dt.datetime:
    """valid_from 00:00 at UTC+14, as an aware UTC datetime."""
    return dt.datetime.combine(valid_from, dt.time(), tzinfo=dt.UTC) + dt.timedelta(
        seconds=_NBF_OFFSET
    )


def expires_at(valid_to: dt.date) -> dt.datetime:
    """valid_to 24:00 at UTC-12, as an aware UTC datetime."""
    return dt.datetime.combine(valid_to, dt.time(), tzinfo=dt.UTC) + dt.timedelta(
        seconds=_EXP_OFFSET
    )


def _days(day: dt.date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL


def _date(days: Any) -> dt.date:
    if type(days) is not int or not _MIN_DAYS <= days <= _MAX_DAYS:
        raise ValueError("date out of range")
    return dt.date.fromordinal(days + _EPOCH_ORDINAL)


def _check_text(value: Any, field: str, max_length: int) -> None:
    # isprintable() refuses control, format and line-separator characters, which could
    # hide or reorder text on the inspector's screen.
    if type(value) is not str or not 0 < len(value) <= max_length:
        raise ValueError(f"{field}: 1 to {max_length} characters")
    if not value.isprintable() or value != value.strip():
        raise ValueError(f"{field}: no control characters or surrounding spaces")


def _check_ascii_variant(value: Any, original: str, field: str) -> None:
    if value is None:
        return
    _check_text(value, field, MAX_NAME_LENGTH)
    if not value.isascii():
        raise ValueError(f"{field}: ASCII only")
    if value == original:
        raise ValueError(f"{field}: present only when it differs from the name on the ID")


def _check_date(value: Any, field: str) -> None:
    # datetime is a subclass of date: refuse it, a time of day would be silently dropped.
    if type(value) is not dt.date or not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"{field}: a date between {MIN_DATE} and {MAX_DATE}")


def validate_claims(claims: CertificateClaims) -> None:
    """Raise ValueError unless the claims are representable in A1W1 (same rules both ways)."""
    c = claims
    if type(c.certificate_id) is not bytes or len(c.certificate_id) != CERTIFICATE_ID_BYTES:
        raise ValueError("certificate_id: exactly 10 bytes")
    if c.document_type not in DOCUMENT_TYPES:
        raise ValueError(f"document_type: one of {DOCUMENT_TYPES}")
    if c.kind not in KINDS:
        raise ValueError(f"kind: one of {KINDS}")
    if type(c.legislation_state) is not str or not _COUNTRY_RE.fullmatch(c.legislation_state):
        raise ValueError("legislation_state: two upper-case letters")
    states = c.work_states
    if type(states) is not tuple or not 0 < len(states) <= MAX_WORK_STATES:
        raise ValueError(f"work_states: a tuple of 1 to {MAX_WORK_STATES} codes")
    for state in states:
        if type(state) is not str or not _COUNTRY_RE.fullmatch(state):
            raise ValueError("work_states: two upper-case letters each")
    if len(set(states)) != len(states):
        raise ValueError("work_states: no repeats")
    _check_text(c.family_name, "family_name", MAX_NAME_LENGTH)
    _check_text(c.given_names, "given_names", MAX_NAME_LENGTH)
    _check_ascii_variant(c.family_name_ascii, c.family_name, "family_name_ascii")
    _check_ascii_variant(c.given_names_ascii, c.given_names, "given_names_ascii")
    _check_date(c.birth_date, "birth_date")
    _check_date(c.valid_from, "valid_from")
    _check_date(c.valid_to, "valid_to")
    if c.valid_to < c.valid_from:
        raise ValueError("valid_to is before valid_from")
    _check_text(c.issuer, "issuer", MAX_ISSUER_LENGTH)
    if not c.issuer.isascii():
        raise ValueError("issuer: ASCII only")
    if c.kind == "official":
        _check_text(c.issuing_institution, "issuing_institution", MAX_INSTITUTION_LENGTH)
    elif c.issuing_institution is not None:
        raise ValueError("issuing_institution: official certificates only")


def encode_payload(claims: CertificateClaims) -> bytes:
    """The CWT payload bytes, deterministically encoded (RFC 8949 §4.2.1)."""
    validate_claims(claims)
    private: dict[int, Any] = {
        P_CERTIFICATE_ID: claims.certificate_id,
        P_DOCUMENT_TYPE: DOCUMENT_TYPES.index(claims.document_type),
        P_KIND: KINDS.index(claims.kind),
        P_LEGISLATION_STATE: claims.legislation_state,
        P_WORK_STATES: "".join(claims.work_states),
        P_FAMILY_NAME: claims.family_name,
        P_GIVEN_NAMES: claims.given_names,
    }
    if claims.family_name_ascii is not None:
        private[P_FAMILY_NAME_ASCII] = claims.family_name_ascii
    if claims.given_names_ascii is not None:
        private[P_GIVEN_NAMES_ASCII] = claims.given_names_ascii
    private[P_BIRTH_DATE] = _days(claims.birth_date)
    private[P_VALID_FROM] = _days(claims.valid_from)
    private[P_VALID_TO] = _days(claims.valid_to)
    if claims.issuing_institution is not None:
        private[P_ISSUING_INSTITUTION] = claims.issuing_institution
    cwt = {
        CWT_ISS: claims.issuer,
        CWT_EXP: _days(claims.valid_to) * _DAY + _EXP_OFFSET,
        CWT_NBF: _days(claims.valid_from) * _DAY + _NBF_OFFSET,
        PRIVATE_CLAIMS: private,
    }
    return cbor2.dumps(cwt, canonical=True)


def _head_length(argument: int) -> int:
    # Bytes of a CBOR head whose argument is in its shortest form (RFC 8949 §4.2.1).
    if argument < 24:
        return 1
    if argument < 0x100:
        return 2
    if argument < 0x10000:
        return 3
    return 5 if argument < 0x100000000 else 9


def _deterministic_length(cwt: dict[int, Any], private: dict[int, Any]) -> int:
    """Length of the deterministic encoding of a type-checked A1W1 payload.

    Inlined rather than recursive: it runs on every verification.
    """
    # a4, keys 01 / 04 / 05 (one byte each), 3a 00 01 11 70 (-70001), the private map's head,
    # and one byte for each private key (all below 24)
    size = 1 + 3 + 5 + _head_length(len(private)) + len(private)
    for value in (cwt[CWT_ISS], cwt[CWT_EXP], cwt[CWT_NBF], *private.values()):
        kind = type(value)
        if kind is int:
            size += _head_length(value if value >= 0 else -1 - value)
            continue
        if kind is str:
            length = len(value) if value.isascii() else len(value.encode("utf-8"))
        elif kind is bytes:
            length = len(value)
        else:
            raise ValueError(f"unexpected CBOR type {kind.__name__}")
        size += _head_length(length) + length
    return size


def decode_payload(payload: bytes) -> tuple[CertificateClaims, int, int]:
    """Claims, nbf and exp from a payload whose signature already holds; ValueError otherwise.

    Strict: exactly the CWT keys above, known private keys only, deterministic encoding,
    nbf/exp exactly as the dates imply.
    """
    try:
        # Depth 2: the CWT map and the private-claims map inside it, nothing deeper.
        cwt = cbor2.loads(payload, max_depth=2, allow_indefinite=False, allow_duplicate_keys=False)
    except Exception as exc:  # the decoder may raise many types on hostile input
        raise ValueError("payload is not CBOR") from exc
    if type(cwt) is not dict or tuple(cwt) != _CWT_KEY_ORDER:
        raise ValueError("payload: a map with keys 1, 4, 5, -70001 in that order")
    # Python's True == 1 and 1.0 == 1: compare key types, not only values.
    if any(type(key) is not int for key in cwt):
        raise ValueError("payload: integer keys only")
    private = cwt[PRIVATE_CLAIMS]
    if type(private) is not dict:
        raise ValueError("private claims: a map")
    previous = -1
    for key in private:
        # Strictly ascending small ints: deterministic order, no unknown claims.
        if type(key) is not int or not previous < key <= _LAST_PRIVATE:
            raise ValueError("private claims: unknown key or keys out of order")
        previous = key
    if not _REQUIRED_PRIVATE.issubset(private):
        raise ValueError("private claims: a required claim is missing")

    doc_code = private[P_DOCUMENT_TYPE]
    kind_code = private[P_KIND]
    work = private[P_WORK_STATES]
    nbf = cwt[CWT_NBF]
    exp = cwt[CWT_EXP]
    if type(doc_code) is not int or not 0 <= doc_code < len(DOCUMENT_TYPES):
        raise ValueError("document type code")
    if type(kind_code) is not int or not 0 <= kind_code < len(KINDS):
        raise ValueError("kind code")
    if type(work) is not str or not _COUNTRIES_RE.fullmatch(work):
        raise ValueError("work states: concatenated two-letter codes")
    if type(nbf) is not int or type(exp) is not int:
        raise ValueError("nbf and exp: integer seconds")
    claims = CertificateClaims(
        certificate_id=private[P_CERTIFICATE_ID],
        document_type=DOCUMENT_TYPES[doc_code],
        kind=KINDS[kind_code],
        legislation_state=private[P_LEGISLATION_STATE],
        work_states=tuple(_COUNTRY_RE.findall(work)),
        family_name=private[P_FAMILY_NAME],
        given_names=private[P_GIVEN_NAMES],
        family_name_ascii=private.get(P_FAMILY_NAME_ASCII),
        given_names_ascii=private.get(P_GIVEN_NAMES_ASCII),
        birth_date=_date(private[P_BIRTH_DATE]),
        valid_from=_date(private[P_VALID_FROM]),
        valid_to=_date(private[P_VALID_TO]),
        issuer=cwt[CWT_ISS],
        issuing_institution=private.get(P_ISSUING_INSTITUTION),
    )
    # Every value now has a known type (int, str, bytes, map), so the shortest encoding of
    # what was decoded has a computable length. Equal length means every head was shortest,
    # no bignum tag stood in for an int and nothing trailed: the deterministic encoding, at a
    # fraction of the cost of re-encoding. Key order was checked above.
    validate_claims(claims)
    if _deterministic_length(cwt, private) != len(payload):
        raise ValueError("payload is not deterministically encoded")
    if nbf != private[P_VALID_FROM] * _DAY + _NBF_OFFSET:
        raise ValueError("nbf does not match valid_from")
    if exp != private[P_VALID_TO] * _DAY + _EXP_OFFSET:
        raise ValueError("exp does not match valid_to")
    return claims, nbf, exp
