"""COSE_Sign1 envelope (RFC 9052) with ES256, and the QR text around it (see FORMAT.md)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .claims import CertificateClaims, encode_payload
from .ids import KID_BYTES, b32decode_canonical, b32encode, kid_for_public_key

HEADER_KID = 4
SIGNATURE_BYTES = 64

# The one protected header A1W1 allows, {1: -7, 4: h'<8 bytes>'}, deterministically encoded:
# a2 (map of 2) 01 26 (alg: -7) 04 48 (kid: bstr of 8) + the kid.
PROTECTED_PREFIX = b"\xa2\x01\x26\x04\x48"
_PROTECTED_LENGTH = len(PROTECTED_PREFIX) + KID_BYTES
# Sig_structure = ["Signature1", protected, external_aad = h'', payload]
_SIG_STRUCTURE_PREFIX = b"\x84\x6aSignature1"
_ENVELOPE_PREFIX = b"\xd2\x84"  # tag 18, array of 4
_EMPTY_MAP = b"\xa0"
_SIGNATURE_HEADER = b"\x58\x40"  # bstr of 64

# The largest text a QR code holds (version 40-L, alphanumeric); anything longer is not ours.
MAX_TEXT_LENGTH = 4296
# QR alphanumeric mode characters: a text made only of these encodes at 5.5 bits per character.
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

ES256 = ec.ECDSA(hashes.SHA256())
_ES256_DETERMINISTIC = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


class MalformedToken(ValueError):
    """The token is not a well-formed A1W1 envelope; kid is set when it could be read."""

    def __init__(self, reason: str, kid: bytes | None = None) -> None:
        super().__init__(reason)
        self.kid = kid


@dataclass(frozen=True, slots=True)
class Envelope:
    kid: bytes
    protected: bytes
    payload: bytes
    signature: bytes  # raw r || s

    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected, self.payload)


def bstr_header(length: int) -> bytes:
    """CBOR major type 2 header in its shortest form."""
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


def protected_header(kid: bytes) -> bytes:
    if len(kid) != KID_BYTES:
        raise ValueError("a kid is exactly 8 bytes")
    return PROTECTED_PREFIX + kid


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes ES256 signs: CBOR ["Signature1", protected, h'', payload]."""
    return b"".join(
        (
            _SIG_STRUCTURE_PREFIX,
            bstr_header(len(protected)),
            protected,
            b"\x40",
            bstr_header(len(payload)),
            payload,
        )
    )


def build_sign1(
    protected: bytes, payload: bytes, signature: bytes, unprotected: bytes = _EMPTY_MAP
) -> bytes:
    """Assemble tag 18 [protected, unprotected, payload, signature] from encoded parts."""
    return b"".join(
        (
            _ENVELOPE_PREFIX,
            bstr_header(len(protected)),
            protected,
            unprotected,
            bstr_header(len(payload)),
            payload,
            bstr_header(len(signature)),
            signature,
        )
    )


def es256_sign(
    private_key: ec.EllipticCurvePrivateKey,
    protected: bytes,
    payload: bytes,
    *,
    deterministic: bool = False,
) -> bytes:
    """Raw 64-byte r || s signature over the Sig_structure."""
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise ValueError("ES256 needs a P-256 private key")
    algorithm = _ES256_DETERMINISTIC if deterministic else ES256
    der = private_key.sign(sig_structure(protected, payload), algorithm)
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_certificate(
    claims: CertificateClaims,
    private_key: ec.EllipticCurvePrivateKey,
    *,
    deterministic: bool = False,
) -> bytes:
    """COSE_Sign1 bytes (tag 18) carrying the claims, signed with ES256.

    deterministic=True uses RFC 6979 nonces (same input, same bytes): for test vectors.
    """
    payload = encode_payload(claims)
    protected = protected_header(kid_for_public_key(private_key.public_key()))
    signature = es256_sign(private_key, protected, payload, deterministic=deterministic)
    return build_sign1(protected, payload, signature)


def qr_text(cose: bytes, base_url: str) -> str:
    """{BASE URL upper-cased}/V/{Base32}: every character in the QR alphanumeric set."""
    text = f"{base_url.rstrip('/').upper()}/V/{b32encode(cose)}"
    bad = set(text) - QR_ALPHANUMERIC
    if bad:
        # One such character would switch the whole QR to byte mode and cost 2-3 versions.
        raise ValueError(f"base URL has characters outside the QR alphanumeric set: {sorted(bad)}")
    return text


