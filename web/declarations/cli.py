"""`flask --app app declarations rules [--json]`: the host states' rules with their sources."""

from __future__ import annotations

import json

import click

from web.declarations import bp
from web.declarations.rules import UNKNOWN, load_rules


@bp.cli.command("rules")
@click.option("--json", "as_json", is_flag=True, help="Print the rules as JSON.")
def rules_command(as_json: bool) -> None:
    """Print each state's declaration rule, its lead time, its source and date."""
    rules = load_rules()
    if as_json:
        click.echo(
            json.dumps(
                {"version": rules.version, "states": [r.as_json() for r in rules.rules.values()]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(f"Posted-worker declaration rules, version {rules.version}")
    for rule in rules.rules.values():
        if rule.status == UNKNOWN:
            what = "unknown - check the national posting website"
        elif rule.required:
            lead = (
                f"{rule.lead_days} {rule.counting} day(s) before the start"
                if rule.lead_days
                else "before the work starts"
            )
            what = f"required on {rule.portal_name} ({rule.portal_url}); {lead}"
        else:
            what = "not required"
        click.echo(f"{rule.state}  {what}")
        click.echo(f"    source: {rule.source.url} (applies from {rule.applies_from})")
