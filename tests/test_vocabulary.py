"""One vocabulary (web/vocabulary.py): each domain word is defined once with its label, and the
OpenAPI document, the JavaScript and the templates take it from there. A copy that drifts — an
enum in the API, a status string in a script, a label dict in a template — fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from web.api.openapi import openapi_document
from web.coverage.validation import ART16_AGREEMENTS, EMPLOYMENT_STATUSES, TRIP_KINDS
from web.verify.services import ANSWERS
from web.vocabulary import (
    VOCABULARIES,
    Art16Agreement,
    CertificateKind,
    CertificateType,
    CoverageStatus,
    DocumentType,
    EmploymentStatus,
    Language,
    NextStepKind,
    RequestStatus,
    TripKind,
    VerificationAnswer,
    label,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def _schema(name: str) -> dict:
    return openapi_document()["components"]["schemas"][name]


def test_openapi_enums_are_the_vocabulary():
    trip = _schema("Trip")["properties"]
    coverage = _schema("TripCoverage")["properties"]
    details = _schema("HolderDetails")["properties"]
    verification = _schema("Verification")["properties"]
    assert trip["kind"]["enum"] == TripKind.values()
    assert coverage["status"]["enum"] == CoverageStatus.values()
    assert coverage["next_step"]["enum"] == NextStepKind.values()
    assert coverage["request_status"]["enum"] == [*RequestStatus.values(), None]
    assert details["document_type"]["enum"] == DocumentType.values()
    assert details["kind"]["enum"] == CertificateKind.values()
    assert verification["status"]["enum"] == VerificationAnswer.values()
    determination = _schema("Determination")["properties"]
    assert determination["certificate_type"]["enum"] == CertificateType.values()


def test_the_engine_accepts_exactly_the_vocabulary():
    assert list(TRIP_KINDS) == TripKind.values()
    assert list(EMPLOYMENT_STATUSES) == EmploymentStatus.values()
    assert list(ART16_AGREEMENTS) == Art16Agreement.values()
    assert list(ANSWERS) == VerificationAnswer.values()


def test_the_offline_scanner_answers_in_the_vocabulary():
    script = (ROOT / "static/js/verify-scan.js").read_text()
    body = re.search(r"function stateOf\(result\) \{(.*?)\n  \}", script, re.S)
    assert body, "verify-scan.js no longer has stateOf"
    returned = set(re.findall(r'"(valid_[a-z]+|not_[a-z_]+|withdrawn)"', body.group(1)))
    passed_on = r'case "([a-z_]+)":\s*(?:case "[a-z_]+":\s*)*return result\.status'
    returned |= set(re.findall(passed_on, body.group(1)))
    assert returned, "verify-scan.js no longer names its answers"
    unknown = returned - set(VerificationAnswer.values())
    assert not unknown, unknown


def test_no_label_dict_in_a_template():
    """Labels come from the vocabulary through the `term` macro, never an inline dict."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for match in re.finditer(r"{%-?\s*set\s+\w+\s*=\s*{[^%]*_\(", path.read_text()):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)[:60]}")
    assert not offenders, offenders


def test_every_term_in_a_template_names_a_vocabulary():
    used = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r'term\("(\w+)"', path.read_text()))
    assert used, "no template uses the term macro"
    assert used <= set(VOCABULARIES), used - set(VOCABULARIES)


@pytest.mark.parametrize("locale", ["fr", "de"])
def test_every_label_is_translated(app, locale):
    """Each word's label reads in French and German (names of languages stay in their own)."""
    untranslated = []
    with app.test_request_context(), force_locale(locale):
        for name, vocabulary in VOCABULARIES.items():
            if vocabulary is Language or vocabulary.__module__ != "web.vocabulary":
                continue
            for word in vocabulary:
                with force_locale("en"):
                    english = word.label
                if word.label == english and english not in ("A1", "Art 16"):
                    untranslated.append(f"{name}.{word.name}: {english}")
    assert not untranslated, untranslated


def test_label_of_an_unknown_value_is_the_value_itself():
    assert label("TripKind", "posting") == TripKind.POSTING.label
    assert label("TripKind", "retired_word") == "retired_word"
    assert TripKind.label_of(None) == ""
