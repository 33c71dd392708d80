"""Verification page throughput: /V/<token> against a bare Flask route, same gunicorn, same run.

    .venv/bin/python benchmarks/verify_page.py [--seconds 10] [--concurrency 8] [--workers 2]

Prints requests/s, p50/p99 latency for both and the ratio (target: /V/ at least 0.5 of bare).
Set BENCH_DATABASE_URL=postgresql://… to measure on PostgreSQL (its tables are created there).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._server import bench_env, drive, flask_cli, gunicorn, workdir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    env = bench_env(workdir())
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

    with gunicorn(env, workers=args.workers) as port:
        drive(port, "/bench/bare", 1, args.concurrency)  # warm up both paths
        drive(port, token_path, 1, args.concurrency)
        bare = drive(port, "/bench/bare", args.seconds, args.concurrency)
        page = drive(port, token_path, args.seconds, args.concurrency)

    print(
        f"gunicorn {args.workers} workers, {args.concurrency} clients, "
        f"{args.seconds:.0f} s each, loopback"
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
