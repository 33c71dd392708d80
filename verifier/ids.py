"""Identifiers and text encodings of the A1W1 format: certificate ids, key ids, QR Base32."""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

CERTIFICATE_ID_BYTES = 10
KID_BYTES = 8

# Crockford Base32: no I, L, O, U, so a typed id cannot be misread.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_VALUE = {ch: i for i, ch in enumerate(_CROCKFORD)}
# Crockford's decoding aliases for characters people confuse with digits.
_CROCKFORD_VALUE.update({"O": 0, "I": 1, "L": 1})

_KID_TEXT_RE = re.compile(r"[0-9a-f]{16}")

# RFC 4648 Base32 decoded through int(..., 32): CPython parses power-of-two bases in C in linear
# time, about ten times faster than base64.b32decode, which matters on the verification hot path.
_B32_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_TO_INT_DIGITS = bytes.maketrans(_B32_ALPHABET, b"0123456789abcdefghijklmnopqrstuv")


def crockford_text(n: int, chars: int) -> str:
    """``n`` as ``chars`` upper-case Crockford Base32 characters, most significant first."""
    if not 0 <= n < 1 << (5 * chars):
        raise ValueError(f"{n} does not fit in {chars} Crockford characters")
    return "".join(_CROCKFORD[(n >> shift) & 31] for shift in range(5 * (chars - 1), -1, -5))


def crockford_value(text: str) -> int:
    """Inverse of crockford_text; any case, and Crockford's O→0, I/L→1 aliases."""
    n = 0
    for ch in text.upper():
        value = _CROCKFORD_VALUE.get(ch)
        if value is None:
            raise ValueError(f"not a Crockford Base32 character: {ch!r}")
        n = (n << 5) | value
    return n


def certificate_id_text(cid: bytes) -> str:
    """The 16-character upper-case Crockford Base32 form of a 10-byte certificate id."""
    if type(cid) is not bytes or len(cid) != CERTIFICATE_ID_BYTES:
        raise ValueError("a certificate id is exactly 10 bytes")
    # 80 bits = 16 characters of 5 bits, no padding.
    return crockford_text(int.from_bytes(cid, "big"), 16)


def parse_certificate_id(text: str) -> bytes:
    """Inverse of certificate_id_text; accepts lower case and Crockford's O/I/L aliases."""
    if not isinstance(text, str) or len(text) != 16 or not text.isascii():
        raise ValueError("a certificate id is 16 Crockford Base32 characters")
    return crockford_value(text).to_bytes(CERTIFICATE_ID_BYTES, "big")


def normalize_certificate_id_text(text: str) -> str:
    """The canonical spelling of a certificate id given in any accepted spelling."""
    return certificate_id_text(parse_certificate_id(text))


def kid_for_public_key(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """First 8 bytes of SHA-256 over the key's DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()[:KID_BYTES]


def kid_text(kid: bytes) -> str:
    """Lower-case hex, 16 characters."""
    if type(kid) is not bytes or len(kid) != KID_BYTES:
        raise ValueError("a kid is exactly 8 bytes")
    return kid.hex()


def parse_kid_text(text: str) -> bytes:
    """Inverse of kid_text; only the canonical lower-case form is accepted."""
    if not isinstance(text, str) or not _KID_TEXT_RE.fullmatch(text):
        raise ValueError("a kid is 16 lower-case hex characters")
    return bytes.fromhex(text)


def b32encode(data: bytes) -> str:
    """RFC 4648 Base32, upper case, without padding."""
    return base64.b32encode(data).decode("ascii").rstrip("=")


def b32decode_canonical(text: str) -> bytes:
    """Decode upper-case unpadded Base32, rejecting every non-canonical spelling.

    Canonical means: only A-Z and 2-7, no padding, a length that some byte string encodes to,
    and zero bits after the last byte. Each byte string then has exactly one accepted text.
    """
    if not text or not text.isascii():
        raise ValueError("not Base32")
    data = text.encode("ascii")
    # translate(None, alphabet) deletes every Base32 character: anything left is not Base32.
    if data.translate(None, _B32_ALPHABET):
        raise ValueError("not Base32")
    n = len(text)
    spare_bits = (5 * n) % 8
    if spare_bits >= 5:
        # Lengths 1, 3, 6 (mod 8): the last character would carry no data bit.
        raise ValueError("impossible Base32 length")
    value = int(data.translate(_B32_TO_INT_DIGITS), 32)
    if value & ((1 << spare_bits) - 1):
        raise ValueError("non-zero trailing bits")
    return (value >> spare_bits).to_bytes(5 * n // 8, "big")
