"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any, get_args

from web.coverage import ProviderCategory
from web.coverage.validation import ART16_AGREEMENTS, EMPLOYMENT_STATUSES, TRIP_KINDS
from web.declarations.openapi import (
    DECLARATION_ELSEWHERE,
    DECLARATION_EXPORT,
    declaration_path,
)
from web.declarations.public_messages import DeclarationState
from web.verify.services import ANSWERS
from web.vocabulary import (
    CertificateKind,
    CertificateType,
    CoverageStatus,
    DocumentType,
    NextStepKind,
    RequestStatus,
    TripKind,
)

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
        "confirmed_on",
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
        "document_type": {"type": "string", "enum": DocumentType.values()},
        "kind": {"type": "string", "enum": CertificateKind.values()},
        "issuing_institution": {"type": ["string", "null"]},
        "authority_reference": {"type": ["string", "null"]},
        "confirmed_on": {
            **_DATE,
            "type": ["string", "null"],
            "description": "Official certificates: the day the provider checked the "
            "authority's document and confirmed the record.",
        },
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
    "additionalProperties": False,
    "required": ["error", "status"],
    "properties": {
        "error": {"type": "string", "description": "A sentence for people."},
        "status": {"type": "integer", "description": "The HTTP status code again."},
    },
}

# --- POST /determinations: the case (web/coverage/validation.py) and the answer ----------------
# Each input schema accepts at least everything the engine accepts, so that a request the
# document calls invalid is always refused. What JSON Schema cannot say (percentages adding up
# to 100, an end date after the start, a known country code) is checked by the engine: 422.

_STATE_IN: dict[str, Any] = {
    "type": "string",
    "minLength": 2,
    "description": "ISO 3166-1 alpha-2 code in any case; EL and UK are read as GR and GB, a "
    "territory that belongs to a Member State (e.g. RE) as that state.",
    "examples": ["DE", "fr"],
}
_NULLABLE_STATE_IN: dict[str, Any] = {**_STATE_IN, "type": ["string", "null"]}
_NULLABLE_DATE: dict[str, Any] = {**_DATE, "type": ["string", "null"]}
_PERCENT: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 100}
_NULLABLE_PERCENT: dict[str, Any] = {**_PERCENT, "type": ["number", "null"]}
_MONTHS: dict[str, Any] = {"type": ["number", "null"], "minimum": 0}
_FLAG: dict[str, Any] = {"type": ["boolean", "null"]}
_SPLIT: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "{country code: percent}, adding up to 100 (within one point).",
    "minProperties": 1,
    "additionalProperties": _PERCENT,
}

