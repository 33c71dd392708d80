"""`flask --app app outbox relay` and `flask --app app reminders send`: the push outbox and
the reminders it carries."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from web.cli_errors import fail

outbox_cli = AppGroup("outbox", help="The push outbox.")
reminders_cli = AppGroup("reminders", help="Reminders before expiry and for uncovered trips.")


@outbox_cli.command("relay")
@click.option("--once", is_flag=True, help="Send what is due, then exit (for tests and cron).")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between rounds.")
def relay_command(once: bool, poll: float) -> None:
    """Send due push messages (runs until stopped; several relays may run at once)."""
    from web.push.relay import relay_forever, relay_once
    from web.push.vapid import VapidConfigurationError, vapid_subject

    try:
        vapid_subject()
    except VapidConfigurationError as exc:
        fail(str(exc))
    if once:
        click.echo(json.dumps(relay_once().__dict__))
    else:
        relay_forever(poll)


@reminders_cli.command("send")
@click.option("--today", "today_text", default=None, help="Pretend today is YYYY-MM-DD (UTC).")
def send_reminders_command(today_text: str | None) -> None:
    """Enqueue the reminders due today, each exactly once (safe to run from cron anywhere)."""
    from web.push.reminders import send_reminders
    from web.validation import parse_date

    today = None
    if today_text:
        try:
            today = parse_date(today_text)
        except ValueError:
            fail(f"--today: {today_text!r} is not a date (use YYYY-MM-DD)")
    from web.declarations.reminders import send_declaration_reminders

    counts = dict(send_reminders(today).__dict__)
    counts["declarations"] = send_declaration_reminders(today).__dict__
    click.echo(json.dumps(counts))
