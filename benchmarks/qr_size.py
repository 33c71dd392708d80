"""QR size of A1W1 certificates: payload and COSE bytes, QR characters, QR version, SVG bytes.

Run: python benchmarks/qr_size.py
Target (verifier/FORMAT.md §7): two work states, family name and given names of 25 characters
each, base URL of 30 characters -> QR version <= 11 at error correction M. Exit status 1 if the
target fails.

Byte counts do not depend on the random signature (ES256 signatures are always 64 bytes), so
the figures are exact, not samples.
"""

from __future__ import annotations

import datetime as dt
import gzip
import sys
from dataclasses import replace
from pathlib import Path

import qrcode
import qrcode.image.svg
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from verifier import CertificateClaims, encode_payload, qr_text, sign_certificate
from web.certificates.qr import qr_svg

BASE_URL = "https://verify.a1-wallet.eu.io"  # 30 characters
TARGET_VERSION = 11
LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
}
KEY = ec.derive_private_key(0xBE7C4, ec.SECP256R1())

BASE = CertificateClaims(
    certificate_id=bytes.fromhex("5f1c9a0e77d24b3318e6"),
    document_type="A1",
    kind="provisional",
    legislation_state="DE",
    work_states=("FR",),
    family_name="Kowalczyka",
    given_names="Anna Maria",
    family_name_ascii=None,
    given_names_ascii=None,
    birth_date=dt.date(1984, 2, 29),
    valid_from=dt.date(2026, 1, 1),
    valid_to=dt.date(2026, 6, 30),
    issuer="A1W",
    issuing_institution=None,
)
NAMES = {
    # (family, given, family ASCII, given ASCII); every name exactly 10 or 25 characters
    "10 ASCII": ("Kowalczyka", "Anna Maria", None, None),
    "10 translit": ("Łukasiewiç", "Zoë Ångela", "Lukasiewic", "Zoe Angela"),
    "25 ASCII": ("Schwarzenberger-Hohenfels", "Anna-Katharina Elisabetta", None, None),
    "25 translit": (
        "Schwarzenberger-Müllerová",
        "Anna-Katharina Élisabètte",
        "Schwarzenberger-Mullerova",
        "Anna-Katharina Elisabette",
    ),
}
STATES = {1: ("FR",), 2: ("FR", "BE"), 3: ("FR", "BE", "NL")}


def claims_for(names: str, states: int, official: bool = False) -> CertificateClaims:
    family, given, family_ascii, given_ascii = NAMES[names]
    assert len(family) == len(given) == int(names.split()[0])
    claims = replace(
        BASE,
        family_name=family,
        given_names=given,
        family_name_ascii=family_ascii,
        given_names_ascii=given_ascii,
        work_states=STATES[states],
    )
    if official:
        claims = replace(claims, kind="official", issuing_institution="DE:DRV-BUND")
    return claims


def qr_for(text: str, level: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=LEVELS[level], border=4)
    code.add_data(text, optimize=0)  # one segment: the whole text is alphanumeric
    code.make(fit=True)
    return code


def measure(label: str, claims: CertificateClaims) -> dict:
    cose = sign_certificate(claims, KEY)
    text = qr_text(cose, BASE_URL)
    codes = {level: qr_for(text, level) for level in LEVELS}
    assert all(d.mode == qrcode.util.MODE_ALPHA_NUM for d in codes["M"].data_list)
    svg = codes["M"].make_image(image_factory=qrcode.image.svg.SvgPathImage).to_string()
    assert svg.count(b"<path") == 1
    compact = qr_svg(text, "QR").encode()  # what the app inlines in its pages
    assert compact.count(b"<path") == 1
    return {
        "case": label,
        "payload": len(encode_payload(claims)),
        "cose": len(cose),
        "chars": len(text),
        **{level: codes[level].version for level in LEVELS},
        "svg": len(svg),
        "svg_gz": len(gzip.compress(svg, 9)),
        "compact": len(compact),
        "compact_gz": len(gzip.compress(compact, 9)),
    }


def main() -> int:
    rows = [
        measure(
            f"{states} state{'s' if states > 1 else ''}, names {names}", claims_for(names, states)
        )
        for states in (1, 3)
        for names in NAMES
    ]
    target = measure("TARGET: 2 states, names 25 ASCII", claims_for("25 ASCII", 2))
    rows.append(target)
    rows.append(measure("2 states, names 25 translit", claims_for("25 translit", 2)))
    rows.append(measure("2 states, 25 ASCII, official", claims_for("25 ASCII", 2, official=True)))
    rows.append(measure("3 states, 25 translit, official", claims_for("25 translit", 3, True)))

    print(f"base URL: {BASE_URL} ({len(BASE_URL)} characters); SVG bytes at M")
    header = (
        f"{'case':36} {'payload':>7} {'COSE':>5} {'chars':>5} {'v@L':>4} {'v@M':>4} {'v@Q':>4}"
        f" {'SVG':>7} {'SVG.gz':>7} {'appSVG':>8} {'app.gz':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['case']:36} {r['payload']:7} {r['cose']:5} {r['chars']:5} {r['L']:4} {r['M']:4}"
            f" {r['Q']:4} {r['svg']:7} {r['svg_gz']:7} {r['compact']:8} {r['compact_gz']:8}"
        )
    print()
    print("SVG = qrcode's SvgPathImage (one <path>, one square per dark module);")
    print("appSVG = the app's inline SVG (web/certificates/qr.py): one stroked <path> of runs.")
    ok = target["M"] <= TARGET_VERSION
    verdict = "PASS" if ok else "FAIL"
    print(
        f"target: version {target['M']} at M for the target case "
        f"(<= {TARGET_VERSION} required, {target['chars']} of 366 characters) {verdict}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