CASE: dict[str, Any] = {
    "type": "object",
    "description": "One person's situation. Unknown fields are ignored (and named in warnings).",
    "required": ["home_state", "residence_state", "employment_status"],
    "properties": {
        "home_state": _STATE_IN,
        "residence_state": _STATE_IN,
        "employment_status": {"type": "string", "enum": list(EMPLOYMENT_STATUSES)},
        "trip": {
            "type": ["object", "null"],
            "description": "Absent: the regular pattern of work, assessed as regular_multi_state."
            " A posting needs destination, start_date and end_date.",
            "required": ["kind"],
            "properties": {
                "kind": {"type": "string", "enum": list(TRIP_KINDS)},
                "destination": _NULLABLE_STATE_IN,
                "start_date": _NULLABLE_DATE,
                "end_date": _NULLABLE_DATE,
                "original_end_date": {
                    **_NULLABLE_DATE,
                    "description": "Postings only: the end first notified, when the posting was "
                    "later extended (between start_date and end_date). A posting notified within "
                    "the limit and extended beyond it is answered in segments: home legislation "
                    "up to the limit, then the state of work.",
                },
            },
        },
        "work_split_pct": _SPLIT,
        "remuneration_split_pct": _SPLIT,
        "employed_work_split_pct": _SPLIT,
        "self_employed_work_split_pct": _SPLIT,
        "employer_seats": {
            "type": ["array", "null"],
            "description": "The registered office of each employer (regular multi-state work).",
            "items": {
                "type": "object",
                "required": ["country"],
                "properties": {
                    "country": _STATE_IN,
                    "share_of_working_time_pct": _NULLABLE_PERCENT,
                },
            },
        },
        "prior_insurance_months": _MONTHS,
        "self_employed_activity_months": _MONTHS,
        "telework_pct_in_residence": _NULLABLE_PERCENT,
        "replacing_posted_worker": _FLAG,
        "employer_substantial_activity_in_home_state": _FLAG,
        "recruited_for_posting": _FLAG,
        "similar_activity": _FLAG,
        "art16_request": _FLAG,
        "art16_agreement": {"type": ["string", "null"], "enum": [*ART16_AGREEMENTS, None]},
        "nationality": {
            "anyOf": [
                _STATE_IN,
                {"type": "array", "items": _STATE_IN},
                {"type": "null"},
            ],
            "description": "One country code or a list of them.",
        },
        "previous_legislation_state": {
            **_NULLABLE_STATE_IN,
            "description": "The state whose legislation applied immediately before the "
            "employment (Reg. 987/2009 Art 14(1)); another state than home_state rules out a "
            "posting.",
        },
        "fixed_place_of_business": {
            **_NULLABLE_STATE_IN,
            "description": "Self-employed only: the state of the fixed place of business "
            "(Reg. 987/2009 Art 14(9)); one of the states where the person works.",
        },
        "previous_posting": {
            "type": ["object", "null"],
            "required": ["destination", "end_date"],
            "properties": {
                "destination": _STATE_IN,
                "start_date": _NULLABLE_DATE,
                "end_date": _DATE,
                "same_employer": {**_FLAG, "description": "Defaults to true."},
            },
        },
    },
}

CASE_EXAMPLES: dict[str, Any] = {
    "posting": {
        "summary": "An employee of a German employer posted to France for six months.",
        "value": {
            "home_state": "DE",
            "residence_state": "DE",
            "employment_status": "employed",
            "trip": {
                "kind": "posting",
                "destination": "FR",
                "start_date": "2026-01-01",
                "end_date": "2026-06-30",
            },
            "prior_insurance_months": 12,
            "replacing_posted_worker": False,
            "employer_substantial_activity_in_home_state": True,
        },
    },
    "multi_state": {
        "summary": "Regular work in three states for a Belgian employer.",
        "value": {
            "home_state": "BE",
            "residence_state": "BE",
            "employment_status": "employed",
            "work_split_pct": {"BE": 34, "LU": 33, "NL": 33},
            "employer_seats": [{"country": "LU"}],
        },
    },
}

_CERTIFICATE_TYPE: dict[str, Any] = {"type": "string", "enum": CertificateType.values()}
_NULLABLE_COUNTRY: dict[str, Any] = {**_COUNTRY, "type": ["string", "null"]}
_SENTENCES: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "description": "Sentences in the reader's language (Accept-Language).",
}
_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "params"],
    "properties": {
        "id": {"type": "string", "examples": ["summary.host"]},
        "params": {
            "type": "object",
            "description": "Country codes (*_state), ISO dates (*_date), numbers, nested messages.",
        },
    },
}

