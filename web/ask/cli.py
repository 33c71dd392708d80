"""`flask --app app incidents escalate`: "an authority is asking" incidents nobody acknowledged."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

incidents_cli = AppGroup("incidents", help='"An authority is asking" incidents.')


@incidents_cli.command("escalate")
def escalate_command() -> None:
    """Alert every support agent and operator about incidents nobody acknowledged in time
    (INCIDENT_ESCALATE_MINUTES); run every minute from cron."""
    from web.ask.services import escalate_unacknowledged

    click.echo(json.dumps({"escalated": escalate_unacknowledged()}))
