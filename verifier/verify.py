"""Decode and verify an A1W1 QR text, in the order verifier/FORMAT.md §4 gives."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .claims import CertificateClaims, decode_payload
from .cose import ES256, MalformedToken, parse_qr_text
from .keys import KeySet, RevocationSet

STATUSES = (
    "valid",
    "not_yet_valid",
    "expired",
    "revoked",
    "key_revoked",
    "unknown_key",
    "bad_signature",
    "kind_mismatch",
    "malformed",
)

# Clock skew tolerated at both ends of the validity window, and no more.
CLOCK_SKEW = dt.timedelta(seconds=60)
_SKEW_SECONDS = int(CLOCK_SKEW.total_seconds())
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NO_REVOCATIONS = RevocationSet()


@dataclass(frozen=True)
class VerificationResult:
    status: str  # one of STATUSES
    kid: str | None  # hex, when the header could be parsed
    claims: CertificateClaims | None  # only when the signature holds

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "kid": self.kid}
        if self.claims is not None:
            out["claims"] = self.claims.to_json()
        return out


def verify_qr_text(
    text: str,
    keys: KeySet,
    revoked: RevocationSet | None = None,
    at: dt.datetime | None = None,
) -> VerificationResult:
    """Verify a QR text (full URL in either case, or the Base32 part alone).

    Never raises for any text: every defect is a status. `at` (aware) defaults to now.
    """
    if at is None:
        at = dt.datetime.now(dt.UTC)
    elif at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be an aware datetime")
    if revoked is None:
        revoked = _NO_REVOCATIONS

    # 1. parse the envelope (the payload stays opaque until the signature holds)
    try:
        envelope = parse_qr_text(text)
    except MalformedToken as exc:
        return VerificationResult("malformed", exc.kid.hex() if exc.kid else None, None)
    kid = envelope.kid.hex()

    # 2. key not revoked; 3. known key. A revoked kid is refused even when a trust list still
    # lists it or no longer lists it: revocation must survive any refresh.
    if kid in revoked.kids:
        return VerificationResult("key_revoked", kid, None)
    public_key = keys.get(envelope.kid)
    if public_key is None:
        return VerificationResult("unknown_key", kid, None)

    # 4. signature
    signature = envelope.signature
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public_key.verify(der, envelope.to_be_signed(), ES256)
    except Exception:  # InvalidSignature, or r/s out of range: never valid
        return VerificationResult("bad_signature", kid, None)

    # 5. claims, read only now
    try:
        claims, nbf, exp = decode_payload(envelope.payload)
    except ValueError:
        # A signed but unreadable payload: our signer never makes one, so report no claims.
        return VerificationResult("malformed", kid, None)

    # 6. the key's document class must be the certificate's kind: a key that signs provisional
    # statements cannot vouch for an official record. No claims: the key does not vouch for them.
    if keys.document_class(envelope.kid) != claims.kind:
        return VerificationResult("kind_mismatch", kid, None)

    # 7. time window, with CLOCK_SKEW at both ends
    now = (at - _EPOCH).total_seconds()
    if now < nbf - _SKEW_SECONDS:
        return VerificationResult("not_yet_valid", kid, claims)
    if now >= exp + _SKEW_SECONDS:
        return VerificationResult("expired", kid, claims)

    # 8. certificate not revoked
    if revoked.is_certificate_revoked(claims.certificate_id):
        return VerificationResult("revoked", kid, claims)
    return VerificationResult("valid", kid, claims)
