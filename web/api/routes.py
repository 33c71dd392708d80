"""JSON for integrations: the verification answer, and the OpenAPI description."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from web.access import get_company_object_or_404, public, roles_required
from web.api import bp
from web.api.openapi import openapi_document
from web.extensions import limiter
from web.models import Role, Trip
from web.trips.services import list_trips
from web.trips.status import TripCoverageStatus, trip_status, trip_statuses
from web.verify.services import verify_for_inspector


@bp.route("/verify/<any_text:token>")
@public
@limiter.limit(lambda: current_app.config["VERIFY_PAGE_LIMIT"])
def verify(token: str) -> Response:
    answer = verify_for_inspector(token)
    body: dict[str, object] = {
        "status": answer.state,
        "checked_at": answer.checked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "superseded": answer.superseded,
    }
    if answer.details is not None:
        body["details"] = answer.details.to_json()
    return jsonify(body)


@bp.route("/openapi.json")
@public
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.route("/determinations", methods=["POST"])
@roles_required(Role.EMPLOYER_ADMIN)
@limiter.limit("120 per minute")
def determinations() -> Response | tuple[Response, int]:
    """Which legislation applies to a case and which certificate proves it (the engine of
    web/coverage). JSON in, JSON out; 422 with every bad field named."""
    from web.coverage import CaseError, determine
    from web.coverage.explain import field_errors, localise
    from web.filing.states import filing_state_codes

    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser recurses: not a case either
        payload = None
    if not isinstance(payload, dict):
        body = {"body": _("must be a JSON object (the case)")}
        return jsonify({"errors": body, "status": 422}), 422
    try:
        result = determine(payload, provider_filing_states=filing_state_codes())
    except CaseError as exc:
        # Every bad field named, in the reader's language (Accept-Language).
        return jsonify({"errors": field_errors(exc.messages), "status": 422}), 422
    return jsonify(localise(result))


def _trip_json(trip: Trip, coverage: TripCoverageStatus) -> dict[str, object]:
    """A trip with its coverage status and next step (web/trips/status.py), as the console shows
    them: codes for machines, labels and sentences in the reader's language."""
    return {
        "id": trip.id,
        "employee_id": trip.employee_id,
        "destination": trip.destination_state,
        "work_states": trip.work_state_list,
        "start_date": trip.start_date.isoformat(),
        "end_date": trip.end_date.isoformat(),
        "kind": trip.kind,
        "coverage": coverage.as_json(),
        # The other work countries' own declaration rules (the destination's: coverage.declaration).
        "declarations_elsewhere": [e.as_json() for e in coverage.declaration.elsewhere]
        if coverage.declaration
        else [],
    }


@bp.route("/trips")
@roles_required(Role.EMPLOYER_ADMIN)
def trips() -> Response | tuple[Response, int]:
    """The company's trips, a page of PAGE_SIZE at a time, each with its status."""
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        message = _("page: must be a whole number from 1 to 100000")
        return jsonify({"error": message, "status": 422}), 422
    rows, total = list_trips(current_user.company_id, page=int(page))
    statuses = trip_statuses(rows)
    return jsonify(
        {
            "trips": [_trip_json(t, statuses[t.id]) for t in rows],
            "total": total,
            "page": int(page),
        }
    )


@bp.route("/trips/<int:trip_id>")
@roles_required(Role.EMPLOYER_ADMIN)
def trip(trip_id: int) -> Response:
    found = get_company_object_or_404(Trip, trip_id)
    return jsonify(_trip_json(found, trip_status(found)))
