"""Open-loop load on the public verification page, the wallet and alerts, against a bare route.

    .venv/bin/python benchmarks/load.py [--seconds 60] [--rate 50] [--burst 200]
                                        [--burst-every 15] [--workers 4]
    .venv/bin/python benchmarks/load.py --seconds 10          # the smoke run

gunicorn (4 sync workers) on loopback serves a SQLite file seeded by `flask demo`. The generator
is Python's standard library only (threads + http.client, one new connection per request, as
gunicorn's sync workers close each one): requests arrive at --rate per second (Poisson,
seeded) whatever the server does, plus --burst requests at once every --burst-every seconds.
Arrivals go round-robin to five endpoints, so each sees the same load:

- bare Flask: `GET /bench/bare` (benchmarks/bench_app.py: same app, same server, no work);
- `GET /V/<token>`: the public verification page of a demo certificate;
- `GET /wallet/` and `GET /wallet/certificates/<id>`: a signed-in demo employee;
- `POST /ask`: "An authority is asking" (JSON, a new Idempotency-Key each time, CSRF header).

Latency is measured from the moment a request was due, not from when a client thread got to it
(no coordinated omission). Prints per endpoint: requests, errors (target 0), p50 and p99, and
each endpoint's p50 and p99 divided by the bare route's in the same run; the same for the
steady-rate requests alone; and how long each burst took to be answered. Exits 1 on any error.
Set BENCH_DATABASE_URL=postgresql://… to run on PostgreSQL (the database must be empty).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._server import bench_env, flask_cli, gunicorn, percentile, workdir
from tests.live import signed_in_session

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
ENDPOINTS = ("bare Flask", "GET /V/<token>", "GET /wallet/", "GET /wallet/certificates/<id>")
ASK = "POST /ask"


@dataclass
class Phone:
    """A signed-in demo employee: cookies, CSRF token, one of their certificates."""

    email: str
    certificate_id: str
    password: str = ""
    cookies: str = ""
    csrf: str = ""


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    steady: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # no burst
    bursts: dict[float, float] = field(default_factory=lambda: defaultdict(float))  # due → last
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, str] = field(default_factory=dict)  # the first error of each endpoint


def _request(port: int, method: str, path: str, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _sign_in(port: int, phone: Phone) -> None:
    session, phone.csrf = signed_in_session(
        f"http://127.0.0.1:{port}", phone.email, phone.password, csrf_page="/wallet/"
    )
    phone.cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    session.close()


def _seed(env: dict[str, str]) -> tuple[list[str], list[Phone]]:
    """`flask demo`, then the QR paths of the demo certificates and the employees who hold one."""
    flask_cli(env, "db", "upgrade")
    # The benchmark's PUBLIC_BASE_URL is not loopback (QR text as in production), so the demo
    # command must be told this database is a throwaway one; it then prints the fresh password
    # all demo logins share ("  role  email  password").
    printed = flask_cli(env, "demo", "--i-know-this-is-not-production")
    password = next(
        parts[2]
        for parts in (line.split() for line in printed.splitlines())
        if len(parts) == 3 and "@" in parts[1]
    )
    os.environ.update(env)
    from sqlalchemy import select

    from app import create_app
    from web.extensions import db
    from web.models import Certificate, CertificateStatus, Employee, Role, User

    app = create_app()
    with app.app_context():
        rows = db.session.execute(
            select(Certificate.id, Certificate.qr_text, User.email)
            .join(Employee, Certificate.employee_id == Employee.id)
            .join(User, Employee.user_id == User.id)
            .where(
                Certificate.status == CertificateStatus.ACTIVE.value,
                User.role == Role.EMPLOYEE.value,
            )
            .order_by(Certificate.id)
        ).all()
        db.engine.dispose()
    tokens = ["/V/" + qr.split("/V/", 1)[1] for _id, qr, _email in rows if qr]
    phones: dict[str, Phone] = {}
    for certificate_id, _qr, email in rows:
        phones.setdefault(email, Phone(email, certificate_id, password))
    if not tokens or not phones:
        raise RuntimeError("the demo data has no certificates")
    return tokens, list(phones.values())


def _job(port: int, endpoint: str, n: int, tokens: list[str], phones: list[Phone]):
    """What one arrival sends: (method, path, body, headers, expected status)."""
    if endpoint == "bare Flask":
        return "GET", "/bench/bare", None, {}, 200
    if endpoint == "GET /V/<token>":
        return "GET", tokens[n % len(tokens)], None, {"Accept-Language": "fr"}, 200
    phone = phones[n % len(phones)]
    headers = {"Cookie": phone.cookies}
    if endpoint == "GET /wallet/":
        return "GET", "/wallet/", None, headers, 200
    if endpoint == "GET /wallet/certificates/<id>":
        return "GET", f"/wallet/certificates/{phone.certificate_id}", None, headers, 200
    headers.update(
        {
            "Idempotency-Key": str(uuid.uuid4()),
            "X-CSRFToken": phone.csrf,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
    )
    return "POST", "/ask", "{}", headers, 201


def _send(port: int, endpoint: str, job, due: float, burst: bool, results: Results) -> None:
    method, path, body, headers, expected = job
    try:
        status, _headers, content = _request(port, method, path, body, headers)
        problem = None if status == expected else f"HTTP {status}: {content[:200]!r}"
    except (OSError, http.client.HTTPException) as exc:
        problem = repr(exc)
    elapsed = time.perf_counter() - due
    with results.lock:
        results.latencies[endpoint].append(elapsed)
        if burst:
            results.bursts[due] = max(results.bursts[due], elapsed)
        else:
            results.steady[endpoint].append(elapsed)
        if problem:
            results.errors[endpoint] += 1
            results.samples.setdefault(endpoint, problem)


def run_load(
    port: int,
    tokens: list[str],
    phones: list[Phone],
    *,
    seconds: float,
    rate: float,
    burst: int,
    burst_every: float,
    threads: int,
    seed: int,
) -> tuple[Results, int]:
    """The open-loop schedule: Poisson arrivals at ``rate`` plus a burst every ``burst_every``
    seconds (the first after one interval). Returns the results and the number of requests."""
    endpoints = (*ENDPOINTS, ASK)
    rng = random.Random(seed)
    schedule: list[tuple[float, bool]] = []  # (seconds from the start, part of a burst)
    moment = rng.expovariate(rate)
    while moment < seconds:
        schedule.append((moment, False))
        moment += rng.expovariate(rate)
    if burst and burst_every > 0:
        at = burst_every
        while at < seconds:
            schedule.extend([(at, True)] * burst)
            at += burst_every
    schedule.sort()
    results = Results()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        start = time.perf_counter()
        for n, (offset, in_burst) in enumerate(schedule):
            due = start + offset
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            endpoint = endpoints[n % len(endpoints)]
            job = _job(port, endpoint, n // len(endpoints), tokens, phones)
            pool.submit(_send, port, endpoint, job, due, in_burst, results)
    return results, len(schedule)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60, help="length of the measured run")
    parser.add_argument("--rate", type=float, default=50, help="steady arrivals per second")
    parser.add_argument("--burst", type=int, default=200, help="requests sent at once per burst")
    parser.add_argument("--burst-every", type=float, default=15, help="seconds between bursts")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=256, help="client threads (≥ burst)")
    parser.add_argument("--warm-up", type=float, default=3, help="seconds at --rate, not counted")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    env = bench_env(
        workdir(),
        SESSION_COOKIE_SECURE="0",  # plain http on loopback
        ASK_LIMIT="1000000 per minute",
        # Each arrival stands for another inspection: a new incident and its alert, not a tap
        # joining the last one (which would measure a cheaper path).
        INCIDENT_JOIN_MINUTES="0",
        LOGIN_LIMIT_PER_CLIENT="1000 per minute",
    )
    tokens, phones = _seed(env)
    database = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite file"
    with gunicorn(env, workers=args.workers) as port:
        for phone in phones:
            _sign_in(port, phone)
        run_load(
            port,
            tokens,
            phones,
            seconds=args.warm_up,
            rate=args.rate,
            burst=0,
            burst_every=0,
            threads=args.threads,
            seed=args.seed + 1,
        )
        began = time.perf_counter()
        results, sent = run_load(
            port,
            tokens,
            phones,
            seconds=args.seconds,
            rate=args.rate,
            burst=args.burst,
            burst_every=args.burst_every,
            threads=args.threads,
            seed=args.seed,
        )
        wall = time.perf_counter() - began

    bursts = int((args.seconds - 1e-9) // args.burst_every) if args.burst_every > 0 else 0
    print(
        f"open loop: {args.seconds:.0f} s at {args.rate:.0f} req/s (Poisson) + {bursts} bursts of "
        f"{args.burst} every {args.burst_every:.0f} s = {sent} requests in {wall:.1f} s; "
        f"gunicorn {args.workers} sync workers, {database} (flask demo: {len(tokens)} "
        f"certificates, {len(phones)} signed-in employees), loopback"
    )
    print(
        f"client: Python {platform.python_version()} stdlib threads ({args.threads}) + "
        f"http.client, a new connection per request; {os.cpu_count()} CPUs shared with the server"
    )
    bare = results.latencies["bare Flask"]
    base50, base99 = percentile(bare, 0.5), percentile(bare, 0.99)
    print(
        f"{'endpoint':<31} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p50÷bare':>9} {'p99÷bare':>9}"
    )
    total_errors = 0
    for endpoint in (*ENDPOINTS, ASK):
        values = results.latencies[endpoint]
        errors = results.errors[endpoint]
        total_errors += errors
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(
            f"{endpoint:<31} {len(values):>8} {errors:>6} {p50 * 1000:>8.1f} {p99 * 1000:>8.1f} "
            f"{p50 / base50:>8.1f}× {p99 / base99:>8.1f}×"
        )
    steady_bare = (
        percentile(results.steady["bare Flask"], 0.5),
        percentile(results.steady["bare Flask"], 0.99),
    )
    print(
        "the steady-rate requests alone (those that arrive while a burst drains queue behind it):"
    )
    for endpoint in (*ENDPOINTS, ASK):
        values = results.steady[endpoint]
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(
            f"{endpoint:<31} {len(values):>8} {'':>6} {p50 * 1000:>8.1f} {p99 * 1000:>8.1f} "
            f"{p50 / steady_bare[0]:>8.1f}× {p99 / steady_bare[1]:>8.1f}×"
        )
    if results.bursts:
        drained = ", ".join(f"{last:.2f} s" for _due, last in sorted(results.bursts.items()))
        print(f"each burst of {args.burst} fully answered after: {drained}")
    print(f"errors: {total_errors} (target 0) {'PASS' if total_errors == 0 else 'FAIL'}")
    for endpoint, sample in results.samples.items():
        print(f"  first error of {endpoint}: {sample}")
    print(json.dumps({"errors": total_errors, "requests": sent}))
    return 0 if total_errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
