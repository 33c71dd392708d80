"""The signed-QR format "A1W1": encode, sign, decode, verify. Imports no Flask and no database.

Specification for third parties: verifier/FORMAT.md.
"""

from .claims import (
    DOCUMENT_TYPES,
    KINDS,
    CertificateClaims,
    encode_payload,
    expires_at,
    not_before,
    validate_claims,
)
from .cose import qr_text, sign_certificate
from .ids import (
    certificate_id_text,
    kid_for_public_key,
    kid_text,
    parse_certificate_id,
    parse_kid_text,
)
from .keys import (
    DEFAULT_DOCUMENT_CLASS,
    DOCUMENT_CLASSES,
    KEY_STATES,
    KeySet,
    RevocationSet,
    format_utc,
    keys_document,
    parse_utc,
    public_key_document_entry,
    revoked_document,
)
from .verify import CLOCK_SKEW, STATUSES, VerificationResult, verify_qr_text

__all__ = [
    "CLOCK_SKEW",
    "DEFAULT_DOCUMENT_CLASS",
    "DOCUMENT_CLASSES",
    "DOCUMENT_TYPES",
    "KEY_STATES",
    "KINDS",
    "STATUSES",
    "CertificateClaims",
    "KeySet",
    "RevocationSet",
    "VerificationResult",
    "certificate_id_text",
    "encode_payload",
    "expires_at",
    "format_utc",
    "keys_document",
    "kid_for_public_key",
    "kid_text",
    "not_before",
    "parse_certificate_id",
    "parse_kid_text",
    "parse_utc",
    "public_key_document_entry",
    "qr_text",
    "revoked_document",
    "sign_certificate",
    "validate_claims",
    "verify_qr_text",
]
