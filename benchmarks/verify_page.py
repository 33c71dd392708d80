"""Verification page throughput: /V/<token> against a bare Flask route, same gunicorn, same run.

    .venv/bin/python benchmarks/verify_page.py [--seconds 10] [--concurrency 8] [--workers 2]
        [--rounds 8] [--limiter-storage redis://127.0.0.1:6379]

Prints requests/s, p50/p99 latency for both, the ratio (target: /V/ at least 0.5 of bare) and the
load average before and after (the machine is shared: compare ratios, not rates). Both routes
alternate in short rounds and ask for compression, as a phone does. The bare route is a plain
view of the same app (public, limiter-exempt, too small to compress). The rate limit counts in
memory by default; `--limiter-storage redis://…` measures production's storage (one round trip
per scan). The in-memory storage of `limits` starts a short-lived thread for about one hit in
three: ~12 % of the page's time under gunicorn, which production does not pay.
Set BENCH_DATABASE_URL=postgresql://… to measure on PostgreSQL (its tables are created there).

Where the page's time went (py-spy on the workers and per-hook timers in process, docs/design.md
§12): brotli's 4 MB default window (~1 ms of table allocation per response, now 64 KB), two
limiter-storage reads per scan for X-RateLimit-* headers (now off), the sign-in loaded by the
enrolment gate on a public page, Accept-Language parsing and Babel's Locale per request.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._server import bench_env, drive, flask_cli, gunicorn, workdir


def _reachable(uri: str) -> bool:
    """Whether the limiter's Redis answers (else the benchmark counts in memory, and says so)."""
    if not uri.startswith("redis://"):
        return True
    parts = urlsplit(uri)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _combined(rows: list[dict[str, float]]) -> dict[str, float]:
    """Rounds added up: requests/s over the total time; the worst round's p50 and p99."""
    requests = sum(r["requests"] for r in rows)
    seconds = sum(r["requests"] / r["rps"] for r in rows if r["rps"])
    return {
        "requests": requests,
        "rps": requests / seconds if seconds else 0.0,
        "p50_ms": max(r["p50_ms"] for r in rows),
        "p99_ms": max(r["p99_ms"] for r in rows),
        "errors": sum(r["errors"] for r in rows),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument(
        "--limiter-storage",
        default="memory://",
        help="RATELIMIT_STORAGE_URI, e.g. production's redis://127.0.0.1:6379 (memory:// if "
        "that does not answer)",
    )
    args = parser.parse_args()

    storage = args.limiter_storage if _reachable(args.limiter_storage) else "memory://"
    env = bench_env(
        workdir(), RATELIMIT_STORAGE_URI=storage, RATELIMIT_KEY_PREFIX=f"a1w-bench-{os.getpid()}"
    )
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "companies", "create", "Bench GmbH")
    flask_cli(
        env,
        "users",
        "create",
        "bench@example.com",
        "--role",
        "employee",
        "--company",
        "Bench GmbH",
        "--family-name",
        "Fernández García",
        "--given-names",
        "María Luisa",
        "--birth-date",
        "1987-03-14",
        "--home-state",
        "DE",
    )
    issued = json.loads(
        flask_cli(
            env,
            "certificates",
            "issue",
            "--employee",
            "bench@example.com",
            "--type",
            "A1",
            "--legislation-state",
            "DE",
            "--work-states",
            "FR,BE",
            "--valid-from",
            "2026-01-01",
            "--valid-to",
            "2030-12-31",
        )
    )
    token_path = "/V/" + issued["qr_text"].split("/V/", 1)[1]

    # A phone asks for compression (Flask-Compress answers brotli); the two routes alternate in
    # short rounds so that a busy machine slows both alike.
    headers = {"Accept-Encoding": "gzip, deflate, br"}
    rounds = max(1, args.rounds)
    load_before = os.getloadavg()[0]
    bare_rows, page_rows = [], []
    with gunicorn(env, workers=args.workers) as port:
        drive(port, "/bench/bare", 1, args.concurrency, headers)  # warm up both paths
        drive(port, token_path, 1, args.concurrency, headers)
        for _ in range(rounds):
            bare_rows.append(
                drive(port, "/bench/bare", args.seconds / rounds, args.concurrency, headers)
            )
            page_rows.append(
                drive(port, token_path, args.seconds / rounds, args.concurrency, headers)
            )
    bare, page = _combined(bare_rows), _combined(page_rows)

    print(
        f"gunicorn {args.workers} workers, {args.concurrency} clients, "
        f"{args.seconds:.0f} s each in {rounds} alternating rounds, loopback, Accept-Encoding br, "
        f"limiter storage {storage}; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)"
    )
    print(f"{'route':<14} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, row in (("bare Flask", bare), ("/V/<token>", page)):
        print(
            f"{name:<14} {row['requests']:>9} {row['rps']:>8.0f} {row['p50_ms']:>8.2f} "
            f"{row['p99_ms']:>8.2f} {row['errors']:>7}"
        )
    ratio = page["rps"] / bare["rps"]
    print(f"ratio /V/ ÷ bare = {ratio:.2f} (target ≥ 0.5) {'PASS' if ratio >= 0.5 else 'FAIL'}")
    return 0 if page["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
