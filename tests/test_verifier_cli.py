"""verifier: the command line `python -m verifier check` (exit 0 valid, 1 other status, 2 usage)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from verifier import (
    CertificateClaims,
    certificate_id_text,
    keys_document,
    public_key_document_entry,
    qr_text,
    revoked_document,
    sign_certificate,
)

ROOT = Path(__file__).resolve().parent.parent
KEY = ec.derive_private_key(0xC11, ec.SECP256R1())
CLAIMS = CertificateClaims(
    certificate_id=bytes.fromhex("11223344556677889900"),
    document_type="A1",
    kind="provisional",
    legislation_state="PL",
    work_states=("DE",),
    family_name="Wiśniewska",
    given_names="Zofia",
    family_name_ascii="Wisniewska",
    given_names_ascii=None,
    birth_date=dt.date(1988, 8, 8),
    valid_from=dt.date(2026, 4, 1),
    valid_to=dt.date(2026, 9, 30),
    issuer="A1W",
    issuing_institution=None,
)
TEXT = qr_text(sign_certificate(CLAIMS, KEY), "https://verify.a1-wallet.example")
DURING = "2026-05-01T10:00:00Z"


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.json"
    entry = public_key_document_entry(
        KEY.public_key(),
        "active",
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        None,
        document_class="provisional",
    )
    path.write_text(json.dumps(keys_document([entry])), "utf-8")
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verifier", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_valid_prints_the_claims_and_exits_0(keys_file: Path) -> None:
    done = run("check", TEXT, "--keys", keys_file, "--at", DURING)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "valid"
    assert out["kid"] == json.loads(keys_file.read_text())["keys"][0]["kid"]
    assert out["claims"]["family_name"] == "Wiśniewska"
    assert out["claims"]["certificate_id"] == certificate_id_text(CLAIMS.certificate_id)
    assert out["claims"]["work_states"] == ["DE"]
    assert done.stdout.count("\n") == 1  # one JSON object, one line


def test_base32_part_alone_and_lower_case_url(keys_file: Path) -> None:
    token = TEXT.rsplit("/V/", 1)[1]
    assert run("check", token, "--keys", keys_file, "--at", DURING).returncode == 0
    assert run("check", TEXT.lower(), "--keys", keys_file, "--at", DURING).returncode == 0


def test_expired_exits_1_with_claims(keys_file: Path) -> None:
    done = run("check", TEXT, "--keys", keys_file, "--at", "2026-10-02T00:00:00Z")
    assert done.returncode == 1
    out = json.loads(done.stdout)
    assert out["status"] == "expired" and out["claims"]["given_names"] == "Zofia"


def test_revoked_certificate_exits_1(keys_file: Path, tmp_path: Path) -> None:
    revoked = tmp_path / "revoked.json"
    cid = certificate_id_text(CLAIMS.certificate_id)
    revoked.write_text(json.dumps(revoked_document([cid], [])), "utf-8")
    done = run("check", TEXT, "--keys", keys_file, "--revoked", revoked, "--at", DURING)
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == "revoked"


def test_official_token_by_a_provisional_class_key_is_kind_mismatch_exit_1(
    keys_file: Path,
) -> None:
    official = replace(CLAIMS, kind="official", issuing_institution="PL:ZUS")
    text = qr_text(sign_certificate(official, KEY), "https://verify.a1-wallet.example")
    done = run("check", text, "--keys", keys_file, "--at", DURING)
    assert done.returncode == 1
    assert json.loads(done.stdout) == {
        "status": "kind_mismatch",
        "kid": json.loads(keys_file.read_text())["keys"][0]["kid"],
    }


def test_at_accepts_an_offset(keys_file: Path) -> None:
    # 2026-04-01 00:00 at UTC+14 is the very start of validity: valid.
    done = run("check", TEXT, "--keys", keys_file, "--at", "2026-04-01T00:00:00+14:00")
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    "text", [TEXT[:-12], TEXT + "A", "garbage", "", TEXT.replace("/V/", "/V/0"), "é"]
)
def test_garbled_or_truncated_text_is_malformed_exit_1(keys_file: Path, text: str) -> None:
    done = run("check", text, "--keys", keys_file, "--at", DURING)
    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    assert out == {"status": "malformed", "kid": None}


def test_unknown_key_exits_1(tmp_path: Path) -> None:
    other = tmp_path / "keys.json"
    entry = public_key_document_entry(
        ec.derive_private_key(0xD22, ec.SECP256R1()).public_key(),
        "active",
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        None,
        document_class="provisional",
    )
    other.write_text(json.dumps(keys_document([entry])), "utf-8")
    done = run("check", TEXT, "--keys", other, "--at", DURING)
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == "unknown_key"
    assert "claims" not in json.loads(done.stdout)


def test_usage_errors_exit_2(keys_file: Path, tmp_path: Path) -> None:
    not_json = tmp_path / "not.json"
    not_json.write_text("{", "utf-8")
    wrong_doc = tmp_path / "wrong.json"
    wrong_doc.write_text(json.dumps({"format": "A1W1", "keys": [{"kid": "00"}]}), "utf-8")
    cases = [
        ["check", TEXT],  # --keys missing
        ["check", TEXT, "--keys", keys_file, "--colour"],  # unknown option
        ["verify", TEXT, "--keys", keys_file],  # unknown command
        [],  # no command
        ["check", TEXT, "--keys", tmp_path / "missing.json"],  # unreadable
        ["check", TEXT, "--keys", not_json],  # not JSON
        ["check", TEXT, "--keys", wrong_doc],  # not a valid keys document
        ["check", TEXT, "--keys", keys_file, "--revoked", not_json],
        ["check", TEXT, "--keys", keys_file, "--at", "yesterday"],
        ["check", TEXT, "--keys", keys_file, "--at", "2026-05-01T10:00:00"],  # no zone
    ]
    for args in cases:
        done = run(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stdout == ""
        assert "usage:" in done.stderr or "error:" in done.stderr
