"""Trust list (keys.json) and revocation list (revoked.json), see FORMAT.md."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .claims import KINDS
from .ids import (
    certificate_id_text,
    kid_for_public_key,
    kid_text,
    parse_certificate_id,
    parse_kid_text,
)

FORMAT = "A1W1"
KEY_STATES = ("published", "active", "retired")
# A key's document class is the kind of certificate it may sign: the same words as the QR's
# kind claim, so the two cannot drift apart.
DOCUMENT_CLASSES = KINDS
# The class of a key listed without one (a trust list older than classes): such a key never
# vouches for an official certificate.
DEFAULT_DOCUMENT_CLASS = "provisional"

# [0-9], not \d: \d also matches other scripts' digits, which strptime would read as ASCII.
_UTC_TEXT_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def format_utc(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second: 2026-05-01T10:00:00Z."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an aware datetime is needed")
    utc = moment.astimezone(dt.UTC)
    # Not strftime: its %Y does not pad years before 1000 to four digits on every platform.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


def parse_utc(text: Any) -> dt.datetime:
    """Inverse of format_utc; only that exact shape is accepted."""
    if not isinstance(text, str) or not _UTC_TEXT_RE.fullmatch(text):
        raise ValueError(f"not a UTC timestamp like 2026-05-01T10:00:00Z: {text!r}")
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def _check_p256(public_key: Any) -> ec.EllipticCurvePublicKey:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise ValueError("A1W1 keys are ECDSA P-256 public keys")
    return public_key


def public_key_document_entry(
    public_key: ec.EllipticCurvePublicKey,
    state: str,
    not_before: dt.datetime,
    not_after: dt.datetime | None,
    *,
    document_class: str,
) -> dict[str, Any]:
    """One entry of keys.json, so the app and the test vectors write the same shape."""
    _check_p256(public_key)
    if state not in KEY_STATES:
        raise ValueError(f"state: one of {KEY_STATES} (revoked keys are not published)")
    if document_class not in DOCUMENT_CLASSES:
        raise ValueError(f"document_class: one of {DOCUMENT_CLASSES}")
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "kid": kid_text(kid_for_public_key(public_key)),
        "alg": "ES256",
        "crv": "P-256",
        "public_key": base64.b64encode(der).decode("ascii"),
        "state": state,
        "not_before": format_utc(not_before),
        "not_after": None if not_after is None else format_utc(not_after),
        "document_class": document_class,
    }


def keys_document(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The whole keys.json document from entries made by public_key_document_entry."""
    return {"format": FORMAT, "keys": [dict(entry) for entry in entries]}


def revoked_document(certificate_ids: Iterable[str], kids: Iterable[str]) -> dict[str, Any]:
    """The whole revoked.json document; ids and kids sorted so the bytes are stable (ETag)."""
    revoked = RevocationSet(frozenset(certificate_ids), frozenset(kids))
    return {
        "format": FORMAT,
        "certificates": sorted(revoked.certificate_ids),
        "keys": sorted(revoked.kids),
    }


def _check_format(doc: Any) -> None:
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise ValueError(f'not an {FORMAT} document: "format" must be "{FORMAT}"')


def _load_entry(entry: Any) -> tuple[bytes, ec.EllipticCurvePublicKey, str]:
    if not isinstance(entry, Mapping):
        raise ValueError("each key entry is an object")
    if entry.get("alg") != "ES256" or entry.get("crv") != "P-256":
        raise ValueError('only "alg": "ES256", "crv": "P-256" keys are allowed')
    if entry.get("state") not in KEY_STATES:
        raise ValueError(f"state: one of {KEY_STATES}")
    document_class = entry.get("document_class", DEFAULT_DOCUMENT_CLASS)
    if document_class not in DOCUMENT_CLASSES:
        raise ValueError(f"document_class: one of {DOCUMENT_CLASSES}, or absent")
    not_before = parse_utc(entry.get("not_before"))
    not_after = entry.get("not_after")
    if not_after is not None and parse_utc(not_after) < not_before:
        raise ValueError("not_after is before not_before")
    encoded = entry.get("public_key")
    if not isinstance(encoded, str) or not _BASE64_RE.fullmatch(encoded):
        raise ValueError("public_key: standard Base64")
    try:
        der = base64.b64decode(encoded, validate=True)
        public_key = serialization.load_der_public_key(der)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError(f"public_key: not a DER SubjectPublicKeyInfo ({exc})") from None
    kid = parse_kid_text(entry.get("kid"))
    if kid != kid_for_public_key(_check_p256(public_key)):
        raise ValueError(f"kid {entry.get('kid')} does not match its public key")
    return kid, public_key, document_class


