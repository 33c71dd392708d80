"""The OpenAPI description of GET /api/v1/trips/{trip_id}/declaration (web/api/openapi.py joins
it into /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from web.declarations.public_messages import DeclarationState

_DATE = {"type": "string", "format": "date"}
_COUNTRY = {"type": "string", "pattern": "^[A-Z]{2}$"}
_TEXT = {"type": ["string", "null"]}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


DECLARATION_EXPORT: dict[str, Any] = _object(
    {
        "trip_id": {"type": "integer"},
        "host_state": _COUNTRY,
        "status": {
            "type": "string",
            "enum": [s.value for s in DeclarationState],
            "description": "unknown: the host state's rules are not sourced, check its national "
            "posting website (never read as not required).",
        },
        "status_label": {"type": "string", "description": "In the reader's language."},
        "next_step": {"type": "string"},
        "file_by": {**_DATE, "type": ["string", "null"]},
        "declaration": _TEXT,
        "portal": {
            "oneOf": [
                {"type": "null"},
                _object({"name": {"type": "string"}, "url": {"type": "string"}}),
            ]
        },
        "standard_form": _object(
            {
                "service_provider": _object(
                    {
                        "name": {"type": "string"},
                        "state_of_establishment": {"type": ["string", "null"]},
                        "registration_number": _TEXT,
                        "address": _TEXT,
                    }
                ),
                "posted_worker": _object(
                    {
                        "family_name": {"type": "string"},
                        "given_names": {"type": "string"},
                        "birth_date": _DATE,
                        "nationality": _COUNTRY,
                    }
                ),
                "social_security_state": {
                    "type": ["string", "null"],
                    "description": "Member State of social security affiliation, as the "
                    "coverage check answered.",
                },
                "period": _object({"start": _DATE, "end": _DATE}),
                "place_of_work": _object({"state": _COUNTRY, "address": _TEXT}),
                "sector": _TEXT,
                "service_recipient": _object({"name": _TEXT, "address": _TEXT}),
                "contact_person": _object(
                    {"name": _TEXT, "email": _TEXT, "phone": _TEXT, "address": _TEXT}
                ),
            },
            "The items of the EU standard declaration form.",
        ),
        "filing": {
            "oneOf": [
                {"type": "null"},
                _object(
                    {
                        "filed_on": _DATE,
                        "receipt_number": _TEXT,
                        "receipt_attached": {"type": "boolean"},
                    }
                ),
            ]
        },
        "rules": _object(
            {
                "version": {"type": "string"},
                "source": _TEXT,
                "applies_from": {**_DATE, "type": ["string", "null"]},
            }
        ),
    },
    "A trip's posted-worker declaration in the items of the EU standard form.",
)


def declaration_path(error: Any) -> dict[str, Any]:
    """The path item; ``error(description)`` builds an error response of web/api/openapi.py."""
    return {
        "get": {
            "operationId": "declarationExport",
            "summary": "A trip's posted-worker declaration as the EU standard form's fields.",
            "description": (
                "For employer admins of the trip's company (the session cookie of a signed-in "
                "admin); any other trip answers 404."
            ),
            "security": [{"session": []}],
            "parameters": [
                {
                    "name": "trip_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                }
            ],
            "responses": {
                "200": {
                    "description": "The declaration, whatever its status.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/DeclarationExport"}
                        }
                    },
                },
                "401": error("Not signed in."),
                "403": error("Signed in, but not as an employer admin."),
                "404": error("No such trip of the admin's company."),
            },
        }
    }


# One of the trip's other work countries (GET /api/v1/trips…: declarations_elsewhere).
DECLARATION_ELSEWHERE: dict[str, Any] = _object(
    {
        "state": _COUNTRY,
        "answer": {
            "type": "string",
            "enum": [
                DeclarationState.REQUIRED.value,
                DeclarationState.NOT_REQUIRED.value,
                DeclarationState.UNKNOWN.value,
            ],
            "description": "That country's own rule: required (before the work there, for a "
            "posting that provides a service, unless one of its exemptions applies), "
            "not_required, or unknown: check its national posting website (never read as not "
            "required). A1 Wallet records no filing for these countries.",
        },
        "answer_label": {"type": "string", "description": "In the reader's language."},
        "reason": {
            **_TEXT,
            "description": "Why not required, or what to check for unknown; in the reader's "
            "language.",
        },
        "declaration": _TEXT,
        "portal": {
            "oneOf": [
                {"type": "null"},
                _object({"name": {"type": "string"}, "url": {"type": "string"}}),
            ]
        },
        "lead_time": {
            "oneOf": [
                {"type": "null"},
                _object(
                    {
                        "days": {"type": "integer", "minimum": 0},
                        "counting": {"type": "string", "enum": ["calendar", "working"]},
                        "when": {"type": "string"},
                    }
                ),
            ]
        },
        "file_by": {
            **_DATE,
            "type": ["string", "null"],
            "description": "Counted from the trip's first day: the day work starts in that "
            "country is not recorded.",
        },
    },
    "Another work country of the trip and its own posted-worker declaration rule.",
)
