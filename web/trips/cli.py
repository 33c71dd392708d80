"""`flask --app app trips …`: a trip from the command line, through the trip services."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from web.auth.services import find_user_by_email
from web.cli_errors import fail, fail_input
from web.extensions import db
from web.trips.follow_up import check_trip_coverage
from web.trips.input import validate_trip_input
from web.trips.services import create_trip
from web.trips.status import trip_status
from web.validation import InputError

trips_cli = AppGroup("trips", help="Employees' trips.")


@trips_cli.command("create")
@click.option("--employee", "employee_email", required=True)
@click.option("--destination", required=True)
@click.option("--work-states", default="")
@click.option("--start", required=True)
@click.option("--end", required=True)
@click.option("--kind", default="posting")
@click.option("--purpose", default="")
def create_trip_command(
    employee_email: str,
    destination: str,
    work_states: str,
    start: str,
    end: str,
    kind: str,
    purpose: str,
) -> None:
    """Create a trip for an employee."""
    user = find_user_by_email(employee_email)
    if user is None or user.employee is None:
        fail(f"no employee with the email {employee_email!r}")
    try:
        data = validate_trip_input(
            {
                "destination_state": destination,
                "work_states": work_states,
                "start_date": start,
                "end_date": end,
                "kind": kind,
                "purpose": purpose,
            }
        )
        trip = create_trip(user.employee, data)
        # The same follow-up as the console: the engine's answer and what it sets in motion.
        check_trip_coverage(trip, actor=None)
    except InputError as exc:
        db.session.rollback()
        fail_input(exc)
    db.session.commit()
    status = trip_status(trip)
    click.echo(
        json.dumps(
            {
                "id": trip.id,
                "employee": user.email,
                "destination": trip.destination_state,
                "work_states": trip.work_state_list,
                "start": trip.start_date.isoformat(),
                "end": trip.end_date.isoformat(),
                "kind": trip.kind,
                "status": status.status.value,
                "next_step": status.next_step.value,
            }
        )
    )
