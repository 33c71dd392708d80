"""Command line: python -m verifier check TEXT --keys keys.json [--revoked revoked.json] [--at T]

Exit status: 0 valid, 1 any other verification status, 2 usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .keys import KeySet, RevocationSet
from .verify import verify_qr_text


def _parse_at(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        # A bare local time is ambiguous across the zones this format is built for.
        raise argparse.ArgumentTypeError(f"give a time zone (Z or +hh:mm): {text!r}")
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before the first representable UTC
        raise argparse.ArgumentTypeError(f"out of range: {text!r}") from None


def _load(parser: argparse.ArgumentParser, path: str, kind: str, load: Callable[[Any], Any]) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return load(json.load(handle))
    except (OSError, ValueError, RecursionError) as exc:  # JSON and document errors: ValueError
        parser.error(f"cannot use {kind} file {path}: {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m verifier", description="Verify A1W1 signed certificate QR codes."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="verify one QR text",
        description="Print {status, kid, claims} as JSON. Exit 0 if valid, 1 otherwise.",
    )
    check.add_argument("text", metavar="TEXT", help="the QR text: full URL or the Base32 part")
    check.add_argument("--keys", required=True, help="keys.json (the trust list)")
    check.add_argument("--revoked", help="revoked.json (the revocation list)")
    check.add_argument(
        "--at", type=_parse_at, help="verify at this time, e.g. 2026-05-01T10:00:00Z"
    )
    args = parser.parse_args(argv)

    keys = _load(check, args.keys, "keys", KeySet.from_document)
    revoked = (
        _load(check, args.revoked, "revoked", RevocationSet.from_document) if args.revoked else None
    )
    result = verify_qr_text(args.text, keys, revoked, args.at)
    print(json.dumps(result.to_json()))
    return 0 if result.valid else 1


if __name__ == "__main__":
    sys.exit(main())
