"""Tap-to-support-notified time of "An authority is asking" on loopback (issue 7).

    .venv/bin/python benchmarks/alert_latency.py [--alerts 200] [--workers 2] [--poll 0.05]

One alert at a time: the clock starts when the phone's `POST /ask` (JSON, Idempotency-Key,
CSRF token, signed-in session) is sent to gunicorn and stops when the push-service stand-in
(tests/push_service.py) receives the alert push for the on-duty support agent: the server writes
the incident and the push into its outbox in one transaction, and the relay
(`flask outbox relay --poll 0.05`, a separate process) sends it, VAPID-signed and encrypted.
The floor is a bare POST round trip to the same server (`POST /bench/bare`, no database), timed
in the same loop, alternating with the alerts. Prints median and p99 of each and the ratios.
The relay's polling interval is part of the figure (half of it on average: a random pause
between alerts keeps them out of step with the relay's polling).

Then the same again with two hostile push services among the agent's subscriptions (issue 12):
one that reads the request and never answers, one that answers one byte a second. Each alert
goes to them too; the relay's sends run in a bounded pool with a total deadline each, so the
alert to the agent's phone must not wait for them: the script prints the hostile run's median
and p99 beside the clean run's, and their ratio (target at most 1.5×).
The stand-in is on loopback, so the processes run with PUSH_ALLOW_LOOPBACK_ENDPOINTS=1 and a
loopback PUBLIC_BASE_URL.
Set BENCH_DATABASE_URL=postgresql://… to measure on PostgreSQL.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._server import (
    ROOT,
    bench_env,
    employee_on_a_trip,
    flask_cli,
    gunicorn,
    percentile,
    workdir,
)
from tests.live import signed_in_session
from tests.push_service import LOOPBACK_SETTINGS, PushServiceStandIn

EMPLOYEE = "bench.employee@example.com"
AGENT = "anna.support@example.com"
PASSWORD = "benchmark password 1"  # noqa: S105 (a throwaway database's only employee)
WARM_UP = 10
RELAY_DEADLINE_SECONDS = 10  # PUSH_SEND_DEADLINE_SECONDS, the default
RELAY = [sys.executable, "-m", "flask", "--app", "app", "outbox", "relay"]
INCIDENT_URL = re.compile(r"/support/incidents/(\d+)")


class TimedStandIn(PushServiceStandIn):
    """The stand-in, noting when each push arrives (before it decrypts and answers)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[int, float] = {}  # incident id → perf_counter at arrival
        self.condition = threading.Condition()

    def _handle(self, request) -> None:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        super()._handle(request)
        with self.lock:
            record = next((r for r in reversed(self.received) if r.path == request.path), None)
        payload = (record.payload or {}) if record else {}
        match = INCIDENT_URL.search(payload.get("url", ""))
        if record and record.status == 201 and match:
            with self.condition:
                self.arrived.setdefault(int(match.group(1)), started)
                self.condition.notify_all()

    def wait_for(self, incident_id: int, timeout: float = 30) -> float:
        with self.condition:
            if not self.condition.wait_for(lambda: incident_id in self.arrived, timeout):
                raise TimeoutError(f"no alert push for incident {incident_id} in {timeout} s")
            return self.arrived[incident_id]


def prepare(env: dict[str, str], stand_in: TimedStandIn):  # type: ignore[no-untyped-def]
    """The database, an employee on a trip, an on-duty agent whose phone is the stand-in."""
    employee_on_a_trip(env, EMPLOYEE, PASSWORD, "Kowalski", "Jan")
    flask_cli(env, "users", "create", AGENT, "--role", "support")
    os.environ.update(env)
    from app import create_app
    from web.extensions import db
    from web.models import User
    from web.push.services import save_subscription, validate_subscription
    from web.push.vapid import vapid

    app = create_app()
    with app.app_context():
        vapid()  # the key, made once here rather than raced for by the processes
        agent = db.session.query(User).filter_by(email=AGENT).one()
        phone = stand_in.new_browser("agent-phone")
        save_subscription(agent, validate_subscription(phone.subscription_json()))
        db.session.commit()
        db.engine.dispose()
    return app


