"""verifier: encoding, signing and reading back every claim; ids; time bounds; QR text shape."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

import cbor2
import pytest
import qrcode
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.helpers import vectors_module
from verifier import (
    CertificateClaims,
    KeySet,
    certificate_id_text,
    encode_payload,
    expires_at,
    kid_for_public_key,
    kid_text,
    not_before,
    parse_certificate_id,
    qr_text,
    sign_certificate,
    verify_qr_text,
)

mv = vectors_module()
KEY = mv.ACTIVE  # document class provisional
OFFICIAL_KEY = mv.ACTIVE_OFFICIAL  # document class official
KEYS = KeySet.from_document(mv.KEYS)
AT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
BASE_URL = "https://verify.a1-wallet.example/"
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def roundtrip(claims: CertificateClaims, at: dt.datetime = AT) -> CertificateClaims:
    key = OFFICIAL_KEY if claims.kind == "official" else KEY
    text = qr_text(sign_certificate(claims, key), BASE_URL)
    result = verify_qr_text(text, KEYS, at=at)
    assert result.status == "valid", result
    return result.claims


@pytest.mark.parametrize(
    "claims",
    [
        mv.PLAIN,  # ASCII names, no transliteration, three work states
        mv.OFFICIAL,  # official with issuing institution, both transliterations set
        mv.PROVISIONAL,  # CoC, one work state, Greek names
        replace(mv.PLAIN, family_name="王", given_names="秀英", family_name_ascii="Wang"),
        replace(mv.PLAIN, family_name="Nguyễn", family_name_ascii="Nguyen", work_states=("AT",)),
        replace(mv.PLAIN, given_names="Zoë", given_names_ascii="Zoe"),
        replace(mv.PLAIN, family_name="O'Brien-Ó Súilleabháin"),  # non-ASCII, no transliteration
    ],
    ids=["plain", "official", "provisional-coc", "cjk", "one-state", "given-ascii", "no-ascii"],
)
def test_round_trip_returns_exactly_the_signed_claims(claims: CertificateClaims) -> None:
    at = dt.datetime.combine(claims.valid_from, dt.time(12), tzinfo=dt.UTC)
    assert roundtrip(claims, at) == claims


FIELD_CHANGES = {
    "certificate_id": bytes(range(10, 20)),
    "document_type": "CoC",
    "legislation_state": "LU",
    "work_states": ("IT", "ES", "PT"),
    "family_name": "Żółkiewska-Ñúñez",
    "given_names": "Ana María",
    "family_name_ascii": "Zolkiewska-Nunez",
    "given_names_ascii": "Ana Maria",
    "birth_date": dt.date(1955, 12, 31),
    "valid_from": dt.date(2026, 2, 28),
    "valid_to": dt.date(2027, 2, 28),
    "issuer": "A1W-TEST",
}


@pytest.mark.parametrize("field", sorted(FIELD_CHANGES))
def test_every_field_is_carried(field: str) -> None:
    """Changing one field changes what comes back, so no field is dropped or defaulted."""
    changed = replace(mv.PLAIN, **{field: FIELD_CHANGES[field]})
    assert getattr(changed, field) != getattr(mv.PLAIN, field)
    at = dt.datetime.combine(changed.valid_from, dt.time(12), tzinfo=dt.UTC)
    back = roundtrip(changed, at)
    assert getattr(back, field) == FIELD_CHANGES[field]
    assert back == changed


def test_kind_and_issuing_institution_are_carried() -> None:
    official = replace(mv.PLAIN, kind="official", issuing_institution="FR:URSSAF-IDF")
    back = roundtrip(official)
    assert (back.kind, back.issuing_institution) == ("official", "FR:URSSAF-IDF")
    assert roundtrip(mv.PLAIN).kind == "provisional"


@pytest.mark.parametrize(
    ("claims", "key"),
    [(mv.OFFICIAL, KEY), (mv.PLAIN, OFFICIAL_KEY)],
    ids=["official-by-provisional-key", "provisional-by-official-key"],
)
def test_a_key_only_vouches_for_its_own_document_class(claims, key) -> None:
    at = dt.datetime.combine(claims.valid_from, dt.time(12), tzinfo=dt.UTC)
    result = verify_qr_text(qr_text(sign_certificate(claims, key), BASE_URL), KEYS, at=at)
    # The signature holds, yet nothing of what it signed is shown.
    assert result.to_json() == {
        "status": "kind_mismatch",
        "kid": kid_for_public_key(key.public_key()).hex(),
    }


def test_claims_json_shape() -> None:
    token = sign_certificate(mv.OFFICIAL, OFFICIAL_KEY)
    result = verify_qr_text(qr_text(token, BASE_URL), KEYS, at=AT)
    assert result.to_json() == {
        "status": "valid",
        "kid": kid_for_public_key(OFFICIAL_KEY.public_key()).hex(),
        "claims": {
            "certificate_id": certificate_id_text(mv.OFFICIAL.certificate_id),
            "document_type": "A1",
            "kind": "official",
            "legislation_state": "DE",
            "work_states": ["FR", "BE"],
            "family_name": "Müller-Lüdenscheidt",
            "given_names": "Jürgen Heinrich",
            "family_name_ascii": "Mueller-Luedenscheidt",
            "given_names_ascii": "Juergen Heinrich",
            "birth_date": "1979-11-03",
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
            "issuer": "A1W",
            "issuing_institution": "DE:DRV-BUND",
        },
    }


def test_payload_layout_is_the_documented_one() -> None:
    """FORMAT.md §3, checked with a general CBOR decoder rather than our own reader."""
    payload = encode_payload(mv.OFFICIAL)
    assert cbor2.loads(payload) == {
        1: "A1W",
        4: int(dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC).timestamp()),
        5: int(dt.datetime(2025, 12, 31, 10, tzinfo=dt.UTC).timestamp()),
        -70001: {
            0: bytes.fromhex("0a1b2c3d4e5f60718293"),
            1: 0,
            2: 1,
            3: "DE",
            4: "FRBE",
            5: "Müller-Lüdenscheidt",
            6: "Jürgen Heinrich",
            7: "Mueller-Luedenscheidt",
            8: "Juergen Heinrich",
            9: (dt.date(1979, 11, 3) - dt.date(1970, 1, 1)).days,
            10: (dt.date(2026, 1, 1) - dt.date(1970, 1, 1)).days,
            11: (dt.date(2026, 12, 31) - dt.date(1970, 1, 1)).days,
            12: "DE:DRV-BUND",
        },
    }
    # Deterministic encoding: what a canonical encoder writes, byte for byte.
    assert payload == cbor2.dumps(cbor2.loads(payload), canonical=True)
    # Optional claims are absent, not null, when unset.
    assert set(cbor2.loads(encode_payload(mv.PLAIN))[-70001]) == {0, 1, 2, 3, 4, 5, 6, 9, 10, 11}


def test_cose_envelope_verifies_with_an_independent_reading() -> None:
    """Decode with cbor2 and verify with cryptography directly, as a WebCrypto verifier would."""
    cose = sign_certificate(mv.PLAIN, KEY)
    item = cbor2.loads(cose)
    assert isinstance(item, cbor2.CBORTag) and item.tag == 18
    protected, unprotected, payload, signature = item.value
    assert cbor2.loads(protected) == {1: -7, 4: kid_for_public_key(KEY.public_key())}
    assert dict(unprotected) == {}
    assert len(signature) == 64
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    KEY.public_key().verify(der, to_be_signed, ec.ECDSA(hashes.SHA256()))


def test_signatures_are_randomized_unless_deterministic_is_asked() -> None:
    assert sign_certificate(mv.PLAIN, KEY) != sign_certificate(mv.PLAIN, KEY)
    once = sign_certificate(mv.PLAIN, KEY, deterministic=True)
    assert once == sign_certificate(mv.PLAIN, KEY, deterministic=True)


def test_sign_refuses_keys_that_are_not_p256() -> None:
    with pytest.raises(ValueError, match="P-256"):
        sign_certificate(mv.PLAIN, ec.generate_private_key(ec.SECP384R1()))


def test_qr_text_shape() -> None:
    cose = sign_certificate(mv.PLAIN, KEY)
    text = qr_text(cose, BASE_URL)
    assert text.startswith("HTTPS://VERIFY.A1-WALLET.EXAMPLE/V/")
    assert "=" not in text and "//V/" not in text
    assert set(text) <= QR_ALPHANUMERIC
    with pytest.raises(ValueError, match="alphanumeric"):
        qr_text(cose, "https://a1_wallet.example")


def test_budget_case_fits_qr_version_11_at_m() -> None:
    """verifier/FORMAT.md §7: two work states, 25+25-character names, 30-character base URL."""
    claims = replace(
        mv.PLAIN,
        work_states=("FR", "BE"),
        family_name="Schwarzenberger-Hohenfels",
        given_names="Anna-Katharina Elisabetta",
    )
    assert len(claims.family_name) == len(claims.given_names) == 25
    base_url = "https://verify.a1-wallet.eu.io"
    assert len(base_url) == 30
    cose = sign_certificate(claims, KEY)
    text = qr_text(cose, base_url)
    assert len(cose) <= 208
    assert len(text) <= 366  # alphanumeric capacity of version 11-M
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text, optimize=0)
    code.make(fit=True)
    assert code.version <= 11


def test_certificate_id_text_known_values_and_inverse() -> None:
    assert certificate_id_text(bytes(10)) == "0" * 16
    assert certificate_id_text(b"\xff" * 10) == "Z" * 16
    assert certificate_id_text(bytes.fromhex("0000000000000000001f")) == "000000000000000Z"
    assert certificate_id_text(bytes.fromhex("80000000000000000000")) == "G000000000000000"
    cid = bytes.fromhex("5f1c9a0e77d24b3318e6")
    text = certificate_id_text(cid)
    assert len(text) == 16 and text == text.upper()
    assert not set(text) & set("ILOU")
    assert parse_certificate_id(text) == cid
    assert parse_certificate_id(text.lower()) == cid
    # Crockford aliases for typed ids: O -> 0, I and L -> 1
    assert parse_certificate_id("O" * 15 + "I") == parse_certificate_id("0" * 15 + "1")
    assert parse_certificate_id("0" * 15 + "l") == parse_certificate_id("0" * 15 + "1")


@pytest.mark.parametrize(
    "bad", ["", "0" * 15, "0" * 17, "0" * 15 + "U", "0" * 15 + "-", "0" * 15 + "é", None, b"0" * 16]
)
def test_parse_certificate_id_rejects_bad_input(bad) -> None:
    with pytest.raises(ValueError):
        parse_certificate_id(bad)


@pytest.mark.parametrize("bad", [bytes(9), bytes(11), "0123456789", bytearray(10)])
def test_certificate_id_text_rejects_other_lengths_and_types(bad) -> None:
    with pytest.raises(ValueError):
        certificate_id_text(bad)


def test_kid_is_sha256_of_der_spki_truncated_to_8_bytes() -> None:
    public = KEY.public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = kid_for_public_key(public)
    assert kid == hashlib.sha256(der).digest()[:8]
    assert kid_text(kid) == kid.hex() and len(kid_text(kid)) == 16
    assert kid_text(kid) == kid_text(kid).lower()
    with pytest.raises(ValueError):
        kid_text(kid[:7])


def test_validity_bounds_cover_every_time_zone() -> None:
    start = not_before(dt.date(2026, 1, 1))
    end = expires_at(dt.date(2026, 6, 30))
    assert start == dt.datetime(2025, 12, 31, 10, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert start.utcoffset() == dt.timedelta(0) and end.utcoffset() == dt.timedelta(0)
    kiritimati = dt.timezone(dt.timedelta(hours=14))
    baker_island = dt.timezone(dt.timedelta(hours=-12))
    assert start == dt.datetime(2026, 1, 1, 0, 0, tzinfo=kiritimati)
    assert end == dt.datetime(2026, 7, 1, 0, 0, tzinfo=baker_island)


def _invalid(**changes) -> CertificateClaims:
    return replace(mv.PLAIN, **changes)


@pytest.mark.parametrize(
    "claims",
    [
        _invalid(certificate_id=bytes(9)),
        _invalid(certificate_id="0123456789"),
        _invalid(document_type="a1"),
        _invalid(kind="temporary"),
        _invalid(legislation_state="de"),
        _invalid(legislation_state="DEU"),
        _invalid(work_states=()),
        _invalid(work_states=["FR"]),
        _invalid(work_states=("FR", "FR")),
        _invalid(work_states=("F",)),
        _invalid(work_states=tuple(f"{a}{b}" for a in "ABCDEFG" for b in "ABCDE")),
        _invalid(family_name=""),
        _invalid(family_name="Dupont\n"),
        _invalid(family_name=" Dupont"),
        _invalid(given_names="Marie\u202eClaire"),  # right-to-left override
        _invalid(family_name="x" * 101),
        _invalid(family_name_ascii="Dupont"),  # same as the name: must be absent
        _invalid(family_name="Dupónt", family_name_ascii="Dupónt2"),  # not ASCII
        _invalid(birth_date=dt.date(1899, 12, 31)),
        _invalid(valid_from=dt.datetime(2026, 1, 15, 8, 0)),
        _invalid(valid_to=dt.date(2026, 1, 14)),
        _invalid(valid_to=dt.date(2200, 1, 1)),
        _invalid(issuer=""),
        _invalid(issuer="Ä1W"),
        _invalid(issuing_institution="FR:URSSAF"),  # provisional with institution
        _invalid(kind="official"),  # official without institution
    ],
)
def test_invalid_claims_are_refused_when_signing(claims: CertificateClaims) -> None:
    with pytest.raises(ValueError):
        sign_certificate(claims, KEY)
