"""Vendored front-end files are exactly the pinned packages' files: the table in
static/vendor/README.md names each file with its sha384, and a changed or unlisted file fails."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|.*\| `(?P<sha384>[0-9a-f]{96})` \|$", re.MULTILINE)


def _pinned() -> dict[str, str]:
    return {m["file"]: m["sha384"] for m in ROW.finditer((VENDOR / "README.md").read_text())}


def test_every_vendored_script_is_listed_with_its_hash() -> None:
    pinned = _pinned()
    scripts = {
        p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.suffix in {".js", ".mjs"}
    }
    assert scripts, "no vendored scripts found"
    assert scripts == set(pinned), (sorted(scripts - set(pinned)), sorted(set(pinned) - scripts))


def test_vendored_files_match_their_pinned_hash() -> None:
    for name, expected in _pinned().items():
        actual = hashlib.sha384((VENDOR / name).read_bytes()).hexdigest()
        assert actual == expected, f"{name} differs from the pinned package's file"