def add_hostile_subscriptions(app, stand_in: TimedStandIn, block: int) -> None:  # type: ignore[no-untyped-def]
    """Two more devices for the agent: a push service that hangs, one that drips."""
    from web.extensions import db
    from web.models import User
    from web.push.services import save_subscription, validate_subscription

    with app.app_context():
        agent = db.session.query(User).filter_by(email=AGENT).one()
        hostile = (stand_in.hung_browser(f"hung{block}"), stand_in.dripping_browser(f"drip{block}"))
        for browser in hostile:
            save_subscription(agent, validate_subscription(browser.subscription_json()))
        db.session.commit()
        db.engine.dispose()


def remove_hostile_subscriptions(app) -> None:  # type: ignore[no-untyped-def]
    """Back to the agent's one phone; their messages still queued become "gone"."""
    from sqlalchemy import delete

    from web.extensions import db
    from web.models import PushSubscription

    with app.app_context():
        db.session.execute(
            delete(PushSubscription).where(
                PushSubscription.endpoint.contains("/push/hung")
                | PushSubscription.endpoint.contains("/push/drip")
            )
        )
        db.session.commit()
        db.engine.dispose()


class Phone:
    """The employee's signed-in session on one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        session, self.csrf = signed_in_session(
            f"http://127.0.0.1:{port}", EMPLOYEE, PASSWORD, csrf_page="/wallet/"
        )
        self.cookies: dict[str, str] = {c.name: c.value for c in session.cookies}
        session.close()

    def request(self, method: str, path: str, body: str | None = None, headers=None) -> str:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {text[:300]}")
        return text

    def alert(self) -> tuple[int, float, float]:
        """POST /ask; returns the incident id and the perf_counter at sending and at the answer."""
        body = json.dumps(
            {
                "certificate_id": None,
                "latitude": None,
                "longitude": None,
                "tapped_at": None,  # the server's clock, to the microsecond
            }
        )
        headers = {
            "Idempotency-Key": str(uuid.uuid4()),
            "X-CSRFToken": self.csrf,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        sent = time.perf_counter()
        answer = json.loads(self.request("POST", "/ask", body, headers))
        return int(answer["id"]), sent, time.perf_counter()

    def bare(self) -> float:
        started = time.perf_counter()
        self.request("POST", "/bench/bare", "{}", {"Content-Type": "application/json"})
        return time.perf_counter() - started


def measure(
    phone: Phone,
    stand_in: TimedStandIn,
    relay: subprocess.Popen,
    alerts: int,
    poll: float,
    warm_up: int = 0,
) -> dict[str, list[float]]:
    """``alerts`` alerts one at a time (after ``warm_up``): bare round trip, /ask, tap → push."""
    bare: list[float] = []
    answered: list[float] = []
    notified: list[float] = []
    relayed: list[float] = []
    for i in range(warm_up + alerts):
        floor = phone.bare()
        incident_id, sent, answer = phone.alert()
        arrived = stand_in.wait_for(incident_id)
        if i >= warm_up:
            bare.append(floor)
            answered.append(answer - sent)
            notified.append(arrived - sent)
            relayed.append(arrived - answer)
        if relay.poll() is not None:
            raise RuntimeError(relay.stderr.read().decode()[-2000:])
        # Taps come at any moment: not in step with the relay's polling.
        time.sleep(random.uniform(0, poll))
    return {
        "bare POST round trip": bare,
        "POST /ask round trip (201)": answered,
        "tap → support notified (push)": notified,
        "answered → push arrived (relay)": relayed,
    }


def report(title: str, rows: dict[str, list[float]]) -> None:
    print(title)
    print(f"{'':<34} {'median ms':>10} {'p99 ms':>10}")
    for name, values in rows.items():
        print(
            f"{name:<34} {statistics.median(values) * 1000:>10.2f} "
            f"{percentile(values, 0.99) * 1000:>10.2f}"
        )
    bare = rows["bare POST round trip"]
    base_median, base_p99 = statistics.median(bare), percentile(bare, 0.99)
    for name, values in list(rows.items())[1:3]:
        print(
            f"{'ratio ' + name.split(' (')[0] + ' / bare':<34} "
            f"{statistics.median(values) / base_median:>9.1f}× "
            f"{percentile(values, 0.99) / base_p99:>9.1f}×"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--poll", type=float, default=0.05, help="the relay's polling interval")
    parser.add_argument(
        "--rounds", type=int, default=2, help="clean and hostile blocks, taken in turn"
    )
    args = parser.parse_args()

    with TimedStandIn() as stand_in:
        env = bench_env(
            workdir(),
            **{
                key: str(int(value)) if value is True else value
                for key, value in LOOPBACK_SETTINGS.items()
            },
            SESSION_COOKIE_SECURE="0",  # plain http on loopback
            VAPID_SUBJECT="mailto:ops@a1wallet.eu",
            PUSH_SEND_DEADLINE_SECONDS=str(RELAY_DEADLINE_SECONDS),
            ASK_LIMIT="1000000 per minute",
            # Each tap a new incident and a new alert (taps close together join one incident).
            INCIDENT_JOIN_MINUTES="0",
            LOGIN_LIMIT_PER_CLIENT="1000 per minute",
        )
        app = prepare(env, stand_in)
        relay = subprocess.Popen(
            [*RELAY, "--poll", str(args.poll)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            with gunicorn(env, workers=args.workers) as port:
                phone = Phone(port)
                # Clean and hostile blocks in turn, so that a change in the machine's load
                # during the run falls on both alike.
                clean: dict[str, list[float]] = {}
                hostile: dict[str, list[float]] = {}
                per_block = max(1, args.alerts // args.rounds)
                for block in range(args.rounds):
                    if block:
                        remove_hostile_subscriptions(app)
                        # The sends still held by the hostile services end at the deadline.
                        time.sleep(RELAY_DEADLINE_SECONDS + 1)
                    warm_up = 0 if block else WARM_UP
                    for name, values in measure(
                        phone, stand_in, relay, per_block, args.poll, warm_up
                    ).items():
                        clean.setdefault(name, []).extend(values)
                    add_hostile_subscriptions(app, stand_in, block)
                    for name, values in measure(
                        phone, stand_in, relay, per_block, args.poll
                    ).items():
                        hostile.setdefault(name, []).extend(values)
        finally:
            relay.terminate()
            relay.wait(timeout=30)
        pushes = [r for r in stand_in.received if r.status == 201]
        stuck = [r for r in stand_in.received if r.error in ("hang", "drip")]

    database = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(
        f"{per_block * args.rounds} alerts per case one at a time, in {args.rounds} blocks each "
        f"(after {WARM_UP} to warm up), gunicorn "
        f"{args.workers} workers, {database}, relay polling every {args.poll * 1000:.0f} ms, "
        "loopback"
    )
    report("\nclean: the agent's one phone", clean)
    report("\nhostile: the agent's phone, a hung and a dripping push service", hostile)
    print(f"\n{'hostile / clean':<34} {'median':>10} {'p99':>10}")
    for name in ("tap → support notified (push)", "answered → push arrived (relay)"):
        print(
            f"{name:<34} "
            f"{statistics.median(hostile[name]) / statistics.median(clean[name]):>9.2f}× "
            f"{percentile(hostile[name], 0.99) / percentile(clean[name], 0.99):>9.2f}×"
            + ("   (target ≤ 1.5×)" if name.startswith("tap") else "")
        )
    print(
        f"pushes received by the stand-in: {len(pushes)} delivered (urgency {pushes[-1].urgency}), "
        f"{len(stuck)} sends held by the hung and dripping services until the relay's deadline "
        f"({RELAY_DEADLINE_SECONDS} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
