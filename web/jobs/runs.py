"""One run of a periodic job, claimed in the ``job_run`` table so that it happens once per period.

The claim is a row unique per (job, period): of several schedulers, on one machine or many, the
first to insert it runs the job and the others skip that period. The claim transaction also
refuses while another run of the same job still holds its lease (a slow run of the previous
period), so two runs of one job never overlap. On PostgreSQL the claim transaction first takes
``pg_advisory_xact_lock`` on the job's key, which makes "insert, then look for a running one"
atomic across machines; on SQLite (one machine) the insert takes the database's write lock, with
the same effect. A run that failed, or whose process died (lease expired), may be claimed again
within the same period.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from web.extensions import db
from web.models import JobRun, JobRunStatus, utcnow

log = logging.getLogger("a1wallet.jobs")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_start(now: datetime, period: timedelta) -> datetime:
    """The start of the period that contains ``now``: periods are aligned on the Unix epoch, so
    a day is a UTC calendar day and a minute starts at :00 on every machine."""
    seconds = period.total_seconds()
    elapsed = (now - EPOCH).total_seconds()
    return EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


def period_key(now: datetime, period: timedelta) -> str:
    return period_start(now, period).strftime("%Y-%m-%dT%H:%M:%S")


def _lock_key(job: str) -> int:
    # A stable signed 64-bit key per job (pg_advisory_xact_lock takes a bigint).
    return zlib.crc32(f"a1w-job:{job}".encode())


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


@dataclass(frozen=True)
class Claim:
    run_id: int | None
    reason: str  # "claimed", "done" (this period ran already), "busy" (another run is going on)

    @property
    def claimed(self) -> bool:
        return self.run_id is not None


def claim(job: str, period: str, lease: timedelta, now: datetime | None = None) -> Claim:
    """Claim ``period`` of ``job`` for this process (committed), or say why not."""
    now = now or utcnow()
    db.session.rollback()  # start from a fresh transaction: the lock is transaction-scoped
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(job)})
    run = JobRun(
        job=job,
        period=period,
        status=JobRunStatus.RUNNING.value,
        attempts=1,
        runner=runner_name(),
        started_at=now,
        lease_until=now + lease,
    )
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:
        # This period has a row: run again only if that run failed or its process died.
        again = db.session.execute(
            update(JobRun)
            .where(
                JobRun.job == job,
                JobRun.period == period,
                or_(
                    JobRun.status == JobRunStatus.FAILED.value,
                    (JobRun.status == JobRunStatus.RUNNING.value) & (JobRun.lease_until < now),
                ),
            )
            .values(
                status=JobRunStatus.RUNNING.value,
                attempts=JobRun.attempts + 1,
                runner=runner_name(),
                started_at=now,
                lease_until=now + lease,
                finished_at=None,
                error=None,
            )
        ).rowcount
        if again != 1:
            db.session.rollback()
            return Claim(None, "done")
        run = db.session.scalar(select(JobRun).where(JobRun.job == job, JobRun.period == period))
    busy = db.session.scalar(
        select(func.count())
        .select_from(JobRun)
        .where(
            JobRun.job == job,
            JobRun.id != run.id,
            JobRun.status == JobRunStatus.RUNNING.value,
            JobRun.lease_until >= now,
        )
    )
    if busy:
        db.session.rollback()
        return Claim(None, "busy")
    run_id = run.id
    db.session.commit()
    return Claim(run_id, "claimed")


def finish(run_id: int, *, result: dict | None = None, error: BaseException | None = None) -> None:
    """Record the outcome of a claimed run (committed). Only the exception's class is kept: its
    text may carry personal data."""
    db.session.rollback()
    db.session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(
            status=JobRunStatus.FAILED.value if error else JobRunStatus.SUCCEEDED.value,
            finished_at=utcnow(),
            result=json.dumps(result, default=str)[:500] if result is not None else None,
            error=type(error).__name__[:200] if error else None,
        )
    )
    db.session.commit()


@dataclass(frozen=True)
class Outcome:
    job: str
    period: str
    status: str  # succeeded, failed, done, busy
    result: dict | None = None


def run_once(
    job: str,
    work: Callable[[], dict],
    *,
    period: timedelta,
    lease: timedelta,
    now: datetime | None = None,
) -> Outcome:
    """Claim the current period of ``job`` and run ``work`` if the claim succeeds."""
    now = now or utcnow()
    key = period_key(now, period)
    taken = claim(job, key, lease, now)
    if not taken.claimed:
        return Outcome(job, key, taken.reason)
    try:
        result = work()
    except Exception as exc:
        log.exception("job %s (%s) failed", job, key)
        finish(taken.run_id, error=exc)
        return Outcome(job, key, JobRunStatus.FAILED.value)
    finish(taken.run_id, result=result)
    # A line when the run did something (an escalation every minute would drown the log).
    did_something = any(value for value in (result or {}).values())
    log.log(logging.INFO if did_something else logging.DEBUG, "job %s (%s): %s", job, key, result)
    return Outcome(job, key, JobRunStatus.SUCCEEDED.value, result)


def last_successes() -> dict[str, datetime]:
    """Each job's last successful run (its end), for /metrics and `jobs status`."""
    rows = db.session.execute(
        select(JobRun.job, func.max(JobRun.finished_at))
        .where(JobRun.status == JobRunStatus.SUCCEEDED.value)
        .group_by(JobRun.job)
    ).all()
    return {job: finished for job, finished in rows if finished is not None}
