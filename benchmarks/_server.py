"""Shared by the benchmarks: a throwaway database, gunicorn on loopback, a closed-loop client."""

from __future__ import annotations

import http.client
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from tests.gunicorn_server import Gunicorn, free_port  # noqa: F401 - the benchmarks' too

ROOT = Path(__file__).resolve().parent.parent


def bench_env(workdir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "A1W_INSTANCE_PATH": str(workdir / "instance"),
        "DATABASE_URL": os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}"
        ),
        "SECRET_KEY": "benchmark",
        "PUBLIC_BASE_URL": "https://a1.example.eu",
        "VERIFY_PAGE_LIMIT": "1000000 per minute",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def flask_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int = 2, app: str = "benchmarks.bench_app:create_bench_app()"
) -> Iterator[int]:
    """The tests' gunicorn launcher, ready once /bench/bare answers; yields its port."""
    with Gunicorn(env, workers=workers, app=app, ready_path="/bench/bare") as server:
        yield server.port


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def employee_on_a_trip(
    env: dict[str, str], email: str, password: str, family_name: str, given_names: str
) -> tuple[str, str]:
    """A fresh database with one employee of "Bench Bau GmbH" (home state DE) on a trip to France
    from two days ago to 30 days ahead; returns the trip's first and last day (ISO)."""
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "companies", "create", "Bench Bau GmbH")
    flask_cli(
        env, "users", "create", email, "--role", "employee", "--company", "Bench Bau GmbH",
        "--family-name", family_name, "--given-names", given_names, "--birth-date", "1985-06-01",
        "--home-state", "DE", "--password-stdin",
        stdin=password + "\n",
    )  # fmt: skip
    today = date.today()
    start, end = (today - timedelta(days=2)).isoformat(), (today + timedelta(days=30)).isoformat()
    flask_cli(
        env, "trips", "create", "--employee", email, "--destination", "FR",
        "--start", start, "--end", end,
    )  # fmt: skip
    return start, end


def drive(
    port: int, path: str, seconds: float, concurrency: int, headers: dict[str, str] | None = None
) -> dict[str, float]:
    """Closed loop: ``concurrency`` clients on keep-alive connections for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers or {})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except OSError:
                bad += 1
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - begun
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
    }


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="a1w-bench-"))
