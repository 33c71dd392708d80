"""`flask --app app coverage determine|catalogue|renewals`: the engine's answer with the
provider's filing states, the catalogue of agreements, and the renewal requests.

The commands live here, not in `web/coverage`, which stays pure Python (no Flask, no database).
"""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from web.cli_errors import fail
from web.extensions import db

coverage_cli = AppGroup("coverage", help="Which legislation applies, and which certificate.")


@coverage_cli.command("determine")
@click.argument("case_file", type=click.File("r"))
def determine_command(case_file) -> None:
    """Run the engine on FILE: one case (a JSON object) or a JSON array of cases; prints the
    result, or the array of results in the same order."""

    from web.coverage import CaseError, determine
    from web.filing.states import filing_state_codes

    try:
        cases = json.load(case_file)
    except json.JSONDecodeError as exc:
        fail(f"{case_file.name} is not JSON: {exc}")
    single = isinstance(cases, dict)
    if not single and not isinstance(cases, list):
        fail("the file must hold a JSON object (one case) or an array of cases")
    results = []
    for index, case in enumerate([cases] if single else cases):
        try:
            results.append(determine(case, provider_filing_states=filing_state_codes()))
        except CaseError as exc:
            where = "" if single else f"case {index}: "
            fail(where + "; ".join(f"{name}: {message}" for name, message in exc.errors.items()))
    click.echo(json.dumps(results[0] if single else results, indent=2, default=str))


@coverage_cli.command("catalogue")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalogue_command(as_json: bool) -> None:
    """The catalogue of agreements: version, completeness per state, entries and their sources."""
    from web.coverage.catalogue import catalogue_listing, catalogue_text

    listing = catalogue_listing()
    click.echo(
        json.dumps(listing, indent=1, ensure_ascii=False) if as_json else catalogue_text(listing)
    )


@coverage_cli.command("renewals")
def renewals_command() -> None:
    """Open a draft renewal request for every multi-state A1 about to end while the work goes
    on; run daily from cron."""
    from datetime import date

    from web.filing.certificate_requests import open_due_renewals

    created = open_due_renewals(date.today())
    db.session.commit()
    click.echo(f"{len(created)} renewal request(s) opened.")
