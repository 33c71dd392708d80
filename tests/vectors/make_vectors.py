"""Write the A1W1 test vectors: one self-contained JSON file per case, next to this script.

Run: python tests/vectors/make_vectors.py

The keys are FIXED test keys derived from public labels (never use them for anything else) and
signatures use RFC 6979 deterministic nonces, so running the script again rewrites the same
bytes. Each case states its expected status, kid and claims by hand; the script then checks the
reference verifier agrees before writing anything. See verifier/FORMAT.md §8 for the file shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from verifier import (  # noqa: E402 (the repository root is put on the path just above)
    CertificateClaims,
    KeySet,
    RevocationSet,
    certificate_id_text,
    encode_payload,
    expires_at,
    format_utc,
    keys_document,
    kid_for_public_key,
    not_before,
    public_key_document_entry,
    qr_text,
    revoked_document,
    sign_certificate,
    verify_qr_text,
)
from verifier.cose import build_sign1, es256_sign, protected_header, sig_structure  # noqa: E402

BASE_URL = "https://verify.a1-wallet.example"
DEFAULT_AT = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P384_ORDER = int(
    "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    16,
)


def _scalar(label: str, order: int) -> int:
    digest = hashlib.sha512(f"A1W1 test vector key: {label}".encode()).digest()
    return int.from_bytes(digest, "big") % (order - 1) + 1


def p256_key(label: str) -> ec.EllipticCurvePrivateKey:
    """A fixed P-256 test key: the same label always gives the same key."""
    return ec.derive_private_key(_scalar(label, _P256_ORDER), ec.SECP256R1())


ACTIVE = p256_key("active")  # document class provisional
ACTIVE_OFFICIAL = p256_key("active official")  # document class official
RETIRED = p256_key("retired")
REVOKED = p256_key("revoked")
UNKNOWN = p256_key("unknown (never published)")
P384 = ec.derive_private_key(_scalar("p384", _P384_ORDER), ec.SECP384R1())
ED25519 = ed25519.Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"A1W1 test vector key: ed25519").digest()
)


def kid_hex(key: ec.EllipticCurvePrivateKey) -> str:
    return kid_for_public_key(key.public_key()).hex()


def _entry(
    key: ec.EllipticCurvePrivateKey,
    state: str,
    since: str,
    until: str | None,
    document_class: str = "provisional",
) -> dict:
    return public_key_document_entry(
        key.public_key(),
        state,
        dt.datetime.fromisoformat(since),
        None if until is None else dt.datetime.fromisoformat(until),
        document_class=document_class,
    )


def _without_class(entry: dict) -> dict:
    """The entry as a trust list written before keys had a document class lists it."""
    return {name: value for name, value in entry.items() if name != "document_class"}


ACTIVE_ENTRY = _entry(ACTIVE, "active", "2025-06-01T00:00:00+00:00", None)
OFFICIAL_ENTRY = _entry(ACTIVE_OFFICIAL, "active", "2025-06-01T00:00:00+00:00", None, "official")
RETIRED_ENTRY = _entry(RETIRED, "retired", "2024-06-01T00:00:00+00:00", "2025-06-01T00:00:00+00:00")
# The revoked key, as a stale or careless trust list might still list it.
REVOKED_ENTRY = _entry(REVOKED, "active", "2025-06-01T00:00:00+00:00", None)
KEYS = keys_document([ACTIVE_ENTRY, OFFICIAL_ENTRY, RETIRED_ENTRY])
# A trust list from before document classes: one key, listed without a class.
UNCLASSIFIED_KEYS = keys_document([_without_class(ACTIVE_ENTRY), RETIRED_ENTRY])
NO_REVOCATIONS = revoked_document([], [])

OFFICIAL = CertificateClaims(
    certificate_id=bytes.fromhex("0a1b2c3d4e5f60718293"),
    document_type="A1",
    kind="official",
    legislation_state="DE",
    work_states=("FR", "BE"),
    family_name="Müller-Lüdenscheidt",
    given_names="Jürgen Heinrich",
    family_name_ascii="Mueller-Luedenscheidt",
    given_names_ascii="Juergen Heinrich",
    birth_date=dt.date(1979, 11, 3),
    valid_from=dt.date(2026, 1, 1),
    valid_to=dt.date(2026, 12, 31),
    issuer="A1W",
    issuing_institution="DE:DRV-BUND",
)
PROVISIONAL = CertificateClaims(
    certificate_id=bytes.fromhex("f0e1d2c3b4a596877869"),
    document_type="CoC",
    kind="provisional",
    legislation_state="GR",
    work_states=("CA",),
    family_name="Παπαδοπούλου",
    given_names="Ελένη",
    family_name_ascii="Papadopoulou",
    given_names_ascii="Eleni",
    birth_date=dt.date(1968, 1, 31),
    valid_from=dt.date(2026, 2, 1),
    valid_to=dt.date(2026, 7, 31),
    issuer="A1W",
    issuing_institution=None,
)
PLAIN = CertificateClaims(
    certificate_id=bytes.fromhex("00112233445566778899"),
    document_type="A1",
    kind="provisional",
    legislation_state="FR",
    work_states=("DE", "BE", "NL"),
    family_name="Dupont",
    given_names="Marie Claire",
    family_name_ascii=None,
    given_names_ascii=None,
    birth_date=dt.date(1990, 6, 15),
    valid_from=dt.date(2026, 1, 15),
    valid_to=dt.date(2026, 4, 14),
    issuer="A1W",
    issuing_institution=None,
)


@dataclass
class Case:
    name: str
    description: str
    qr_text: str
    expected_status: str
    expected_kid: str | None
    claims: CertificateClaims | None = None  # the claims expected back (signature holds)
    keys: dict | None = None
    revoked: dict | None = None
    at: dt.datetime = DEFAULT_AT

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "description": self.description,
            "qr_text": self.qr_text,
            "keys": self.keys if self.keys is not None else KEYS,
            "revoked": self.revoked if self.revoked is not None else NO_REVOCATIONS,
            "at": format_utc(self.at),
            "expected_status": self.expected_status,
            "expected_kid": self.expected_kid,
        }
        if self.claims is not None:
            doc["expected_claims"] = self.claims.to_json()
        return doc


def token(claims: CertificateClaims, key: ec.EllipticCurvePrivateKey = ACTIVE) -> bytes:
    return sign_certificate(claims, key, deterministic=True)


def text(cose: bytes) -> str:
    return qr_text(cose, BASE_URL)


def signed_raw_payload(payload: bytes, key: ec.EllipticCurvePrivateKey = ACTIVE) -> str:
    """A correctly signed envelope around payload bytes the encoder would never produce."""
    protected = protected_header(kid_for_public_key(key.public_key()))
    signature = es256_sign(key, protected, payload, deterministic=True)
    return text(build_sign1(protected, payload, signature))


def flip_bit(data: bytes, index: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[index] ^= 1 << bit
    return bytes(out)


def build_cases() -> list[Case]:
    official = token(OFFICIAL, ACTIVE_OFFICIAL)
    official_by_provisional_key = text(token(OFFICIAL, ACTIVE))
    official_kid = kid_hex(ACTIVE_OFFICIAL)
    plain = token(PLAIN)
    plain_text = text(plain)
    plain_b32 = plain_text.rsplit("/V/", 1)[1]
    active_kid = kid_hex(ACTIVE)
    protected = protected_header(kid_for_public_key(ACTIVE.public_key()))
    payload = encode_payload(PLAIN)
    # Offsets inside the PLAIN token: d2 84 | 4d protected(13) | a0 | 58 len payload | 58 40 sig
    payload_start = 2 + 1 + len(protected) + 1 + 2
    signature_start = len(plain) - 64
    padding = -len(plain_b32) % 8
    assert padding, "the PLAIN token needs padding for the base32_padding case"
    not_shortest = payload.replace(b"\x01\x00\x02\x00", b"\x01\x18\x00\x02\x00", 1)
    assert not_shortest != payload

    cases = [
        Case(
            "valid_official",
            "Official A1 with issuing institution and ASCII transliterations, signed by the "
            "official-class key.",
            text(official),
            "valid",
            official_kid,
            OFFICIAL,
        ),
        Case(
            "kind_mismatch_official_by_provisional_key",
            "Official A1, correctly signed, but by a provisional-class key: that key never "
            "vouches for an official record.",
            official_by_provisional_key,
            "kind_mismatch",
            active_kid,
        ),
        Case(
            "kind_mismatch_provisional_by_official_key",
            "Provisional CoC, correctly signed, but by the official-class key.",
            text(token(PROVISIONAL, ACTIVE_OFFICIAL)),
            "kind_mismatch",
            official_kid,
        ),
        Case(
            "kind_mismatch_before_time_window",
            "Official A1 by a provisional-class key, checked after it expired: the class is "
            "checked first, so no claims are shown.",
            official_by_provisional_key,
            "kind_mismatch",
            active_kid,
            at=expires_at(OFFICIAL.valid_to) + dt.timedelta(days=1),
        ),
        Case(
            "kind_mismatch_unclassified_key",
            "Official A1 signed by a key that an older keys.json lists without a document "
            "class: such a key is provisional.",
            official_by_provisional_key,
            "kind_mismatch",
            active_kid,
            keys=UNCLASSIFIED_KEYS,
        ),
        Case(
            "valid_provisional_unclassified_key",
            "Provisional A1 signed by a key that an older keys.json lists without a document "
            "class: it verifies.",
            plain_text,
            "valid",
            active_kid,
            PLAIN,
            keys=UNCLASSIFIED_KEYS,
        ),
        Case(
            "valid_provisional",
            "Provisional CoC, Greek names with transliteration, one work state.",
            text(token(PROVISIONAL)),
            "valid",
            active_kid,
            PROVISIONAL,
        ),
        Case(
            "valid_lower_case_url",
            "The whole URL lower-cased (as some scanners do) still verifies.",
            plain_text.lower(),
            "valid",
            active_kid,
            PLAIN,
        ),
        Case(
            "valid_base32_only",
            "The Base32 token alone, without the URL.",
            plain_b32,
            "valid",
            active_kid,
            PLAIN,
        ),
        Case(
            "valid_retired_key",
            "Signed by a retired key, still in the trust list: verifies.",
            text(token(PLAIN, RETIRED)),
            "valid",
            kid_hex(RETIRED),
            PLAIN,
        ),
        Case(
            "valid_clock_skew_before_nbf",
            "30 s before nbf: inside the 60 s skew tolerance.",
            plain_text,
            "valid",
            active_kid,
            PLAIN,
            at=not_before(PLAIN.valid_from) - dt.timedelta(seconds=30),
        ),
        Case(
            "valid_clock_skew_after_exp",
            "30 s after exp: inside the 60 s skew tolerance.",
            plain_text,
            "valid",
            active_kid,
            PLAIN,
            at=expires_at(PLAIN.valid_to) + dt.timedelta(seconds=30),
        ),
        Case(
            "valid_first_day_utc_plus_14",
            "00:00 on the first day of validity in UTC+14.",
            plain_text,
            "valid",
            active_kid,
            PLAIN,
            at=dt.datetime.combine(
                PLAIN.valid_from, dt.time(0, 0), tzinfo=dt.timezone(dt.timedelta(hours=14))
            ),
        ),
        Case(
            "valid_last_day_utc_minus_12",
            "23:59 on the last day of validity in UTC-12.",
            plain_text,
            "valid",
            active_kid,
            PLAIN,
            at=dt.datetime.combine(
                PLAIN.valid_to, dt.time(23, 59), tzinfo=dt.timezone(dt.timedelta(hours=-12))
            ),
        ),
        Case(
            "not_yet_valid",
            "120 s before nbf: beyond the skew tolerance.",
            plain_text,
            "not_yet_valid",
            active_kid,
            PLAIN,
            at=not_before(PLAIN.valid_from) - dt.timedelta(seconds=120),
        ),
        Case(
            "expired",
            "120 s after exp: beyond the skew tolerance.",
            plain_text,
            "expired",
            active_kid,
            PLAIN,
            at=expires_at(PLAIN.valid_to) + dt.timedelta(seconds=120),
        ),
        Case(
            "revoked_certificate",
            "The certificate id is in revoked.json.",
            plain_text,
            "revoked",
            active_kid,
            PLAIN,
            revoked=revoked_document([certificate_id_text(PLAIN.certificate_id)], []),
        ),
        Case(
            "revoked_key",
            "The kid is in revoked.json although keys.json still lists the key.",
            text(token(PLAIN, REVOKED)),
            "key_revoked",
            kid_hex(REVOKED),
            keys=keys_document([ACTIVE_ENTRY, RETIRED_ENTRY, REVOKED_ENTRY]),
            revoked=revoked_document([], [kid_hex(REVOKED)]),
        ),
        Case(
            "revoked_key_unlisted",
            "The kid is in revoked.json and no longer in keys.json.",
            text(token(PLAIN, REVOKED)),
            "key_revoked",
            kid_hex(REVOKED),
            revoked=revoked_document([], [kid_hex(REVOKED)]),
        ),
        Case(
            "unknown_kid",
            "Signed by a key that is not in the trust list.",
            text(token(PLAIN, UNKNOWN)),
            "unknown_key",
            kid_hex(UNKNOWN),
        ),
        Case(
            "bad_signature",
            "A genuine signature by the right key, but over another payload.",
            text(build_sign1(protected, payload, official[-64:])),
            "bad_signature",
            active_kid,
        ),
        Case(
            "tampered_protected_header",
            "kid in the protected header swapped to another trusted key's kid.",
            text(plain.replace(protected, protected_header(bytes.fromhex(kid_hex(RETIRED))))),
            "bad_signature",
            kid_hex(RETIRED),
        ),
        Case(
            "tampered_payload",
            "One bit flipped in the family name inside the payload.",
            text(flip_bit(plain, payload_start + payload.index(b"Dupont"))),
            "bad_signature",
            active_kid,
        ),
        Case(
            "tampered_signature",
            "One bit flipped in the signature.",
            text(flip_bit(plain, signature_start + 40)),
            "bad_signature",
            active_kid,
        ),
        Case(
            "tampered_cbor_structure",
            "COSE array header 0x84 changed to 0x85 (array of 5).",
            text(b"\xd2\x85" + plain[2:]),
            "malformed",
            None,
        ),
        Case(
            "wrong_algorithm_es384",
            "alg -35 (ES384) with a real P-384 signature (96 bytes) naming the active kid.",
            _es384_text(payload),
            "malformed",
            None,
        ),
        Case(
            "wrong_algorithm_eddsa",
            "alg -8 (EdDSA) with a real Ed25519 signature (64 bytes) naming the active kid.",
            _eddsa_text(payload),
            "malformed",
            active_kid,
        ),
        Case(
            "wrong_algorithm_hs256",
            "alg 5 (HMAC-SHA256) keyed with the active key's DER public key.",
            _hs256_text(payload),
            "malformed",
            None,
        ),
        Case(
            "algorithm_none",
            "Unsigned: no alg in the protected header and an empty signature.",
            _unsigned_text(payload),
            "malformed",
            None,
        ),
        Case(
            "missing_kid",
            "Protected header {1: -7} without a kid, correctly signed.",
            _missing_kid_text(payload),
            "malformed",
            None,
        ),
        Case(
            "kid_in_unprotected_header",
            "Protected header {1: -7}; the kid only in the unprotected header.",
            _unprotected_kid_text(payload),
            "malformed",
            None,
        ),
        Case(
            "truncated",
            "The last 8 Base32 characters (5 bytes) cut off.",
            plain_text[:-8],
            "malformed",
            None,
        ),
        Case(
            "non_base32",
            "A character outside the Base32 alphabet ('1').",
            plain_text[:-20] + "1" + plain_text[-19:],
            "malformed",
            None,
        ),
        Case(
            "base32_padding",
            "Base32 with '=' padding.",
            plain_text + "=" * padding,
            "malformed",
            None,
        ),
        Case(
            "base32_trailing_bits",
            "Non-zero bits after the last byte: lenient decoders read the same bytes.",
            _trailing_bits_text(plain_text, len(plain)),
            "malformed",
            None,
        ),
        Case(
            "trailing_bytes",
            "One extra byte (0x00) after the COSE_Sign1 item.",
            text(plain + b"\x00"),
            "malformed",
            None,
        ),
        Case(
            "payload_nbf_mismatch",
            "Correctly signed, but nbf is one hour later than valid_from implies.",
            signed_raw_payload(_payload_with(PLAIN, nbf_shift=3600)),
            "malformed",
            active_kid,
        ),
        Case(
            "payload_not_deterministic",
            "Correctly signed, but an integer is not in its shortest form (0 as 0x18 0x00).",
            signed_raw_payload(not_shortest),
            "malformed",
            active_kid,
        ),
        Case(
            "payload_unknown_claim",
            "Correctly signed, but the private claims have an unknown key 13.",
            signed_raw_payload(_payload_with(PLAIN, extra={13: "1234567890"})),
            "malformed",
            active_kid,
        ),
    ]
    return cases


def _payload_with(
    claims: CertificateClaims, nbf_shift: int = 0, extra: dict | None = None
) -> bytes:
    cwt = cbor2.loads(encode_payload(claims))
    cwt[5] += nbf_shift
    cwt[-70001].update(extra or {})
    return cbor2.dumps(cwt, canonical=True)


def _es384_text(payload: bytes) -> str:
    protected = cbor2.dumps({1: -35, 4: kid_for_public_key(ACTIVE.public_key())})
    der = P384.sign(
        sig_structure(protected, payload), ec.ECDSA(hashes.SHA384(), deterministic_signing=True)
    )
    r, s = decode_dss_signature(der)
    return text(build_sign1(protected, payload, r.to_bytes(48, "big") + s.to_bytes(48, "big")))


def _eddsa_text(payload: bytes) -> str:
    protected = cbor2.dumps({1: -8, 4: kid_for_public_key(ACTIVE.public_key())})
    return text(build_sign1(protected, payload, ED25519.sign(sig_structure(protected, payload))))


def _hs256_text(payload: bytes) -> str:
    protected = cbor2.dumps({1: 5, 4: kid_for_public_key(ACTIVE.public_key())})
    hmac_key = ACTIVE.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    tag = hmac.new(hmac_key, sig_structure(protected, payload), hashlib.sha256).digest()
    return text(build_sign1(protected, payload, tag))


def _unsigned_text(payload: bytes) -> str:
    protected = cbor2.dumps({4: kid_for_public_key(ACTIVE.public_key())})
    return text(build_sign1(protected, payload, b""))


def _missing_kid_text(payload: bytes) -> str:
    protected = cbor2.dumps({1: -7})
    return text(
        build_sign1(protected, payload, es256_sign(ACTIVE, protected, payload, deterministic=True))
    )


def _unprotected_kid_text(payload: bytes) -> str:
    protected = cbor2.dumps({1: -7})
    unprotected = cbor2.dumps({4: kid_for_public_key(ACTIVE.public_key())})
    signature = es256_sign(ACTIVE, protected, payload, deterministic=True)
    return text(build_sign1(protected, payload, signature, unprotected))


def _trailing_bits_text(full_text: str, byte_length: int) -> str:
    spare_bits = len(full_text.rsplit("/V/", 1)[1]) * 5 - byte_length * 8
    assert spare_bits > 0, "this token length has no spare bits to set"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    last = alphabet.index(full_text[-1]) | 1  # set the lowest (spare) bit of the last character
    return full_text[:-1] + alphabet[last]


def check(case: Case) -> None:
    """The reference verifier must agree with what the case states by hand."""
    doc = case.document()
    result = verify_qr_text(
        doc["qr_text"],
        KeySet.from_document(doc["keys"]),
        RevocationSet.from_document(doc["revoked"]),
        dt.datetime.fromisoformat(doc["at"]),
    ).to_json()
    expected = {"status": case.expected_status, "kid": case.expected_kid}
    if case.claims is not None:
        expected["claims"] = doc["expected_claims"]
    if result != expected:
        raise SystemExit(f"{case.name}: verifier says {result}, the case expects {expected}")


def main() -> int:
    cases = build_cases()
    names = [case.name for case in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    for case in cases:
        check(case)
    for case in cases:
        path = HERE / f"{case.name}.json"
        path.write_text(json.dumps(case.document(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {len(cases)} vectors to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