def token_bytes(text: str) -> bytes:
    """The COSE bytes from a QR text: full URL (/V/ or /v/, any case) or the Base32 part alone."""
    if not isinstance(text, str) or len(text) > MAX_TEXT_LENGTH or not text.isascii():
        raise MalformedToken("not an A1W1 text")
    cut = max(text.rfind("/V/"), text.rfind("/v/"))
    token = text[cut + 3 :] if cut >= 0 else text
    try:
        return b32decode_canonical(token.upper())
    except ValueError as exc:
        raise MalformedToken(str(exc)) from None


def _decode_one_item(data: bytes) -> object:
    # cbor2.loads ignores trailing bytes; a decoder on a stream tells where the item ended.
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(
        stream, max_depth=4, allow_indefinite=False, allow_duplicate_keys=False
    )
    item = decoder.decode()
    if stream.tell() != len(data):
        raise MalformedToken("trailing bytes after the CBOR item")
    return item


def _protected_kid(protected: bytes) -> bytes | None:
    # Only to report which key a rejected token names; never used to accept a token.
    try:
        header = _decode_one_item(protected)
    except Exception:
        return None
    if not isinstance(header, Mapping) or any(type(key) is not int for key in header):
        return None
    kid = header.get(HEADER_KID)
    return kid if type(kid) is bytes and len(kid) == KID_BYTES else None


def _read_bstr(raw: bytes, pos: int) -> tuple[int, int]:
    """(start, end) of the byte string whose head is at pos; its head must be shortest."""
    if pos >= len(raw):
        raise MalformedToken("truncated")
    initial = raw[pos]
    if 0x40 <= initial <= 0x57:
        length, start = initial - 0x40, pos + 1
    elif initial == 0x58 and pos + 2 <= len(raw) and raw[pos + 1] >= 24:
        length, start = raw[pos + 1], pos + 2
    elif initial == 0x59 and pos + 3 <= len(raw) and raw[pos + 1] > 0:
        length, start = int.from_bytes(raw[pos + 1 : pos + 3], "big"), pos + 3
    else:
        # Other major types, longer heads than needed, indefinite lengths, or lengths no
        # QR code could carry.
        raise MalformedToken("expected a byte string with a shortest-form length")
    end = start + length
    if end > len(raw):
        raise MalformedToken("truncated")
    return start, end


def parse_envelope(raw: bytes) -> Envelope:
    """Strictly parse COSE_Sign1 bytes; MalformedToken on anything but the one A1W1 shape.

    A1W1 allows exactly one encoding: d2 84 (tag 18, array of 4), bstr protected, a0 (empty
    unprotected map), bstr payload, 58 40 + 64 signature bytes, and nothing after it. Reading
    those bytes directly is the strictest parse possible: any other CBOR (non-shortest heads,
    indefinite lengths, a non-empty unprotected map, trailing bytes) is refused, and no general
    decoder runs on unauthenticated bytes except to report the kid of a refused header.
    """
    if raw[:2] != _ENVELOPE_PREFIX:
        raise MalformedToken("not a tag-18 COSE_Sign1 array of 4")
    p_start, p_end = _read_bstr(raw, 2)
    if raw[p_end : p_end + 1] != _EMPTY_MAP:
        # Unsigned parameters could only mislead (e.g. a kid there): the map must be empty.
        raise MalformedToken("the unprotected header must be an empty map")
    b_start, b_end = _read_bstr(raw, p_end + 1)
    if raw[b_end : b_end + 2] != _SIGNATURE_HEADER:
        raise MalformedToken("the ES256 signature is a byte string of 64")
    if len(raw) != b_end + 2 + SIGNATURE_BYTES:
        raise MalformedToken("truncated or trailing bytes after the COSE_Sign1 item")
    protected = raw[p_start:p_end]
    if len(protected) != _PROTECTED_LENGTH or not protected.startswith(PROTECTED_PREFIX):
        # Wrong or missing alg, missing kid, extra parameters, other encodings: all malformed.
        raise MalformedToken(
            "the protected header must be exactly {1: -7, 4: kid}", _protected_kid(protected)
        )
    return Envelope(
        kid=protected[len(PROTECTED_PREFIX) :],
        protected=protected,
        payload=raw[b_start:b_end],
        signature=raw[b_end + 2 :],
    )


def parse_qr_text(text: str) -> Envelope:
    return parse_envelope(token_bytes(text))
