"""verifier: hostile input. Mutations of a genuine token are never valid and never raise.

Every public decoding entry point (QR text, Base32 and Crockford codes, kid and timestamp texts,
the COSE envelope, the CWT payload, keys.json, revoked.json, the command line) gets arbitrary
and mutated input: only ValueError (the package's documented error; MalformedToken is one) may
come out, nothing random verifies, and whatever a decoder accepts is the one canonical spelling
of what it returns. TARGETS is shared with benchmarks/fuzz_verifier.py, which runs them long.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import json
import tempfile
from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from verifier import (
    STATUSES,
    CertificateClaims,
    KeySet,
    RevocationSet,
    certificate_id_text,
    encode_payload,
    expires_at,
    format_utc,
    keys_document,
    kid_for_public_key,
    kid_text,
    not_before,
    parse_certificate_id,
    parse_kid_text,
    parse_utc,
    public_key_document_entry,
    qr_text,
    revoked_document,
    sign_certificate,
    verify_qr_text,
)
from verifier.__main__ import main as verifier_cli
from verifier.claims import decode_payload
from verifier.cose import (
    build_sign1,
    es256_sign,
    parse_envelope,
    parse_qr_text,
    protected_header,
    token_bytes,
)
from verifier.ids import (
    b32decode_canonical,
    b32encode,
    crockford_value,
    normalize_certificate_id_text,
)

KEY = ec.derive_private_key(0xF022, ec.SECP256R1())
KEYS = KeySet.from_public_keys([KEY.public_key()], document_class="official")
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
    max_examples=2_000,  # benchmarks/fuzz_verifier.py runs far more
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


# --- every decoding entry point ----------------------------------------------------------------
# A target is (strategy, check): check(value) calls one entry point and asserts what must hold.
# Any exception other than ValueError (and AssertionError for a broken property) is a bug.

KID = kid_for_public_key(KEY.public_key())
PAYLOAD = encode_payload(CLAIMS)
KEYS_DOC = keys_document(
    [
        public_key_document_entry(KEY.public_key(), "active", AT, None, document_class="official"),
        public_key_document_entry(
            ec.derive_private_key(0xF023, ec.SECP256R1()).public_key(),
            "retired",
            AT,
            AT,
            document_class="provisional",
        ),
    ]
)
REVOKED_DOC = revoked_document(["BWE9M3KQT95K6676", "0000000000000000"], ["00" * 8])
EXIT_USAGE = 2

# Texts: anything, the alphabets the decoders read (with look-alikes, other digits and case),
# and Base32 of arbitrary bytes.
UNICODE_DIGITS = "0123456789٠١٢٣٤٥٦٧٨٩０１２３４５６７８９߀۹"
# The zero of ASCII (most often), Arabic-Indic, Devanagari and full-width digits.
DIGIT_ZEROS = [ord("0")] * 4 + [0x660, 0x966, 0xFF10]
TEXT_CHARS = CHARS + "0123456789ILOUilouABCDEFabcdef+Z" + UNICODE_DIGITS + "Kİı"
TEXTS = st.one_of(
    st.text(max_size=300),
    st.text(TEXT_CHARS, max_size=80),
    st.binary(max_size=300).map(b32encode),
    st.binary(max_size=10).map(lambda b: b.hex()),
)


def _mutate_bytes(draw: st.DrawFn, value: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(value)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "replace", "truncate"]))
        if op == "flip" and at < len(value):
            bit = 1 << draw(st.integers(0, 7))
            value = value[:at] + bytes([value[at] ^ bit]) + value[at + 1 :]
        elif op == "insert":
            value = value[:at] + draw(st.binary(min_size=1, max_size=9)) + value[at:]
        elif op == "delete":
            value = value[:at] + value[at + draw(st.integers(1, 9)) :]
        elif op == "replace" and at < len(value):
            value = value[:at] + bytes([draw(st.integers(0, 255))]) + value[at + 1 :]
        else:
            value = value[:at]
    return value


def mutations_of(value: bytes) -> st.SearchStrategy[bytes]:
    return st.composite(lambda draw: _mutate_bytes(draw, value))()


CBOR_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.binary(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.integers(-70002, 20) | st.text(max_size=3), inner, max_size=5)
    ),
    max_leaves=12,
)


@st.composite
def edited_payload_maps(draw: st.DrawFn) -> bytes:
    """The genuine CWT with one claim changed, added or removed, encoded in any way cbor2 can."""
    cwt = cbor2.loads(PAYLOAD)
    target = cwt if draw(st.booleans()) else cwt[-70001]
    key = draw(st.sampled_from([*target, draw(st.integers(-70002, 20))]))
    if draw(st.booleans()) and key in target:
        del target[key]
    else:
        target[key] = draw(CBOR_VALUES)
    return cbor2.dumps(cwt, canonical=draw(st.booleans()))


PAYLOADS = st.one_of(
    st.binary(max_size=300),
    mutations_of(PAYLOAD),
    CBOR_VALUES.map(cbor2.dumps),
    edited_payload_maps(),
)
ENVELOPES = st.one_of(
    st.binary(max_size=300),
    mutations_of(RAW),
    st.builds(
        lambda protected, payload, signature: build_sign1(protected, payload, signature),
        st.one_of(st.just(protected_header(KID)), mutations_of(protected_header(KID))),
        PAYLOADS,
        st.binary(min_size=60, max_size=68),
    ),
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(TEXT_CHARS, max_size=24),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
TIMESTAMPS = st.one_of(
    st.datetimes(timezones=st.just(dt.UTC)).map(format_utc),
    st.text(TEXT_CHARS, min_size=20, max_size=20),
    # A real timestamp with some digits written in another script (Arabic-Indic, full-width…).
    st.builds(
        lambda moment, scripts: "".join(
            chr(ord(ch) - ord("0") + script) if ch.isdigit() else ch
            for ch, script in zip(format_utc(moment), scripts, strict=False)
        ),
        st.datetimes(timezones=st.just(dt.UTC)),
        st.lists(st.sampled_from(DIGIT_ZEROS), min_size=20, max_size=20),
    ),
)


@st.composite
def edited_documents(draw: st.DrawFn, document: dict) -> object:
    """A copy of a genuine keys.json or revoked.json with one value anywhere replaced."""
    document = copy.deepcopy(document)
    holder, key = None, None
    node: object = document
    while isinstance(node, dict | list) and node and draw(st.integers(0, 2)):
        key = draw(st.sampled_from(list(node) if isinstance(node, dict) else range(len(node))))
        holder, node = node, node[key]
    replacement = draw(st.one_of(JSON, TIMESTAMPS, st.sampled_from(["ES256", "P-256", "A1W1"])))
    if holder is None:
        return replacement
    holder[key] = replacement
    return document


def only_value_error(function, *args):
    """function(*args), or None when it raises ValueError, the documented error."""
    try:
        return function(*args)
    except ValueError:
        return None


def check_qr_text(text: str) -> None:
    result = verify(text)
    raw = only_value_error(token_bytes, text)
    assert result.status in ({"malformed"} if raw is None else set(STATUSES))
    assert result.status != "valid" or raw == RAW, text
    if raw is not None:
        cut = max(text.rfind("/V/"), text.rfind("/v/"))
        assert b32encode(raw) == text[cut + 3 if cut >= 0 else 0 :].upper()
        only_value_error(parse_qr_text, text)


def check_base32(text: str) -> None:
    raw = only_value_error(b32decode_canonical, text)
    assert raw is None or b32encode(raw) == text, text


def check_certificate_id(text: str) -> None:
    only_value_error(crockford_value, text)
    cid = only_value_error(parse_certificate_id, text)
    if cid is not None:
        typed = text.upper().translate(str.maketrans("OIL", "011"))
        assert certificate_id_text(cid) == typed == normalize_certificate_id_text(text), text


def check_kid_text(text: str) -> None:
    kid = only_value_error(parse_kid_text, text)
    assert kid is None or kid.hex() == text, text


def check_timestamp(text: str) -> None:
    moment = only_value_error(parse_utc, text)
    assert moment is None or format_utc(moment) == text, text


def check_envelope(raw: bytes) -> None:
    envelope = only_value_error(parse_envelope, raw)
    if envelope is not None:
        assert build_sign1(envelope.protected, envelope.payload, envelope.signature) == raw
        assert envelope.protected == protected_header(envelope.kid)
    result = verify(b32encode(raw))
    assert result.status != "valid" or raw == RAW
    if envelope is not None and envelope.signature != RAW[-64:]:
        assert result.status in {"bad_signature", "unknown_key", "key_revoked"}, result


def check_payload(payload: bytes) -> None:
    decoded = only_value_error(decode_payload, payload)
    if decoded is not None:
        claims, nbf, exp = decoded
        assert encode_payload(claims) == payload  # one encoding only
        assert (nbf, exp) == (
            int(not_before(claims.valid_from).timestamp()),
            int(expires_at(claims.valid_to).timestamp()),
        )
    # Signed with a trusted key, the payload alone decides: malformed, or the claims it holds.
    signed = build_sign1(
        protected_header(KID), payload, es256_sign(KEY, protected_header(KID), payload)
    )
    result = verify(b32encode(signed))
    if decoded is None:
        assert (result.status, result.claims) == ("malformed", None)
    else:
        assert result.status in SIGNATURE_HOLDS and result.claims == decoded[0]


def check_keys_document(document: object) -> None:
    keys = only_value_error(KeySet.from_document, document)
    if keys is not None:
        assert keys.kids == {entry["kid"] for entry in document["keys"]}
        for entry in document["keys"]:
            assert (
                kid_text(kid_for_public_key(keys.get(parse_kid_text(entry["kid"]))))
                == (entry["kid"])
            )


def check_revoked_document(document: object) -> None:
    revoked = only_value_error(RevocationSet.from_document, document)
    if revoked is not None:
        canonical = revoked_document(revoked.certificate_ids, revoked.kids)
        assert RevocationSet.from_document(canonical) == revoked
        assert len(revoked.certificate_ids) <= len(document["certificates"])


_CLI_DIR = tempfile.TemporaryDirectory(prefix="a1w-verifier-fuzz-")


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[str, bytes, bytes | None, str | None]:
    """(QR text, keys file bytes, revoked file bytes or None, --at text or None)."""

    def document(genuine: dict) -> st.SearchStrategy[bytes]:
        as_json = st.one_of(st.just(genuine), edited_documents(genuine), JSON).map(
            lambda d: json.dumps(d).encode()
        )
        return st.one_of(as_json, as_json.flatmap(mutations_of), st.binary(max_size=200))

    text = draw(st.one_of(TEXTS, mutations_of(RAW).map(b32encode)))
    at = st.one_of(
        TIMESTAMPS,
        st.datetimes(timezones=st.timezones() | st.just(dt.UTC)).map(dt.datetime.isoformat),
        st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]),
    )
    return (
        text,
        draw(document(KEYS_DOC)),
        draw(st.none() | document(REVOKED_DOC)),
        draw(st.none() | at),
    )


def check_command_line(case: tuple[str, bytes, bytes | None, str | None]) -> None:
    text, keys, revoked, at = case
    folder = Path(_CLI_DIR.name)
    (folder / "keys.json").write_bytes(keys)
    argv = ["check", "--keys", str(folder / "keys.json")]
    if revoked is not None:
        (folder / "revoked.json").write_bytes(revoked)
        argv += ["--revoked", str(folder / "revoked.json")]
    if at is not None:
        argv.append(f"--at={at}")
    argv += ["--", text]  # whatever the text, it is the QR text, not an option
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = verifier_cli(argv)
    except SystemExit as exc:  # argparse: a usage error, said on stderr
        assert exc.code == EXIT_USAGE and err.getvalue(), (exc.code, err.getvalue())
        return
    printed = json.loads(out.getvalue())
    assert printed["status"] in STATUSES and code == (0 if printed["status"] == "valid" else 1)
    assert code == 1 or only_value_error(token_bytes, text) == RAW, case


TARGETS = {
    "qr_text": (TEXTS, check_qr_text),
    "base32": (TEXTS, check_base32),
    "certificate_id": (
        st.one_of(TEXTS, st.text(TEXT_CHARS, min_size=16, max_size=16)),
        check_certificate_id,
    ),
    "kid_text": (st.one_of(TEXTS, st.text(TEXT_CHARS, min_size=16, max_size=16)), check_kid_text),
    "timestamp": (TIMESTAMPS, check_timestamp),
    "cose_envelope": (ENVELOPES, check_envelope),
    "cwt_payload": (PAYLOADS, check_payload),
    "keys_json": (st.one_of(JSON, edited_documents(KEYS_DOC)), check_keys_document),
    "revoked_json": (st.one_of(JSON, edited_documents(REVOKED_DOC)), check_revoked_document),
    "command_line": (command_lines(), check_command_line),
}
ENTRY_EXAMPLES = 300


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_entry_point_raises_only_value_error(name: str) -> None:
    strategy, check = TARGETS[name]

    @settings(
        max_examples=ENTRY_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value) -> None:
        check(value)

    run()
