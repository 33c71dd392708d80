"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from web.verify.services import ANSWERS

_DATE = {"type": "string", "format": "date"}
_COUNTRY = {"type": "string", "pattern": "^[A-Z]{2}$"}

HOLDER_DETAILS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "family_name",
        "given_names",
        "family_name_ascii",
        "given_names_ascii",
        "birth_date",
        "legislation_state",
        "work_states",
        "valid_from",
        "valid_to",
        "document_type",
        "kind",
        "issuing_institution",
        "authority_reference",
    ],
    "properties": {
        "family_name": {"type": "string", "description": "As on the identity document."},
        "given_names": {"type": "string"},
        "family_name_ascii": {
            "type": ["string", "null"],
            "description": "Latin-letter form, when it differs.",
        },
        "given_names_ascii": {"type": ["string", "null"]},
        "birth_date": _DATE,
        "legislation_state": _COUNTRY,
        "work_states": {"type": "array", "items": _COUNTRY, "minItems": 1},
        "valid_from": _DATE,
        "valid_to": {**_DATE, "description": "Last day of validity, inclusive."},
        "document_type": {"type": "string", "enum": ["A1", "CoC"]},
        "kind": {"type": "string", "enum": ["official", "provisional"]},
        "issuing_institution": {"type": ["string", "null"]},
        "authority_reference": {"type": ["string", "null"]},
    },
}

VERIFICATION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status", "checked_at", "superseded"],
    "properties": {
        "status": {
            "type": "string",
            "enum": list(ANSWERS),
            "description": "valid_official and valid_provisional are the only valid answers.",
        },
        "checked_at": {"type": "string", "format": "date-time"},
        "superseded": {"type": "boolean", "description": "A newer certificate replaces this one."},
        "details": {**HOLDER_DETAILS, "description": "Absent when the status is not_genuine."},
    },
}

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "A1 Wallet API",
            "version": "1",
            "description": (
                "Verification of A1 / Certificate of Coverage QR codes for integrations."
            ),
        },
        "paths": {
            "/api/v1/determinations": {
                "post": {
                    "operationId": "determineLegislation",
                    "summary": "Which legislation applies, and which certificate proves it.",
                    "description": "Employer admins, signed in; CSRF token in X-CSRFToken.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "The determination (legislation_state, "
                            "certificate_type, rule, reasons, segments, …).",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "422": {
                            "description": "Bad input: every bad field named.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["errors", "status"],
                                        "properties": {
                                            "errors": {"type": "object"},
                                            "status": {"type": "integer"},
                                        },
                                    }
                                }
                            },
                        },
                    },
                }
            },
            "/api/v1/verify/{token}": {
                "get": {
                    "operationId": "verifyToken",
                    "summary": "Verify a scanned QR text (the part after /V/, or the whole URL).",
                    "parameters": [
                        {
                            "name": "token",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 4096},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The answer, whatever the status.",
                            "content": {"application/json": {"schema": VERIFICATION}},
                        },
                        "429": {
                            "description": "Too many requests from this client.",
                            "content": {"application/json": {"schema": ERROR}},
                        },
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Verification": VERIFICATION,
                "HolderDetails": HOLDER_DETAILS,
                "Error": ERROR,
            }
        },
    }
