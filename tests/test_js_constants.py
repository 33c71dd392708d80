"""The offline verifier in the browser (static/js/verify-core.js) and the reference verifier
(verifier/) read one QR format: every constant the JavaScript spells out again — statuses, claim
keys, document types, kinds and key classes, limits, the COSE header bytes — must equal the
Python definition it copies. A change on one side only fails here, before a phone and the server
disagree on a scan."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import verifier
from verifier import claims, cose, ids, keys
from verifier import verify as verify_module

JS = (Path(__file__).resolve().parent.parent / "static" / "js" / "verify-core.js").read_text()


def js_const(name: str) -> object:
    """The value of ``const NAME = …;`` in verify-core.js, read as JSON (arrays, strings, ints)."""
    match = re.search(rf"\bconst {name} = (?:Object\.freeze\()?(.*?)\)?;", JS, re.DOTALL)
    assert match, f"verify-core.js no longer defines {name}"
    text = re.sub(r"//[^\n]*", "", match.group(1))
    text = re.sub(r",\s*([\]}])", r"\1", text)  # JSON has no trailing commas
    text = re.sub(r"0x([0-9a-f]+)", lambda m: str(int(m.group(1), 16)), text)
    return json.loads(text)


def js_claim_keys() -> dict[str, int]:
    body = re.search(r"\bconst P = \{(.*?)\};", JS, re.DOTALL)
    assert body, "verify-core.js no longer defines the private claim keys P"
    return {k: int(v) for k, v in re.findall(r"(\w+): (-?\d+)", body.group(1))}


@pytest.mark.parametrize(
    ("name", "python"),
    [
        ("STATUSES", list(verify_module.STATUSES)),
        ("DOCUMENT_TYPES", list(claims.DOCUMENT_TYPES)),
        ("KINDS", list(claims.KINDS)),
        ("KEY_STATES", list(keys.KEY_STATES)),
        ("DEFAULT_DOCUMENT_CLASS", keys.DEFAULT_DOCUMENT_CLASS),
        ("CWT_ISS", claims.CWT_ISS),
        ("CWT_EXP", claims.CWT_EXP),
        ("CWT_NBF", claims.CWT_NBF),
        ("PRIVATE_CLAIMS", claims.PRIVATE_CLAIMS),
        ("KID_BYTES", ids.KID_BYTES),
        ("CERTIFICATE_ID_BYTES", ids.CERTIFICATE_ID_BYTES),
        ("SIGNATURE_BYTES", cose.SIGNATURE_BYTES),
        ("MAX_TEXT_LENGTH", cose.MAX_TEXT_LENGTH),
        ("PROTECTED_PREFIX", list(cose.PROTECTED_PREFIX)),
        ("MAX_WORK_STATES", claims.MAX_WORK_STATES),
        ("MAX_NAME_LENGTH", claims.MAX_NAME_LENGTH),
        ("MAX_ISSUER_LENGTH", claims.MAX_ISSUER_LENGTH),
        ("MAX_INSTITUTION_LENGTH", claims.MAX_INSTITUTION_LENGTH),
        ("REQUIRED_PRIVATE", sorted(claims._REQUIRED_PRIVATE)),
        ("MIN_DAYS", claims._MIN_DAYS),
        ("MAX_DAYS", claims._MAX_DAYS),
        ("CLOCK_SKEW_SECONDS", int(verifier.CLOCK_SKEW.total_seconds())),
    ],
)
def test_js_constant_equals_the_reference_verifier(name: str, python: object) -> None:
    assert js_const(name) == python, name


def test_js_claim_keys_equal_the_reference_verifier() -> None:
    python = {
        name.removeprefix("P_"): value
        for name, value in vars(claims).items()
        if name.startswith("P_") and isinstance(value, int)
    }
    assert js_claim_keys() == python


def test_js_key_classes_are_the_kinds() -> None:
    # keys.json's document_class takes the values of the QR's kind claim, on both sides.
    assert list(keys.DOCUMENT_CLASSES) == js_const("KINDS")
