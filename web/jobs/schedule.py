"""The periodic jobs and the scheduler that runs them (`flask --app app jobs scheduler`).

Every scheduler ticks each job often (a quarter of a period for escalation, every few minutes
for the daily jobs) and runs it only when it can claim the current period (runs.py): so several
schedulers, on one machine or many, run each job once per period, and a scheduler started at
any time of day runs the day's jobs soon after (not before their time of day, in UTC).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app

from web.jobs.runs import Outcome, run_once
from web.models import utcnow

log = logging.getLogger("a1wallet.jobs")
DAY = timedelta(days=1)


def escalate() -> dict:
    from web.ask.services import escalate_unacknowledged

    return {"escalated": escalate_unacknowledged()}


def reminders() -> dict:
    from web.declarations.reminders import send_declaration_reminders
    from web.push.reminders import send_reminders

    declarations = send_declaration_reminders()
    return {
        **send_reminders().__dict__,
        "declarations_due": declarations.due,
        "declarations_started": declarations.started,
    }


def renewals() -> dict:
    from web.extensions import db
    from web.filing.certificate_requests import open_due_renewals

    opened = open_due_renewals(utcnow().date())
    db.session.commit()
    return {"opened": len(opened)}


def retention() -> dict:
    from web.jobs.retention import apply_retention

    return apply_retention(dry_run=False).counts()


@dataclass(frozen=True)
class JobSpec:
    """A periodic job: what it calls, how often, how long a run may hold its claim."""

    name: str
    work: Callable[[], dict]
    period: timedelta
    tick: timedelta  # how often each scheduler tries to claim the current period
    lease: timedelta  # a run that holds its claim longer is taken for dead
    not_before: time | None = None  # daily jobs: the earliest time of day (UTC)

    def due(self, now: datetime) -> bool:
        return self.not_before is None or now.timetz().replace(tzinfo=None) >= self.not_before

    def run(self, now: datetime | None = None) -> Outcome | None:
        """Run the job now if its period is due and free (needs an app context)."""
        now = now or utcnow()
        if not self.due(now):
            return None
        return run_once(self.name, self.work, period=self.period, lease=self.lease, now=now)


def job_specs(config: dict) -> list[JobSpec]:
    """The jobs, with the periods of the configuration (ESCALATION_CHECK_SECONDS,
    DAILY_JOBS_CHECK_SECONDS)."""
    escalation = timedelta(seconds=config["ESCALATION_CHECK_SECONDS"])
    daily_tick = timedelta(seconds=config["DAILY_JOBS_CHECK_SECONDS"])
    quarter = max(escalation / 4, timedelta(seconds=1))
    return [
        JobSpec(
            "escalate", escalate, escalation, quarter, max(2 * escalation, timedelta(minutes=1))
        ),
        # The times of the former cron lines: reminders before the working day in Europe.
        JobSpec("reminders", reminders, DAY, daily_tick, timedelta(hours=1), time(5, 15)),
        JobSpec("renewals", renewals, DAY, daily_tick, timedelta(hours=1), time(5, 30)),
        JobSpec("retention", retention, DAY, daily_tick, timedelta(hours=1), time(2, 0)),
    ]


def spec_named(config: dict, name: str) -> JobSpec:
    for spec in job_specs(config):
        if spec.name == name:
            return spec
    raise KeyError(name)


def _tick(app: Flask, spec: JobSpec) -> None:
    with app.app_context():
        try:
            spec.run()
        except Exception:  # a database outage: log, and try again at the next tick
            log.exception("job %s: could not claim or record its run", spec.name)
        finally:
            from web.extensions import db

            db.session.remove()


def build_scheduler(app: Flask, specs: list[JobSpec] | None = None) -> BackgroundScheduler:
    """An APScheduler scheduler ticking every job (not started)."""
    specs = specs if specs is not None else job_specs(app.config)
    scheduler = BackgroundScheduler(timezone=UTC)
    now = datetime.now(UTC)
    for spec in specs:
        scheduler.add_job(
            _tick,
            IntervalTrigger(seconds=spec.tick.total_seconds(), timezone=UTC),
            args=(app, spec),
            id=spec.name,
            next_run_time=now,  # a first tick at once: a fresh `make run` does the day's jobs
            max_instances=1,  # never two runs of one job from this scheduler
            coalesce=True,
            misfire_grace_time=None,
        )
    return scheduler


def run_scheduler(app: Flask | None = None) -> None:  # pragma: no cover - runs until stopped
    """Tick every job until SIGINT or SIGTERM (Ctrl-C under honcho, systemd stop)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per tick otherwise
    scheduler = build_scheduler(app)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    names = ", ".join(
        f"{job.id} every {job.trigger.interval.total_seconds():g} s" for job in scheduler.get_jobs()
    )
    log.info("scheduler started: %s", names)
    stop.wait()
    scheduler.shutdown(wait=True)
    log.info("scheduler stopped")
