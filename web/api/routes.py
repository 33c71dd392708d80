"""JSON for integrations: the verification answer, and the OpenAPI description."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask_babel import gettext as _

from web.access import public, roles_required
from web.api import bp
from web.api.openapi import openapi_document
from web.extensions import limiter
from web.models import Role
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
