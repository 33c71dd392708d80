"""verifier: hostile input. Mutations of a genuine token are never valid and never raise."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from verifier import (
    STATUSES,
    CertificateClaims,
    KeySet,
    RevocationSet,
    qr_text,
    sign_certificate,
    verify_qr_text,
)
from verifier.ids import b32encode

KEY = ec.derive_private_key(0xF022, ec.SECP256R1())
KEYS = KeySet.from_public_keys([KEY.public_key()])
REVOKED = RevocationSet(frozenset({"0000000000000000"}), frozenset({"00" * 8}))
AT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
CLAIMS = CertificateClaims(
    certificate_id=bytes.fromhex("a1a1a1a1a1a1a1a1a1a1"),
    document_type="A1",
    kind="official",
    legislation_state="BE",
    work_states=("LU", "NL"),
    family_name="Van den Bossche-Dubois",
    given_names="Émilie Françoise",
    family_name_ascii=None,
    given_names_ascii="Emilie Francoise",
    birth_date=dt.date(1975, 5, 5),
    valid_from=dt.date(2026, 1, 1),
    valid_to=dt.date(2026, 12, 31),
    issuer="A1W",
    issuing_institution="BE:ONSS-RSZ",
)
# Signed once; every example verifies a mutation of these.
RAW = sign_certificate(CLAIMS, KEY)
B32 = b32encode(RAW)
URL = qr_text(RAW, "https://verify.a1-wallet.example")
SIGNATURE_HOLDS = {"valid", "not_yet_valid", "expired", "revoked"}

CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwxyz0189=/: -_.%é\x00\n"
FUZZ = settings(
    max_examples=10_000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def verify(text: str):
    result = verify_qr_text(text, KEYS, REVOKED, AT)
    assert result.status in STATUSES
    return result


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, bytes | str]:
    """(kind, QR text to verify, the mutated thing) after 1-3 random edits."""
    kind = draw(st.sampled_from(["bytes", "base32", "url"]))
    value: bytes | str = RAW if kind == "bytes" else (B32 if kind == "base32" else URL)
    for _ in range(draw(st.integers(1, 3))):
        size = len(value)
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "replace"]))
        at = draw(st.integers(0, max(size - 1, 0)))
        if kind == "bytes":
            assert isinstance(value, bytes)
            if op == "flip" and size:
                value = (
                    value[:at]
                    + bytes([value[at] ^ (1 << draw(st.integers(0, 7)))])
                    + value[at + 1 :]
                )
            elif op == "truncate":
                value = value[: draw(st.integers(0, max(size - 1, 0)))]
            elif op == "insert":
                value = value[:at] + draw(st.binary(min_size=1, max_size=8)) + value[at:]
            elif op == "delete":
                value = value[:at] + value[at + draw(st.integers(1, 8)) :]
            else:
                value = value[:at] + bytes([draw(st.integers(0, 255))]) + value[at + 1 :]
        else:
            assert isinstance(value, str)
            if op == "flip" and size:
                flipped = chr(ord(value[at]) ^ (1 << draw(st.integers(0, 6))))
                value = value[:at] + flipped + value[at + 1 :]
            elif op == "truncate":
                value = value[: draw(st.integers(0, max(size - 1, 0)))]
            elif op == "insert":
                value = value[:at] + draw(st.text(CHARS, min_size=1, max_size=8)) + value[at:]
            elif op == "delete":
                value = value[:at] + value[at + draw(st.integers(1, 8)) :]
            else:
                value = value[:at] + draw(st.sampled_from(CHARS)) + value[at + 1 :]
    text = b32encode(value) if isinstance(value, bytes) else value
    return kind, text, value


def same_token(kind: str, value: bytes | str) -> bool:
    """True when the edits cancelled out or only changed what the format lets change."""
    if kind == "bytes":
        return value == RAW
    assert isinstance(value, str)
    if not value.isascii():
        return False  # QR texts are ASCII: a non-ASCII character anywhere is refused
    if kind == "url":
        # The host is not part of the proof, and /V/ may be /v/: only the token counts.
        cut = max(value.rfind("/V/"), value.rfind("/v/"))
        value = value[cut + 3 :] if cut >= 0 else value
    return value.upper() == B32  # Base32 is read case-insensitively


def test_the_genuine_token_is_valid_in_each_form() -> None:
    for text in (URL, B32, b32encode(RAW)):
        assert verify(text).status == "valid"


@FUZZ
@given(mutated())
def test_mutations_are_never_valid_and_never_raise(case: tuple[str, str, bytes | str]) -> None:
    kind, text, value = case
    result = verify(text)
    event(f"{kind}: {result.status}")  # shown by --hypothesis-show-statistics
    if same_token(kind, value):
        assert result.status == "valid"
    else:
        # No mutation of signed bytes may keep the signature: no claims, no "valid".
        assert result.status not in SIGNATURE_HOLDS, (kind, text)
        assert result.claims is None


@settings(max_examples=1_000, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=600))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert verify(text).status in {"malformed", "unknown_key", "bad_signature", "key_revoked"}


@settings(max_examples=1_000, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = verify(b32encode(data))
    assert result.status not in SIGNATURE_HOLDS
    # A tag-18 prefix with an A1W1 header is what it takes to get past "malformed".
    if result.status != "malformed":
        assert data[:2] == b"\xd2\x84"
