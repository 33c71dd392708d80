"""Periodic jobs (web/jobs/): each runs once per period however many schedulers run, a failed
or abandoned run is taken again, two runs of one job never overlap, and the CLI."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from tests.conftest import base_config
from web.extensions import db
from web.jobs.runs import last_successes, period_key, run_once
from web.jobs.schedule import JobSpec, build_scheduler, job_specs
from web.models import Incident, JobRun, JobRunStatus, OutboxMessage, Role

MINUTE = timedelta(minutes=1)
NOON = datetime(2026, 12, 2, 12, 0, 30, tzinfo=UTC)


def test_periods_are_aligned_on_utc() -> None:
    assert period_key(NOON, MINUTE) == "2026-12-02T12:00:00"
    assert period_key(NOON, timedelta(days=1)) == "2026-12-02T00:00:00"
    assert period_key(NOON + timedelta(seconds=29.9), MINUTE) == "2026-12-02T12:00:00"
    assert period_key(NOON + timedelta(seconds=30), MINUTE) == "2026-12-02T12:01:00"


def test_a_period_runs_once(app) -> None:
    calls = []
    with app.app_context():
        first = run_once(
            "demo", lambda: calls.append(1) or {"n": 1}, period=MINUTE, lease=MINUTE, now=NOON
        )
        again = run_once(
            "demo",
            lambda: calls.append(1) or {"n": 1},
            period=MINUTE,
            lease=MINUTE,
            now=NOON + timedelta(seconds=20),
        )
        later = run_once(
            "demo",
            lambda: calls.append(1) or {"n": 1},
            period=MINUTE,
            lease=MINUTE,
            now=NOON + MINUTE,
        )
        rows = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
        assert (first.status, again.status, later.status) == ("succeeded", "done", "succeeded")
        assert len(calls) == 2
        assert [(r.period, r.status, json.loads(r.result)) for r in rows] == [
            ("2026-12-02T12:00:00", "succeeded", {"n": 1}),
            ("2026-12-02T12:01:00", "succeeded", {"n": 1}),
        ]
        assert last_successes()["demo"] == rows[1].finished_at


def test_a_failed_run_is_taken_again_and_keeps_no_message(app) -> None:
    def boom() -> dict:
        raise RuntimeError("Anna Müller's incident")  # text that must not be stored

    with app.app_context():
        failed = run_once("demo", boom, period=MINUTE, lease=MINUTE, now=NOON)
        row = db.session.scalar(select(JobRun))
        assert failed.status == "failed" and row.error == "RuntimeError"
        assert "demo" not in last_successes()
        retried = run_once("demo", lambda: {"ok": True}, period=MINUTE, lease=MINUTE, now=NOON)
        db.session.refresh(row)
        assert retried.status == "succeeded"
        assert (row.status, row.attempts, row.error) == ("succeeded", 2, None)


def test_a_run_in_progress_blocks_the_next_until_its_lease_ends(app) -> None:
    with app.app_context():
        # A run of the previous minute, still going on (or its process died) with a live lease.
        db.session.add(
            JobRun(
                job="demo",
                period=period_key(NOON - MINUTE, MINUTE),
                status="running",
                runner="elsewhere:1",
                started_at=NOON - MINUTE,
                lease_until=NOON + MINUTE,
            )
        )
        db.session.commit()
        assert run_once("demo", lambda: {}, period=MINUTE, lease=MINUTE, now=NOON).status == "busy"
        # Its lease expired: the current period runs, and the dead one's period may run again.
        later = NOON + MINUTE + timedelta(seconds=10)
        assert (
            run_once("demo", lambda: {}, period=MINUTE, lease=MINUTE, now=later).status
            == "succeeded"
        )


def _counting_spec(name: str, counter: Counter, lock: threading.Lock, period: float) -> JobSpec:
    def work() -> dict:
        with lock:
            counter[name] += 1
        time.sleep(0.05)  # widen the window in which a second scheduler could run it too
        return {"ran": True}

    return JobSpec(
        name, work, timedelta(seconds=period), timedelta(seconds=0.1), timedelta(seconds=30)
    )


def test_two_schedulers_run_each_job_once_per_period(app, database_url, tmp_path) -> None:
    """Two schedulers (two apps, two engines, one database) tick every 0.1 s for ~3 s; each job
    runs exactly once in each of its periods (1 s and 1.5 s)."""
    counter: Counter = Counter()
    lock = threading.Lock()
    apps = [app, create_app(base_config(tmp_path / "second", database_url))]
    schedulers = []
    for each in apps:
        specs = [
            _counting_spec("fast", counter, lock, 1.0),
            _counting_spec("slow", counter, lock, 1.5),
        ]
        schedulers.append(build_scheduler(each, specs))
    started = time.monotonic()
    for scheduler in schedulers:
        scheduler.start()
    time.sleep(3.2)
    for scheduler in schedulers:
        scheduler.shutdown(wait=True)
    elapsed = time.monotonic() - started
    with app.app_context():
        rows = db.session.scalars(select(JobRun)).all()
        runners = {r.runner for r in rows}
        per_period = Counter((r.job, r.period) for r in rows)
    assert all(r.status == JobRunStatus.SUCCEEDED.value for r in rows)
    assert set(per_period.values()) == {1}, per_period  # one row, so one run, per period
    for job, period in (("fast", 1.0), ("slow", 1.5)):
        runs = sum(1 for r in rows if r.job == job)
        assert counter[job] == runs  # the work ran exactly as often as a period was claimed
        # Every period the run overlapped, partial ones at both ends included: no more, no less.
        assert int(elapsed / period) <= runs <= math.ceil(elapsed / period) + 1, (job, runs)
    assert len(runners) == 1  # both in this process (host:pid): the claim is in the database
    for each in apps[1:]:
        with each.app_context():
            db.engine.dispose()


def test_the_jobs_and_their_periods(app) -> None:
    specs = {s.name: s for s in job_specs(app.config)}
    assert set(specs) == {"escalate", "reminders", "renewals", "retention"}
    assert specs["escalate"].period == MINUTE and specs["escalate"].tick == timedelta(seconds=15)
    assert {specs[n].period for n in ("reminders", "renewals", "retention")} == {timedelta(days=1)}
    assert not specs["reminders"].due(datetime(2026, 12, 2, 5, 0, tzinfo=UTC))
    assert specs["reminders"].due(datetime(2026, 12, 2, 5, 15, tzinfo=UTC))


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"INCIDENT_ESCALATE_MINUTES": 0.01, "VAPID_SUBJECT": "mailto:ops@a1wallet.eu"}


def test_escalation_through_the_scheduler_alerts_once(app, data) -> None:
    """Two concurrent ticks of the real escalation job: the incident escalates once."""
    company = data.company()
    employee_id = data.employee(company)
    operator_id = data.user(Role.OPERATOR)
    with app.app_context():
        from web.models import Employee, utcnow

        employee = db.session.get(Employee, employee_id)
        moment = utcnow() - timedelta(minutes=2)
        db.session.add(
            Incident(
                company_id=company,
                employee_id=employee_id,
                user_id=employee.user_id,
                idempotency_key="6f1c1b0e-7d0b-4a55-9a0e-2f3c4d5e6f70",
                tapped_at=moment,
                created_at=moment,
            )
        )
        db.session.commit()
    escalate = next(s for s in job_specs(app.config) if s.name == "escalate")
    outcomes = []

    def tick() -> None:
        with app.app_context():
            outcomes.append(escalate.run())
            db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        escalated = db.session.scalars(
            select(OutboxMessage.user_id).where(OutboxMessage.kind == "alert.escalated")
        ).all()
    assert sorted(o.status for o in outcomes) in (["done", "succeeded"], ["busy", "succeeded"])
    assert next(o for o in outcomes if o.status == "succeeded").result == {"escalated": 1}
    assert escalated in ([], [operator_id])  # [] when the operator has no push subscription


def test_jobs_cli_runs_a_job_once_per_period_and_reports_status(runner) -> None:
    first = json.loads(runner.invoke(args=["jobs", "run", "escalate"]).output.splitlines()[-1])
    second = json.loads(runner.invoke(args=["jobs", "run", "escalate"]).output.splitlines()[-1])
    assert first["status"] == "succeeded" and first["result"] == {"escalated": 0}
    assert second["status"] == "done"  # unless the minute changed in between
    status = json.loads(runner.invoke(args=["jobs", "status"]).output)
    assert status["escalate"] is not None and status["retention"] is None
    unknown = runner.invoke(args=["jobs", "run", "nope"])
    assert unknown.exit_code == 2 and "escalate" in unknown.output