DETERMINATION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "legislation_state",
        "certificate_type",
        "certificate_issuer",
        "rule",
        "max_period_months",
        "reasons",
        "segments",
        "warnings",
        "provider_category",
        "home_coverage_possible",
        "summary",
        "explanation",
        "catalogue_version",
    ],
    "properties": {
        "legislation_state": {
            **_NULLABLE_COUNTRY,
            "description": "Whose legislation applies; null when it cannot be said.",
        },
        "certificate_type": _CERTIFICATE_TYPE,
        "certificate_issuer": {"type": ["string", "null"]},
        "rule": {"type": "string", "description": "The legal basis, e.g. Art 13(1)(a)."},
        "max_period_months": {"type": ["integer", "null"]},
        "reasons": _SENTENCES,
        "segments": {
            "type": "array",
            "description": "Empty unless the legislation changes during the trip.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "start_date",
                    "end_date",
                    "legislation_state",
                    "certificate_type",
                    "rule",
                ],
                "properties": {
                    "start_date": _DATE,
                    "end_date": _DATE,
                    "legislation_state": _COUNTRY,
                    "certificate_type": _CERTIFICATE_TYPE,
                    "rule": {"type": "string"},
                },
            },
        },
        "warnings": _SENTENCES,
        "provider_category": {"type": "string", "enum": list(get_args(ProviderCategory))},
        "home_coverage_possible": {"type": ["string", "null"]},
        "summary": {
            "type": "string",
            "description": "One plain sentence first, in the reader's language (Accept-Language: "
            "English, French or German; the summary also in Dutch, Italian, Spanish, Polish).",
        },
        "explanation": {
            "type": "object",
            "description": "The same texts as message ids with parameters (for a client that "
            "renders them itself): summary, reasons, warnings, home_coverage_possible, rule.",
            "required": ["summary", "reasons", "warnings", "home_coverage_possible"],
            "properties": {
                "summary": _MESSAGE,
                "reasons": {"type": "array", "items": _MESSAGE},
                "warnings": {"type": "array", "items": _MESSAGE},
                "home_coverage_possible": {"anyOf": [_MESSAGE, {"type": "null"}]},
                "rule": {
                    "anyOf": [_MESSAGE, {"type": "null"}],
                    "description": "A bilateral agreement's rule in words (null: a regulation).",
                },
            },
        },
        "catalogue_version": {
            "type": "string",
            "description": "Version of the catalogue of bilateral agreements used.",
        },
    },
}

CASE_ERRORS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["errors", "status"],
    "properties": {
        "errors": {
            "type": "object",
            "description": "Field path (e.g. trip.end_date) → what is wrong with it, in the "
            "reader's language (Accept-Language).",
            "additionalProperties": {"type": "string"},
        },
        "status": {"type": "integer", "const": 422},
    },
}


_NULLABLE_DATE = {**_DATE, "type": ["string", "null"]}

TRIP_COVERAGE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "status",
        "status_label",
        "next_step",
        "next_step_label",
        "next_step_text",
        "certificate_id",
        "covered_until",
        "request_id",
        "request_status",
        "expected_by",
        "declaration",
    ],
    "properties": {
        "status": {"type": "string", "enum": CoverageStatus.values()},
        "status_label": {"type": "string", "description": "In the reader's language."},
        "next_step": {"type": "string", "enum": NextStepKind.values()},
        "next_step_label": {"type": "string"},
        "next_step_text": {
            "type": "string",
            "description": "The next step as one sentence, in the reader's language.",
        },
        "certificate_id": {"type": ["string", "null"]},
        "covered_until": _NULLABLE_DATE,
        "request_id": {"type": ["integer", "null"]},
        "request_status": {"type": ["string", "null"], "enum": [*RequestStatus.values(), None]},
        "expected_by": _NULLABLE_DATE,
        "declaration": {
            "type": ["string", "null"],
            "enum": [*(s.value for s in DeclarationState), None],
            "description": "The host state's posted-worker declaration (null: cancelled trip).",
        },
    },
}

TRIP: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "employee_id",
        "destination",
        "work_states",
        "start_date",
        "end_date",
        "kind",
        "coverage",
        "declarations_elsewhere",
    ],
    "properties": {
        "id": {"type": "integer"},
        "employee_id": {"type": "integer"},
        "destination": _COUNTRY,
        "work_states": {"type": "array", "items": _COUNTRY, "minItems": 1},
        "start_date": _DATE,
        "end_date": _DATE,
        "kind": {"type": "string", "enum": TripKind.values()},
        "coverage": {"$ref": "#/components/schemas/TripCoverage"},
        "declarations_elsewhere": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/DeclarationElsewhere"},
            "description": "The trip's work countries other than the destination, each with its "
            "own declaration rule (empty for a cancelled trip).",
        },
    },
}