class KeySet:
    """Trusted public keys by kid, each with its document class. Keys are parsed once here,
    not on every verification."""

    __slots__ = ("_classes", "_keys")

    def __init__(
        self,
        keys: Mapping[bytes, ec.EllipticCurvePublicKey] | None = None,
        classes: Mapping[bytes, str] | None = None,
    ) -> None:
        """`classes` gives each kid's document class; a kid without one is provisional."""
        self._keys: dict[bytes, ec.EllipticCurvePublicKey] = dict(keys or {})
        classes = classes or {}
        if not set(classes) <= set(self._keys):
            raise ValueError("a document class for a key that is not in the set")
        self._classes: dict[bytes, str] = {
            kid: classes.get(kid, DEFAULT_DOCUMENT_CLASS) for kid in self._keys
        }
        if not set(self._classes.values()) <= set(DOCUMENT_CLASSES):
            raise ValueError(f"document_class: one of {DOCUMENT_CLASSES}")

    @classmethod
    def from_public_keys(
        cls,
        keys: Iterable[ec.EllipticCurvePublicKey],
        document_class: str = DEFAULT_DOCUMENT_CLASS,
    ) -> KeySet:
        """Keys that all have the same document class."""
        by_kid = {kid_for_public_key(_check_p256(key)): key for key in keys}
        return cls(by_kid, dict.fromkeys(by_kid, document_class))

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> KeySet:
        """Parse a keys.json document; ValueError if anything in it is malformed."""
        _check_format(doc)
        entries = doc.get("keys")
        if not isinstance(entries, list):
            raise ValueError('"keys" must be a list')
        keys: dict[bytes, ec.EllipticCurvePublicKey] = {}
        classes: dict[bytes, str] = {}
        for entry in entries:
            kid, public_key, document_class = _load_entry(entry)
            if kid in keys:
                raise ValueError(f"kid {kid.hex()} is listed twice")
            keys[kid] = public_key
            classes[kid] = document_class
        return cls(keys, classes)

    def get(self, kid: bytes) -> ec.EllipticCurvePublicKey | None:
        return self._keys.get(kid)

    def document_class(self, kid: bytes) -> str | None:
        """The kind of certificate the key may sign; None for a kid not in the set."""
        return self._classes.get(kid)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(kid.hex() for kid in self._keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeySet({sorted(self.kids)})"


@dataclass(frozen=True)
class RevocationSet:
    """Revoked certificate ids (canonical 16-character text) and revoked kids (16 hex)."""

    certificate_ids: frozenset[str] = frozenset()
    kids: frozenset[str] = frozenset()
    # The same ids as bytes, so verification looks a certificate up without formatting it.
    _id_bytes: frozenset[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Canonical spellings only, so membership is a plain set lookup; ValueError otherwise.
        id_bytes = frozenset(parse_certificate_id(cid) for cid in self.certificate_ids)
        kids = frozenset(
            parse_kid_text(kid.lower() if isinstance(kid, str) else kid).hex() for kid in self.kids
        )
        object.__setattr__(self, "certificate_ids", frozenset(map(certificate_id_text, id_bytes)))
        object.__setattr__(self, "kids", kids)
        object.__setattr__(self, "_id_bytes", id_bytes)

    def is_certificate_revoked(self, certificate_id: bytes) -> bool:
        return certificate_id in self._id_bytes

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> RevocationSet:
        """Parse a revoked.json document; ValueError if anything in it is malformed."""
        _check_format(doc)
        certificates = doc.get("certificates")
        kids = doc.get("keys")
        if not isinstance(certificates, list) or not isinstance(kids, list):
            raise ValueError('"certificates" and "keys" must be lists')
        if not all(isinstance(item, str) for item in certificates + kids):
            raise ValueError("revoked ids and kids are strings")
        return cls(frozenset(certificates), frozenset(kids))
