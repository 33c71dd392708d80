"""Command line for operators: `flask --app app companies|users|trips|demo …`.

Each command lives with its capability (`web/<package>/cli.py`, a thin click layer over that
package's services); this module only registers them. Bad input prints a clear message on
stderr and exits with status 2 (`web/cli_errors.py`).
"""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from web.ask.cli import incidents_cli
    from web.backup import backup_command
    from web.certificates.cli import certificates_cli, keys_cli
    from web.demo import demo_command
    from web.employees.cli import companies_cli, users_cli
    from web.filing.cli import coverage_cli
    from web.jobs.cli import jobs_cli, retention_cli
    from web.push.cli import outbox_cli, reminders_cli
    from web.trips.cli import trips_cli

    for command in (
        coverage_cli,
        incidents_cli,
        companies_cli,
        users_cli,
        trips_cli,
        keys_cli,
        certificates_cli,
        outbox_cli,
        reminders_cli,
        demo_command,
        backup_command,
        jobs_cli,
        retention_cli,
    ):
        app.cli.add_command(command)
    # `declarations rules` is the declarations blueprint's own group (web/declarations/cli.py).
