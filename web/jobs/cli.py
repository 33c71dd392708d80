"""`flask --app app jobs scheduler|run|status` and `flask --app app retention run [--dry-run]`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="Periodic jobs: escalation, reminders, renewals, retention.")
retention_cli = AppGroup("retention", help="Delete personal data kept long enough.")


def _job_names() -> list[str]:
    from web.jobs.schedule import job_specs

    return [spec.name for spec in job_specs(current_app.config)]


@jobs_cli.command("scheduler")
def scheduler_command() -> None:
    """Run every periodic job on time until stopped (Ctrl-C, SIGTERM). Several schedulers may
    run at once, on one machine or many: each job runs once per period."""
    from web.jobs.schedule import run_scheduler

    run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]


@jobs_cli.command("run")
@click.argument("name")
def run_job_command(name: str) -> None:
    """Run job NAME now if its current period has not run yet (the same claim as the
    scheduler); prints the outcome as JSON."""
    from web.jobs.schedule import spec_named

    try:
        spec = spec_named(current_app.config, name)
    except KeyError:
        raise click.UsageError(f"no job {name!r}; jobs: {', '.join(_job_names())}") from None
    outcome = spec.run()
    if outcome is None:
        click.echo(
            json.dumps({"job": name, "status": "not_yet", "not_before": str(spec.not_before)})
        )
        return
    click.echo(json.dumps(outcome.__dict__, default=str))
    if outcome.status == "failed":
        raise SystemExit(1)


@jobs_cli.command("status")
def status_command() -> None:
    """Each job's last successful run (UTC), as JSON."""
    from web.jobs.runs import last_successes

    last = last_successes()
    click.echo(
        json.dumps(
            {name: (last[name].isoformat() if name in last else None) for name in _job_names()}
        )
    )


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Print what would go; change nothing.")
def retention_run_command(dry_run: bool) -> None:
    """Apply the retention policy now (the scheduler does it daily); prints what went."""
    from web.jobs.retention import apply_retention

    for line in apply_retention(dry_run=dry_run).lines():
        click.echo(line)
