"""verifier: algorithm confusion, strict parsing, clock window, revocation, order of checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import replace

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.helpers import vectors_module
from verifier import (
    KeySet,
    RevocationSet,
    certificate_id_text,
    encode_payload,
    expires_at,
    kid_for_public_key,
    not_before,
    qr_text,
    sign_certificate,
    verify_qr_text,
)
from verifier.cose import bstr_header, build_sign1, es256_sign, protected_header, sig_structure
from verifier.ids import b32encode

mv = vectors_module()
KEY = mv.ACTIVE
OTHER = mv.RETIRED
KID = kid_for_public_key(KEY.public_key())
KEYS = KeySet.from_public_keys([KEY.public_key(), OTHER.public_key()])
CLAIMS = mv.PLAIN
PAYLOAD = encode_payload(CLAIMS)
AT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
GOOD = sign_certificate(CLAIMS, KEY)
BASE_URL = "https://verify.a1-wallet.example"


def verify(cose_or_text: bytes | str, **kwargs):
    text = cose_or_text if isinstance(cose_or_text, str) else b32encode(cose_or_text)
    kwargs.setdefault("at", AT)
    return verify_qr_text(text, kwargs.pop("keys", KEYS), **kwargs)


def signed_envelope(protected: bytes, payload: bytes = PAYLOAD, unprotected: bytes = b"\xa0"):
    """A genuine ES256 signature by KEY over whatever protected header and payload."""
    signature = es256_sign(KEY, protected, payload)
    return build_sign1(protected, payload, signature, unprotected)


def signed_payload(payload: bytes) -> bytes:
    return signed_envelope(protected_header(KID), payload)


def cwt_with(**changes) -> dict:
    cwt = cbor2.loads(PAYLOAD)
    private = cwt[-70001]
    for key, value in changes.items():
        if key.startswith("p"):
            private[int(key[1:])] = value
        else:
            cwt[int(key[1:])] = value
    return cwt


def cwt_without_private(label: int) -> dict:
    cwt = cbor2.loads(PAYLOAD)
    del cwt[-70001][label]
    return cwt


def test_the_baseline_token_is_valid() -> None:
    assert verify(GOOD).status == "valid"


# --- algorithm confusion -------------------------------------------------------------------


def _hmac_tag(protected: bytes, digest, key_bytes: bytes) -> bytes:
    return hmac.new(key_bytes, sig_structure(protected, PAYLOAD), digest).digest()


DER_PUBLIC = KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)
RAW_POINT = KEY.public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
)


def _alg_none_cases() -> dict[str, bytes]:
    no_alg = cbor2.dumps({4: KID})
    text_none = cbor2.dumps({1: "none", 4: KID})
    return {
        "no alg, empty signature": build_sign1(no_alg, PAYLOAD, b""),
        "no alg, 64 zero bytes": build_sign1(no_alg, PAYLOAD, bytes(64)),
        "alg 'none', empty signature": build_sign1(text_none, PAYLOAD, b""),
        "alg 0, 64 zero bytes": build_sign1(cbor2.dumps({1: 0, 4: KID}), PAYLOAD, bytes(64)),
        "no protected header at all": build_sign1(b"", PAYLOAD, bytes(64)),
    }


def _hmac_cases() -> dict[str, bytes]:
    hs256 = cbor2.dumps({1: 5, 4: KID})
    hs512 = cbor2.dumps({1: 7, 4: KID})
    es256_label = protected_header(KID)
    return {
        "HS256 keyed with DER public key": build_sign1(
            hs256, PAYLOAD, _hmac_tag(hs256, hashlib.sha256, DER_PUBLIC)
        ),
        "HS256 keyed with the raw point": build_sign1(
            hs256, PAYLOAD, _hmac_tag(hs256, hashlib.sha256, RAW_POINT)
        ),
        # HS512 tags are 64 bytes, the length of an ES256 signature.
        "HS512 keyed with DER public key": build_sign1(
            hs512, PAYLOAD, _hmac_tag(hs512, hashlib.sha512, DER_PUBLIC)
        ),
        "HS256 tag doubled under alg ES256": build_sign1(
            es256_label, PAYLOAD, _hmac_tag(es256_label, hashlib.sha256, DER_PUBLIC) * 2
        ),
    }


def _other_signature_cases() -> dict[str, bytes]:
    p384 = ec.generate_private_key(ec.SECP384R1())
    es384 = cbor2.dumps({1: -35, 4: KID})
    r, s = decode_dss_signature(p384.sign(sig_structure(es384, PAYLOAD), ec.ECDSA(hashes.SHA384())))
    ed = ed25519.Ed25519PrivateKey.generate()
    eddsa = cbor2.dumps({1: -8, 4: KID})
    es256_label = protected_header(KID)
    return {
        "ES384 with a real P-384 signature": build_sign1(
            es384, PAYLOAD, r.to_bytes(48, "big") + s.to_bytes(48, "big")
        ),
        "EdDSA with a real Ed25519 signature": build_sign1(
            eddsa, PAYLOAD, ed.sign(sig_structure(eddsa, PAYLOAD))
        ),
        "Ed25519 signature under alg ES256": build_sign1(
            es256_label, PAYLOAD, ed.sign(sig_structure(es256_label, PAYLOAD))
        ),
        "alg as text 'ES256'": signed_envelope(cbor2.dumps({1: "ES256", 4: KID})),
    }


CONFUSION = {**_alg_none_cases(), **_hmac_cases(), **_other_signature_cases()}


@pytest.mark.parametrize("case", sorted(CONFUSION))
def test_algorithm_confusion_is_rejected(case: str) -> None:
    result = verify(CONFUSION[case])
    assert result.status != "valid"
    assert result.claims is None
    # A token labelled ES256 fails on its signature; every other label is malformed.
    expected = "bad_signature" if "under alg ES256" in case else "malformed"
    assert result.status == expected


def test_other_key_types_cannot_enter_a_key_set() -> None:
    with pytest.raises(ValueError):
        KeySet.from_public_keys([ec.generate_private_key(ec.SECP384R1()).public_key()])
    with pytest.raises(ValueError):
        KeySet.from_public_keys([ed25519.Ed25519PrivateKey.generate().public_key()])


# --- strict envelope -----------------------------------------------------------------------


def _long_head(cose: bytes) -> bytes:
    # payload bstr head 58 LL rewritten as 59 00 LL: the same CBOR value, not the shortest form.
    start = 2 + 1 + 13 + 1
    assert cose[start] == 0x58
    return cose[:start] + b"\x59\x00" + cose[start + 1 :]


def _indefinite_array(cose: bytes) -> bytes:
    return b"\xd2\x9f" + cose[2:] + b"\xff"


def _with_payload_item(item: bytes) -> bytes:
    """GOOD with its payload bstr replaced by another CBOR item."""
    protected = protected_header(KID)
    return b"\xd2\x84" + bstr_header(13) + protected + b"\xa0" + item + b"\x58\x40" + GOOD[-64:]


STRUCTURE = {
    "trailing zero byte": GOOD + b"\x00",
    "trailing CBOR item": GOOD + cbor2.dumps(1),
    "truncated by one byte": GOOD[:-1],
    "empty": b"",
    "untagged array": GOOD[1:],
    "tag 98 (COSE_Sign)": b"\xd8\x62" + GOOD[1:],
    "tag 17 (COSE_Mac0)": b"\xd1" + GOOD[1:],
    "array of 3": b"\xd2\x83" + GOOD[2:],
    "array of 5": b"\xd2\x85" + GOOD[2:] + b"\x40",
    "indefinite-length array": _indefinite_array(GOOD),
    "payload length not in shortest form": _long_head(GOOD),
    "protected length not in shortest form": b"\xd2\x84\x58\x0d" + GOOD[3:],
    "signature of 63 bytes": build_sign1(protected_header(KID), PAYLOAD, GOOD[-63:]),
    "signature of 65 bytes": build_sign1(protected_header(KID), PAYLOAD, GOOD[-64:] + b"\x00"),
    "unprotected header with a content type": build_sign1(
        protected_header(KID), PAYLOAD, GOOD[-64:], cbor2.dumps({3: 61})
    ),
    "unprotected header repeating the kid": build_sign1(
        protected_header(KID), PAYLOAD, GOOD[-64:], cbor2.dumps({4: KID})
    ),
    "unprotected header as an array": build_sign1(
        protected_header(KID), PAYLOAD, GOOD[-64:], b"\x80"
    ),
    "payload as text": _with_payload_item(b"\x78" + bytes([len(PAYLOAD)]) + PAYLOAD),
    "payload detached (nil)": _with_payload_item(b"\xf6"),
    "payload as a map": _with_payload_item(PAYLOAD),
}


@pytest.mark.parametrize("case", sorted(STRUCTURE))
def test_envelope_must_have_the_one_a1w1_shape(case: str) -> None:
    result = verify(STRUCTURE[case])
    assert result.status == "malformed"
    assert result.claims is None


PROTECTED = {
    "extra signed parameter (content type)": cbor2.dumps({1: -7, 3: 61, 4: KID}),
    "keys in the other order": b"\xa2\x04\x48" + KID + b"\x01\x26",
    "kid of 7 bytes": cbor2.dumps({1: -7, 4: KID[:7]}),
    "kid of 9 bytes": cbor2.dumps({1: -7, 4: KID + b"\x00"}),
    "kid as text": cbor2.dumps({1: -7, 4: KID.hex()}),
    "alg as a bool key": b"\xa2\xf5\x26\x04\x48" + KID,
    "protected header is an array": cbor2.dumps([-7, KID]),
    "protected header with trailing bytes": protected_header(KID) + b"\x00",
    "missing kid": cbor2.dumps({1: -7}),
    "ES256 as -7 in a longer form": b"\xa2\x01\x38\x06\x04\x48" + KID,
}


@pytest.mark.parametrize("case", sorted(PROTECTED))
def test_protected_header_must_be_exactly_alg_es256_and_kid(case: str) -> None:
    # Correctly signed over the odd header, so only the header rule can refuse them.
    result = verify(signed_envelope(PROTECTED[case]))
    assert result.status == "malformed"
    assert result.claims is None


def test_kid_is_reported_for_a_refused_header_that_names_one() -> None:
    reordered = verify(signed_envelope(PROTECTED["keys in the other order"]))
    assert (reordered.status, reordered.kid) == ("malformed", KID.hex())
    missing = verify(signed_envelope(PROTECTED["missing kid"]))
    assert (missing.status, missing.kid) == ("malformed", None)


# --- strict text -----------------------------------------------------------------------------

GOOD_B32 = b32encode(GOOD)


@pytest.mark.parametrize(
    "text",
    [
        GOOD_B32 + "=" * (-len(GOOD_B32) % 8 or 8),
        GOOD_B32 + " ",
        " " + GOOD_B32,
        GOOD_B32[:10] + "\n" + GOOD_B32[10:],
        GOOD_B32[:10] + "0" + GOOD_B32[11:],  # 0, 1, 8, 9 are not RFC 4648 Base32
        GOOD_B32[:10] + "8" + GOOD_B32[11:],
        GOOD_B32[:10] + "ı" + GOOD_B32[11:],  # dotless i: upper() would turn it into I
        GOOD_B32[:10] + "ß" + GOOD_B32[11:],  # upper() turns it into SS
        GOOD_B32[:-1],  # a length no byte string encodes to
        f"{BASE_URL.upper()}/V/{GOOD_B32}?utm=1",
        f"{BASE_URL.upper()}/V/{GOOD_B32}#x",
        f"{BASE_URL.upper()}/X/{GOOD_B32}",
        f"{BASE_URL.upper()}/V/",
        "",
        "/V/",
        "A" * 5000,
        "A" * 4296,
    ],
)
def test_text_must_be_canonical_base32(text: str) -> None:
    assert verify(text).status == "malformed"


def test_non_ascii_letters_that_upper_case_to_base32_are_refused() -> None:
    # "ı".upper() == "I": a decoder that upper-cases before checking would read the same token.
    assert GOOD_B32.startswith("2KCE3I")  # fixed bytes d2 84 4d a2 01 26 ... begin every token
    spoofed = GOOD_B32.replace("I", "ı", 1)
    assert spoofed.upper() == GOOD_B32
    assert verify(spoofed).status == "malformed"
    assert verify(f"{BASE_URL}/V/{spoofed}").status == "malformed"


def test_nonzero_trailing_bits_are_refused() -> None:
    # Lenient decoders drop the spare bits and read the very same bytes: we must not.
    assert len(GOOD_B32) * 5 - len(GOOD) * 8 > 0, "this token length has no spare bits"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    changed = GOOD_B32[:-1] + alphabet[alphabet.index(GOOD_B32[-1]) ^ 1]
    assert verify(changed).status == "malformed"


@pytest.mark.parametrize(
    "text",
    [
        f"{BASE_URL.upper()}/V/{GOOD_B32}",
        f"{BASE_URL}/v/{GOOD_B32.lower()}",
        f"{BASE_URL}/V/{GOOD_B32}",
        f"http://localhost:5000/v/{GOOD_B32}",
        f"HTTPS://X.EXAMPLE/V/AAAA/V/{GOOD_B32}",  # the last /V/ counts
        GOOD_B32,
        GOOD_B32.lower(),
    ],
)
def test_accepted_spellings_of_the_same_token(text: str) -> None:
    assert verify(text).status == "valid"


def test_text_must_be_a_string_for_no_exception() -> None:
    assert verify_qr_text(None, KEYS, at=AT).status == "malformed"  # type: ignore[arg-type]


# --- strict payload (correctly signed: only the claim rules can refuse these) ----------------

BAD_PAYLOADS = {
    "nbf one second late": cbor2.dumps(cwt_with(k5=cbor2.loads(PAYLOAD)[5] + 1), canonical=True),
    "exp one hour early": cbor2.dumps(cwt_with(k4=cbor2.loads(PAYLOAD)[4] - 3600), canonical=True),
    "nbf as float": cbor2.dumps(cwt_with(k5=float(cbor2.loads(PAYLOAD)[5])), canonical=True),
    "extra CWT claim iat": cbor2.dumps(cwt_with(k6=1767225600), canonical=True),
    "issuer as bytes": cbor2.dumps(cwt_with(k1=b"A1W"), canonical=True),
    "unknown private claim 13": cbor2.dumps(cwt_with(p13="756-1234-5678-97"), canonical=True),
    "document type code 2": cbor2.dumps(cwt_with(p1=2), canonical=True),
    "kind as bool": cbor2.dumps(cwt_with(p2=False), canonical=True),
    "odd work states": cbor2.dumps(cwt_with(p4="DEB"), canonical=True),
    "repeated work state": cbor2.dumps(cwt_with(p4="DEDE"), canonical=True),
    "lower-case work state": cbor2.dumps(cwt_with(p4="de"), canonical=True),
    "work states as array": cbor2.dumps(cwt_with(p4=["DE", "BE"]), canonical=True),
    "certificate id of 9 bytes": cbor2.dumps(cwt_with(p0=bytes(9)), canonical=True),
    "ascii name equal to the name": cbor2.dumps(cwt_with(p7="Dupont"), canonical=True),
    "institution on a provisional": cbor2.dumps(cwt_with(p12="FR:URSSAF"), canonical=True),
    "valid_to before valid_from": cbor2.dumps(
        # exp kept consistent with the earlier valid_to, so only the date order is wrong
        cwt_with(
            p11=cbor2.loads(PAYLOAD)[-70001][10] - 1, k4=cbor2.loads(PAYLOAD)[5] + 50400 + 43200
        ),
        canonical=True,
    ),
    "birth date as a tagged date": cbor2.dumps(
        cwt_with(p9=cbor2.CBORTag(100, cbor2.loads(PAYLOAD)[-70001][9])), canonical=True
    ),
    "birth date out of range": cbor2.dumps(cwt_with(p9=-(10**6)), canonical=True),
    "control character in a name": cbor2.dumps(cwt_with(p5="Du\x00pont"), canonical=True),
    "missing given names": cbor2.dumps(cwt_without_private(6), canonical=True),
    "keys out of order": PAYLOAD.replace(b"\x01\x00\x02\x00", b"\x02\x00\x01\x00", 1),
    "int not in shortest form": PAYLOAD.replace(b"\x01\x00\x02\x00", b"\x01\x18\x00\x02\x00", 1),
    "int as a bignum": PAYLOAD.replace(b"\x01\x00\x02\x00", b"\x01\xc2\x40\x02\x00", 1),
    "trailing byte": PAYLOAD + b"\x00",
    "payload is an array": cbor2.dumps([1, 2, 3]),
    "payload is empty": b"",
    "private claims as an array": cbor2.dumps({**cbor2.loads(PAYLOAD), -70001: []}, canonical=True),
    "indefinite-length private claims": PAYLOAD.replace(
        b"\x3a\x00\x01\x11\x70\xaa", b"\x3a\x00\x01\x11\x70\xbf", 1
    )
    + b"\xff",
}


def test_bad_payload_fixtures_differ_from_the_good_one() -> None:
    assert all(payload != PAYLOAD for payload in BAD_PAYLOADS.values())


@pytest.mark.parametrize("case", sorted(BAD_PAYLOADS))
def test_signed_payload_breaking_a_rule_is_malformed(case: str) -> None:
    result = verify(signed_payload(BAD_PAYLOADS[case]))
    assert (result.status, result.kid, result.claims) == ("malformed", KID.hex(), None)


# --- clock -----------------------------------------------------------------------------------

NBF = not_before(CLAIMS.valid_from)
EXP = expires_at(CLAIMS.valid_to)
PLUS_14 = dt.timezone(dt.timedelta(hours=14))
MINUS_12 = dt.timezone(dt.timedelta(hours=-12))


@pytest.mark.parametrize(
    ("at", "status"),
    [
        (NBF - dt.timedelta(seconds=120), "not_yet_valid"),
        (NBF - dt.timedelta(seconds=61), "not_yet_valid"),
        (NBF - dt.timedelta(seconds=60), "valid"),
        (NBF - dt.timedelta(seconds=30), "valid"),
        (NBF, "valid"),
        (EXP - dt.timedelta(seconds=1), "valid"),
        (EXP + dt.timedelta(seconds=30), "valid"),
        (EXP + dt.timedelta(seconds=59, microseconds=999999), "valid"),
        (EXP + dt.timedelta(seconds=60), "expired"),
        (EXP + dt.timedelta(seconds=120), "expired"),
        # the first day starts at 00:00 in UTC+14 (the earliest time zone) ...
        (dt.datetime.combine(CLAIMS.valid_from, dt.time(0, 0), tzinfo=PLUS_14), "valid"),
        (dt.datetime.combine(CLAIMS.valid_from, dt.time(0, 0), tzinfo=MINUS_12), "valid"),
        (
            dt.datetime.combine(
                CLAIMS.valid_from - dt.timedelta(days=1), dt.time(23, 58), tzinfo=PLUS_14
            ),
            "not_yet_valid",
        ),
        # ... and the last day ends at 24:00 in UTC-12 (the latest)
        (dt.datetime.combine(CLAIMS.valid_to, dt.time(23, 59), tzinfo=MINUS_12), "valid"),
        (dt.datetime.combine(CLAIMS.valid_to, dt.time(23, 59), tzinfo=PLUS_14), "valid"),
        (
            dt.datetime.combine(
                CLAIMS.valid_to + dt.timedelta(days=1), dt.time(0, 2), tzinfo=MINUS_12
            ),
            "expired",
        ),
    ],
)
def test_clock_window(at: dt.datetime, status: str) -> None:
    result = verify(GOOD, at=at)
    assert result.status == status
    assert result.claims == CLAIMS  # the signature holds, so the claims come back either way


def test_time_defaults_to_now() -> None:
    today = dt.datetime.now(dt.UTC).date()
    current = replace(CLAIMS, valid_from=today, valid_to=today + dt.timedelta(days=1))
    future = replace(CLAIMS, valid_from=today + dt.timedelta(days=3), valid_to=dt.date(2199, 1, 1))
    assert verify_qr_text(b32encode(sign_certificate(current, KEY)), KEYS).status == "valid"
    assert verify_qr_text(b32encode(sign_certificate(future, KEY)), KEYS).status == "not_yet_valid"


def test_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        verify_qr_text(GOOD_B32, KEYS, at=dt.datetime(2026, 3, 1, 12))


# --- keys, revocation and the order of the checks --------------------------------------------

REVOKED_KEY = mv.REVOKED
REVOKED_KID = kid_for_public_key(REVOKED_KEY.public_key()).hex()
BY_REVOKED_KEY = sign_certificate(CLAIMS, REVOKED_KEY)


def test_revoked_key_is_refused_even_when_the_trust_list_still_lists_it() -> None:
    keys = KeySet.from_public_keys([KEY.public_key(), REVOKED_KEY.public_key()])
    assert verify(BY_REVOKED_KEY, keys=keys).status == "valid"  # before revocation
    revoked = RevocationSet(kids=frozenset({REVOKED_KID}))
    result = verify(BY_REVOKED_KEY, keys=keys, revoked=revoked)
    assert (result.status, result.kid, result.claims) == ("key_revoked", REVOKED_KID, None)
    # A fresh trust list that still lists it, loaded from a document, changes nothing.
    document = mv.keys_document([mv.ACTIVE_ENTRY, mv.REVOKED_ENTRY])
    fresh = KeySet.from_document(document)
    assert verify(BY_REVOKED_KEY, keys=fresh, revoked=revoked).status == "key_revoked"
    # Nor does a trust list that no longer lists it: not "unknown_key", still "key_revoked".
    assert verify(BY_REVOKED_KEY, revoked=revoked).status == "key_revoked"
    # Upper-case kids in revoked.json are understood too.
    shouting = RevocationSet.from_document(
        {"format": "A1W1", "certificates": [], "keys": [REVOKED_KID.upper()]}
    )
    assert verify(BY_REVOKED_KEY, keys=keys, revoked=shouting).status == "key_revoked"


def test_revoked_key_is_refused_before_its_signature_is_checked() -> None:
    forged = BY_REVOKED_KEY[:-1] + bytes([BY_REVOKED_KEY[-1] ^ 1])
    revoked = RevocationSet(kids=frozenset({REVOKED_KID}))
    assert verify(forged, revoked=revoked).status == "key_revoked"


def test_unknown_key() -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    result = verify(sign_certificate(CLAIMS, stranger))
    assert (result.status, result.claims) == ("unknown_key", None)
    assert result.kid == kid_for_public_key(stranger.public_key()).hex()


def test_kid_pointing_at_another_trusted_key_is_a_bad_signature() -> None:
    swapped = GOOD.replace(
        protected_header(KID), protected_header(kid_for_public_key(OTHER.public_key()))
    )
    assert verify(swapped).status == "bad_signature"


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_any_signature_bit_matters(index: int) -> None:
    position = len(GOOD) - 64 + index
    tampered = GOOD[:position] + bytes([GOOD[position] ^ 0x80]) + GOOD[position + 1 :]
    result = verify(tampered)
    assert (result.status, result.claims) == ("bad_signature", None)


def test_signature_values_out_of_range_are_bad_signatures() -> None:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    for r, s in [(0, 1), (1, 0), (order, 1), (1, order), (2**256 - 1, 2**256 - 1)]:
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        result = verify(build_sign1(protected_header(KID), PAYLOAD, signature))
        assert result.status == "bad_signature"


def test_certificate_revocation() -> None:
    cid = certificate_id_text(CLAIMS.certificate_id)
    assert verify(GOOD, revoked=RevocationSet(frozenset({cid}))).status == "revoked"
    lower = RevocationSet.from_document(
        {"format": "A1W1", "certificates": [cid.lower()], "keys": []}
    )
    result = verify(GOOD, revoked=lower)
    assert (result.status, result.claims) == ("revoked", CLAIMS)
    other = RevocationSet(frozenset({certificate_id_text(bytes(10))}))
    assert verify(GOOD, revoked=other).status == "valid"


def test_time_window_is_checked_before_certificate_revocation() -> None:
    revoked = RevocationSet(frozenset({certificate_id_text(CLAIMS.certificate_id)}))
    assert verify(GOOD, revoked=revoked, at=EXP + dt.timedelta(days=1)).status == "expired"
    assert verify(GOOD, revoked=revoked, at=NBF - dt.timedelta(days=1)).status == "not_yet_valid"


def test_a_url_with_a_trusted_looking_host_proves_nothing() -> None:
    forged = qr_text(sign_certificate(CLAIMS, ec.generate_private_key(ec.SECP256R1())), BASE_URL)
    assert verify(forged).status == "unknown_key"