TRIP_PAGE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["trips", "total", "page"],
    "properties": {
        "trips": {"type": "array", "items": {"$ref": "#/components/schemas/Trip"}},
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
    },
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        response["headers"] = headers
    return response


TOO_MANY_REQUESTS = _error(
    "Too many requests from this client: try again after Retry-After seconds.",
    {
        "Retry-After": {
            "description": "Seconds until the limit resets.",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
)


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
                    "description": (
                        "For employer admins: the session cookie of a signed-in admin and its "
                        "CSRF token in X-CSRFToken (the csrf-token meta tag of any page). At "
                        "most 120 requests per minute per client."
                    ),
                    "security": [{"session": [], "csrfToken": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Case"},
                                "examples": CASE_EXAMPLES,
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The determination.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Determination"}
                                }
                            },
                        },
                        "400": _error("No CSRF token, or not the session's."),
                        "401": _error("Not signed in."),
                        "403": _error("Signed in, but not as an employer admin."),
                        "413": _error("The request body is too large."),
                        "422": {
                            "description": "Bad input: every bad field named.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/CaseErrors"}
                                }
                            },
                        },
                        "429": TOO_MANY_REQUESTS,
                    },
                }
            },
            "/api/v1/trips": {
                "get": {
                    "operationId": "listTrips",
                    "summary": "The company's trips, 25 a page, each with its coverage status "
                    "and next step.",
                    "description": "For employer admins (the session cookie of a signed-in admin).",
                    "security": [{"session": []}],
                    "parameters": [
                        {
                            "name": "page",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "One page of trips.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/TripPage"}
                                }
                            },
                        },
                        "401": _error("Not signed in."),
                        "403": _error("Signed in, but not as an employer admin."),
                        "422": _error("The page is not a whole number from 1 to 100000."),
                    },
                }
            },
            "/api/v1/trips/{trip_id}": {
                "get": {
                    "operationId": "getTrip",
                    "summary": "One trip with its coverage status and next step.",
                    "description": (
                        "For employer admins of the trip's company; any other trip answers 404."
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
                            "description": "The trip.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Trip"}
                                }
                            },
                        },
                        "401": _error("Not signed in."),
                        "403": _error("Signed in, but not as an employer admin."),
                        "404": _error("No such trip of the admin's company."),
                    },
                }
            },
            "/api/v1/trips/{trip_id}/declaration": declaration_path(_error),
            "/api/v1/verify/{token}": {
                "get": {
                    "operationId": "verifyToken",
                    "summary": "Verify a scanned QR text (the part after /V/, or the whole URL).",
                    "description": (
                        "Public, no cookie. Rate-limited per client (VERIFY_PAGE_LIMIT, 120 "
                        "per minute by default)."
                    ),
                    "security": [],
                    "parameters": [
                        {
                            "name": "token",
                            "in": "path",
                            "required": True,
                            "description": (
                                "Any text is answered: one that is not a genuine QR text "
                                "(e.g. longer than 4296 characters, the most a QR code "
                                "holds) is not_genuine."
                            ),
                            "schema": {"type": "string", "minLength": 1},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The answer, whatever the status.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Verification"}
                                }
                            },
                        },
                        "404": _error("No token: the path ends at /verify/."),
                        "429": TOO_MANY_REQUESTS,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Verification": VERIFICATION,
                "HolderDetails": HOLDER_DETAILS,
                "Error": ERROR,
                "Case": CASE,
                "Determination": DETERMINATION,
                "CaseErrors": CASE_ERRORS,
                "DeclarationExport": DECLARATION_EXPORT,
                "DeclarationElsewhere": DECLARATION_ELSEWHERE,
                "Trip": TRIP,
                "TripCoverage": TRIP_COVERAGE,
                "TripPage": TRIP_PAGE,
            },
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The session cookie of an employer admin signed in at /login.",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "The CSRF token of that session.",
                },
            },
        },
    }
