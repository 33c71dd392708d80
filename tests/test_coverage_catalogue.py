"""The catalogue of agreements, extended postings, definite answers and explanations (issue 14).

The per-agreement cases are generated from the catalogue and checked against each entry; the
hand-written cases name their source in the docstring.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from tests.conftest import AuthActions
from tests.helpers import csrf_token
from web.coverage import CaseError, countries, determine
from web.coverage.catalogue import catalogue_listing
from web.coverage.dates import period_end
from web.coverage.messages import MESSAGES
from web.coverage.public_messages import PUBLIC_MESSAGES
from web.models import Role

TODAY = date(2024, 6, 1)
ROOT = Path(__file__).resolve().parent.parent
ONE_DAY = timedelta(days=1)


def _entries() -> list[tuple[str, str, countries.Agreement]]:
    found = []
    for home in sorted(countries.bilateral_home_states()):
        for partner, versions in sorted(countries.agreement_versions(home).items()):
            for version in versions:
                found.append((home, partner, version))
    return found


ENTRIES = _entries()


def _posting(home: str, partner: str, start: date, end: date, **extra: Any) -> dict[str, Any]:
    return {
        "home_state": home,
        "residence_state": home,
        "employment_status": "employed",
        "nationality": [home],
        "trip": {
            "kind": "posting",
            "destination": partner,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        },
        "replacing_posted_worker": False,
        "employer_substantial_activity_in_home_state": True,
        "prior_insurance_months": 12,
        **extra,
    }


def _expected_without_certificate(home: str, a: countries.Agreement) -> str | None:
    """What the engine answers, from the entry alone, when it cannot certify the posting."""
    if a.status != "in_force" or a.detached_worker_rule is not True:
        return "review_required"
    limit = a.nationality_limit
    if limit is not None and home not in limit and "EU" not in limit:
        return "none_no_treaty"
    return None


def _testable(home: str, partner: str, a: countries.Agreement) -> bool:
    """Entries the engine answers with a certificate for a national of the home state."""
    return (
        partner != "CA-QC"
        and not countries.is_coordinated(partner)
        and a.status == "in_force"
        and a.detached_worker_rule is True
        and (
            a.nationality_limit is None
            or home in a.nationality_limit
            or "EU" in a.nationality_limit
        )
    )


def _start(a: countries.Agreement) -> date:
    return (
        max(date(2025, 1, 1), a.applies_from or date(2025, 1, 1))
        if a.applies_until is None
        else (a.applies_from or date(1990, 1, 1))
    )


def _id(entry: tuple[str, str, countries.Agreement]) -> str:
    home, partner, a = entry
    return f"{home}-{partner}-{a.applies_from or 'open'}"


# --------------------------------------------------------------------------- every entry


def test_every_entry_has_a_public_source_and_no_internal_file() -> None:
    """Each agreement names its public source (the agreement or the institution's page)."""
    assert ENTRIES
    for home, partner, a in ENTRIES:
        assert a.source and a.source.strip(), f"{home}-{partner} has no source"
        assert "http" in a.source or "Accord" in a.source or "CLEISS" in a.source, a.source
        assert not re.search(r"\.md\b|\.txt\b|legal-rules|/work/", a.source), a.source
    for home in countries.bilateral_home_states():
        state = countries.catalogue_state(home) or {}
        assert state["completeness_source"].strip(), home
        assert state["complete"] or state["incomplete_reason"], home


def _reached_directly(entry: tuple[str, str, countries.Agreement]) -> bool:
    """Entries a posting can name as its destination: not Quebec (reached through Canada) and
    not a partner coordinated with the home state (Switzerland for EU nationals)."""
    _, partner, _ = entry
    return partner != "CA-QC" and not countries.is_coordinated(partner)


DIRECT = [e for e in ENTRIES if _reached_directly(e)]
QUEBEC = [e for e in ENTRIES if e[1] == "CA-QC"]


def _canada_certifies(entry: tuple[str, str, countries.Agreement]) -> bool:
    home, _, a = entry
    canada = countries.bilateral_agreement(home, "CA", _start(a))
    return canada is not None and _testable(home, "CA", canada)


QUEBEC_THROUGH_CANADA = [e for e in QUEBEC if _canada_certifies(e)]
QUEBEC_CANADA_REVIEWED = [e for e in QUEBEC if not _canada_certifies(e)]
COORDINATED = [e for e in ENTRIES if e[1] != "CA-QC" and countries.is_coordinated(e[1])]
CERTIFIED = [e for e in DIRECT if _testable(*e)]
UNCERTIFIED = [e for e in DIRECT if not _testable(*e)]


@pytest.mark.parametrize("entry", DIRECT, ids=_id)
def test_entry_at_its_maximum(entry: tuple[str, str, countries.Agreement]) -> None:
    home, partner, a = entry
    start = _start(a)
    months = a.max_posting_months or 12
    without = _expected_without_certificate(home, a)
    if without is not None:
        result = determine(_posting(home, partner, start, period_end(start, months)), today=TODAY)
        assert result["certificate_type"] == without, result["reasons"]
        return
    end = period_end(start, months)
    if a.applies_until is not None:
        end = min(end, a.applies_until)
    result = determine(_posting(home, partner, start, end), today=TODAY)
    assert result["certificate_type"] == "CoC", result["reasons"]
    assert result["legislation_state"] == home
    assert result["max_period_months"] == (None if a.no_fixed_limit else a.max_posting_months)
    assert result["segments"] == []


@pytest.mark.parametrize("entry", QUEBEC_THROUGH_CANADA, ids=_id)
def test_quebec_understanding_is_applied_through_canada(
    entry: tuple[str, str, countries.Agreement],
) -> None:
    """Quebec is a province, not a destination: a posting names Canada, and the answer warns
    that work in Quebec falls under the separate understanding, with its own maximum."""
    home, _, a = entry
    start = _start(a)
    result = determine(_posting(home, "CA", start, period_end(start, 6)), today=TODAY)
    quebec = [
        m for m in result["explanation"]["warnings"] if m["id"].startswith("bilateral.quebec")
    ]
    assert len(quebec) == 1, result["warnings"]
    if a.max_posting_months:
        assert quebec[0] == {"id": "bilateral.quebec", "params": {"months": a.max_posting_months}}
    else:
        assert quebec[0]["id"] == "bilateral.quebec_unknown"
    with pytest.raises(CaseError) as info:
        determine(_posting(home, "CA-QC", start, period_end(start, 6)), today=TODAY)
    assert "trip.destination" in info.value.errors


@pytest.mark.parametrize("entry", QUEBEC_CANADA_REVIEWED, ids=_id)
def test_quebec_follows_a_canada_agreement_that_gives_no_certificate(
    entry: tuple[str, str, countries.Agreement],
) -> None:
    """Where the Canada agreement itself gives no certificate (its posting rule unconfirmed),
    the answer for Canada, Quebec included, is that agreement's review, not a certificate."""
    home, _, a = entry
    start = _start(a)
    result = determine(_posting(home, "CA", start, period_end(start, 6)), today=TODAY)
    assert result["certificate_type"] == "review_required", result["reasons"]


@pytest.mark.parametrize("entry", COORDINATED, ids=_id)
def test_agreement_with_a_coordinated_partner_serves_third_country_nationals(
    entry: tuple[str, str, countries.Agreement],
) -> None:
    """An old bilateral agreement with Switzerland applies only to persons outside the EU–Swiss
    agreement (Reg. 1231/2010 does not extend to Switzerland): an EU national gets an A1, a
    third-country national is a review that names the bilateral agreement."""
    home, partner, a = entry
    start = max(date(2026, 1, 1), a.applies_from or date(2026, 1, 1))
    end = period_end(start, 6)
    national = determine(_posting(home, partner, start, end), today=TODAY)
    assert national["certificate_type"] == "A1" and national["legislation_state"] == home
    outsider = determine(_posting(home, partner, start, end, nationality=["IN"]), today=TODAY)
    assert outsider["certificate_type"] == "review_required"
    assert "bilateral agreement" in outsider["reasons"][-1]


@pytest.mark.parametrize("entry", UNCERTIFIED, ids=_id)
def test_entry_without_a_certificate_stays_so_beyond_its_maximum(
    entry: tuple[str, str, countries.Agreement],
) -> None:
    """A suspended agreement, one without a confirmed detached-worker rule, or one that does not
    cover the home state's nationals gives no certificate however long the posting."""
    home, partner, a = entry
    start = _start(a)
    expected = _expected_without_certificate(home, a)
    assert expected is not None
    result = determine(_posting(home, partner, start, period_end(start, 72)), today=TODAY)
    assert result["certificate_type"] == expected, result["reasons"]
    assert result["segments"] == []


@pytest.mark.parametrize("entry", CERTIFIED, ids=_id)
def test_entry_beyond_its_maximum(entry: tuple[str, str, countries.Agreement]) -> None:
    home, partner, a = entry
    start = _start(a)
    if a.max_posting_months is None or a.no_fixed_limit:
        # No confirmed maximum: a long posting keeps the certificate, with the reason why.
        long = determine(_posting(home, partner, start, period_end(start, 72)), today=TODAY)
        assert long["certificate_type"] == "CoC" and long["max_period_months"] is None
        said = " ".join(long["reasons"] + long["warnings"])
        assert ("no fixed time limit" if a.no_fixed_limit else "not confirmed") in said
        return
    last = period_end(start, a.max_posting_months)
    kind = (a.extension or {}).get("kind")
    # Foreseen from the outset one year beyond the maximum.
    end = period_end(last + ONE_DAY, 12)
    result = determine(_posting(home, partner, start, end), today=TODAY)
    kinds = [s["certificate_type"] for s in result["segments"]]
    extension_covers = kind in ("to_completion", "indefinite") or (
        kind == "months" and a.extension["months"] >= 12
    )
    if extension_covers:
        assert kinds == ["CoC", "CoC_prolongation"], result["reasons"]
    elif a.beyond_maximum == "home_then_host":
        assert result["segments"][0]["end_date"] == last.isoformat()
        assert kinds[-1] == "none_host_legislation"
    else:
        assert result["certificate_type"] == "none_host_legislation", result["reasons"]
        assert result["legislation_state"] == partner
        assert kinds == []
    # Notified within the maximum, extended beyond it: the first period stands.
    extended = _posting(home, partner, start, end)
    extended["trip"]["original_end_date"] = last.isoformat()
    answer = determine(extended, today=TODAY)
    assert answer["segments"][0] == {**answer["segments"][0], "certificate_type": "CoC"}
    assert answer["segments"][0]["end_date"] == last.isoformat()
    assert answer["segments"][-1]["end_date"] == end.isoformat()


@pytest.mark.parametrize(
    "entry",
    [e for e in CERTIFIED if (e[2].extension or {}).get("kind") == "months"],
    ids=_id,
)
def test_entry_beyond_its_maximum_with_the_extension(
    entry: tuple[str, str, countries.Agreement],
) -> None:
    home, partner, a = entry
    start = _start(a)
    last = period_end(start, a.max_posting_months)
    extension_end = period_end(last + ONE_DAY, a.extension["months"])
    within = determine(_posting(home, partner, start, extension_end), today=TODAY)
    assert [s["certificate_type"] for s in within["segments"]] == ["CoC", "CoC_prolongation"]
    assert within["segments"][1]["end_date"] == extension_end.isoformat()
    beyond = determine(_posting(home, partner, start, extension_end + ONE_DAY), today=TODAY)
    assert beyond["certificate_type"] == "none_host_legislation"
    assert beyond["legislation_state"] == partner


# --------------------------------------------------------------------------- completeness


def test_complete_lists_of_the_main_home_states() -> None:
    """The states the issue names first have complete lists where an official list was read."""
    for home in ("FR", "BE", "DE", "NL", "AT"):
        assert countries.is_complete(home), home
    assert len(countries.agreements_of("FR")) == 41  # securite-sociale.fr: 41 countries/territories


def test_an_incomplete_state_keeps_review_with_its_reason() -> None:
    result = determine(_posting("LU", "TH", date(2026, 1, 1), date(2026, 6, 30)), today=TODAY)
    assert result["certificate_type"] == "review_required"
    assert "not complete" in " ".join(result["reasons"])


def test_catalogue_listing_prints_version_completeness_and_sources() -> None:
    listing = catalogue_listing()
    assert listing["version"] == countries.catalogue_version()
    fr = listing["home_states"]["FR"]
    assert fr["complete"] is True and all(e["source"] for e in fr["agreements"])
    assert listing["home_states"]["LU"]["incomplete_reason"]


def test_the_agreement_in_force_on_the_trip_dates_decides() -> None:
    """SVB policy SB2177: the Netherlands–Canada agreement allowed 24 months until 1 April 2004
    (1987 agreement) and 60 months from then on (2004 agreement)."""
    old = _posting("NL", "CA", date(2001, 1, 1), date(2003, 6, 30))
    assert determine(old, today=TODAY)["max_period_months"] == 24
    new = _posting("NL", "CA", date(2005, 1, 1), date(2008, 6, 30))
    assert determine(new, today=TODAY)["max_period_months"] == 60


def test_before_an_agreement_applied_is_a_review() -> None:
    """securite-sociale.fr / CLEISS: the France–India agreement applies from 1 July 2011."""
    result = determine(_posting("FR", "IN", date(2010, 1, 1), date(2010, 6, 30)), today=TODAY)
    assert result["certificate_type"] == "review_required"


# --------------------------------------------------------------------------- point 2: extensions


def test_eu_posting_extended_beyond_24_months_is_split() -> None:
    """Practical Guide on applicable legislation, Part I §1 (duration): a posting first foreseen
    within 24 months and extended beyond them is covered up to the end of the 24 months; the
    legislation of the state of work applies afterwards unless an Art 16 agreement is reached."""
    case = _posting("DE", "FR", date(2026, 1, 1), date(2028, 6, 30))
    case["trip"]["original_end_date"] = "2027-06-30"
    result = determine(case, today=TODAY)
    assert result["certificate_type"] == "A1"
    assert [
        (s["legislation_state"], s["start_date"], s["end_date"]) for s in result["segments"]
    ] == [
        ("DE", "2026-01-01", "2027-12-31"),
        ("FR", "2028-01-01", "2028-06-30"),
    ]
    assert any("do not extend the limit" in r for r in result["reasons"])
    # Foreseen from the outset: no posting at all (Art 12 "anticipated duration").
    foreseen = determine(_posting("DE", "FR", date(2026, 1, 1), date(2028, 6, 30)), today=TODAY)
    assert foreseen["certificate_type"] == "none_host_legislation"
    # An Art 16 agreement granted keeps German law for the whole trip (Reg. 883/2004 Art 16).
    granted = determine({**case, "art16_agreement": "granted"}, today=TODAY)
    assert granted["certificate_type"] == "A1_via_derogation_art16" and not granted["segments"]


def test_uk_posting_extended_beyond_24_months_is_split_without_exception() -> None:
    """TCA Protocol Art SSC.11: up to 24 months, no extension (INPS circular 71/2021)."""
    case = _posting("FR", "GB", date(2026, 1, 1), date(2028, 6, 30))
    case["trip"]["original_end_date"] = "2027-12-31"
    result = determine(case, today=TODAY)
    assert [s["legislation_state"] for s in result["segments"]] == ["FR", "GB"]


# --------------------------------------------------------------------------- point 3: answers


def test_previous_legislation_of_another_state_rules_out_art12() -> None:
    """Reg. 987/2009 Art 14(1): a person recruited for the posting must, immediately before the
    employment, already be subject to the legislation of the sending state."""
    case = _posting("DE", "FR", date(2026, 1, 1), date(2026, 6, 30))
    case.update(recruited_for_posting=True, previous_legislation_state="PL")
    del case["prior_insurance_months"]
    result = determine(case, today=TODAY)
    assert result["certificate_type"] == "none_host_legislation"
    assert result["legislation_state"] == "FR"
    home = determine({**case, "previous_legislation_state": "DE"}, today=TODAY)
    assert home["certificate_type"] == "A1" and home["legislation_state"] == "DE"


def test_less_than_a_month_of_prior_insurance_stays_a_review() -> None:
    """CCSS / ÖGK read "immediately before" as one month; shorter periods are assessed case by
    case: that discretion remains a review."""
    case = _posting("DE", "FR", date(2026, 1, 1), date(2026, 6, 30), prior_insurance_months=0.5)
    assert determine(case, today=TODAY)["certificate_type"] == "review_required"


def _self_employed(split: dict[str, float], place: str | None) -> dict[str, Any]:
    case: dict[str, Any] = {
        "home_state": "DE",
        "residence_state": "BE",
        "employment_status": "self_employed",
        "work_split_pct": split,
    }
    if place:
        case["fixed_place_of_business"] = place
    return case


def test_fixed_place_of_business_decides_the_centre_of_interest() -> None:
    """Reg. 883/2004 Art 13(2)(b); Reg. 987/2009 Art 14(9): without a substantial part in the
    residence state, the centre of interest — first the fixed and permanent place of business —
    decides."""
    result = determine(_self_employed({"BE": 10, "FR": 60, "NL": 30}, "FR"), today=TODAY)
    assert result["certificate_type"] == "A1" and result["legislation_state"] == "FR"
    apart = determine(_self_employed({"BE": 10, "FR": 60, "NL": 30}, "NL"), today=TODAY)
    assert apart["certificate_type"] == "review_required"
    with pytest.raises(CaseError) as info:
        determine(_self_employed({"BE": 10, "FR": 60, "NL": 30}, "IT"), today=TODAY)
    assert "fixed_place_of_business" in info.value.errors


# --------------------------------------------------------------------------- point 4: bilateral


def test_bilateral_posting_foreseen_beyond_the_maximum_cites_the_article() -> None:
    """France–Japan agreement, Art 7 (5 years; beyond only by exceptional derogation, Art 9):
    foreseen from the outset beyond 5 years, the detached-worker rule does not apply at all."""
    result = determine(_posting("FR", "JP", date(2026, 1, 1), date(2031, 6, 30)), today=TODAY)
    assert result["certificate_type"] == "none_host_legislation"
    assert "Art 7" in result["rule"]
    assert any("Art 7" in r for r in result["reasons"])


def test_german_agreements_keep_german_law_for_the_first_months() -> None:
    """DVKA/AOK: the German agreements keep German law 'for the first N calendar months' even
    when a longer posting is planned — the US agreement excepted (SSA: 5 years or less)."""
    korea = determine(_posting("DE", "KR", date(2026, 1, 1), date(2028, 6, 30)), today=TODAY)
    assert [s["legislation_state"] for s in korea["segments"]] == ["DE", "KR"]
    us = determine(_posting("DE", "US", date(2026, 1, 1), date(2031, 6, 30)), today=TODAY)
    assert us["certificate_type"] == "none_host_legislation" and us["segments"] == []


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"previous_legislation_state": "XX"}, "previous_legislation_state"),
        ({"trip": {"original_end_date": "2027-01-01"}}, "trip.original_end_date"),
        ({"trip": {"original_end_date": "2025-12-31"}}, "trip.original_end_date"),
        ({"fixed_place_of_business": "ZZ"}, "fixed_place_of_business"),
    ],
)
def test_bad_new_fields_name_the_field(change: dict[str, Any], field: str) -> None:
    case = _posting("DE", "FR", date(2026, 1, 1), date(2026, 6, 30))
    for key, value in change.items():
        case[key] = {**case[key], **value} if isinstance(value, dict) else value
    with pytest.raises(CaseError) as info:
        determine(case, today=TODAY)
    assert field in info.value.errors


# --------------------------------------------------------------------------- point 5: messages


def _catalogue(lang: str) -> dict[str, str]:
    with (ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle, locale=lang) if isinstance(m.id, str)}


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_every_message_id_is_translated_for_the_consoles(lang: str) -> None:
    catalogue = _catalogue(lang)
    missing = [k for k, v in {**MESSAGES, **PUBLIC_MESSAGES}.items() if not catalogue.get(v)]
    assert not missing, missing


@pytest.mark.parametrize("lang", ["nl", "it", "es", "pl"])
def test_public_messages_are_translated_in_the_public_languages(lang: str) -> None:
    catalogue = _catalogue(lang)
    missing = [k for k, v in PUBLIC_MESSAGES.items() if not catalogue.get(v)]
    assert not missing, missing


def test_every_answer_starts_with_one_plain_sentence() -> None:
    result = determine(_posting("DE", "FR", date(2026, 1, 1), date(2026, 6, 30)), today=TODAY)
    assert result["summary"].startswith("Germany (DE)'s social security continues")
    assert result["explanation"]["summary"]["id"] == "summary.certificate_provisional"
    assert all("id" in m and "params" in m for m in result["explanation"]["reasons"])


def test_bilateral_answers_cite_no_regulation_article() -> None:
    """Regulation 883/2004 and 987/2009 articles are cited only for EU/EEA/CH/UK cases."""
    for partner in ("US", "JP", "IN", "TH"):
        result = determine(
            _posting("FR", partner, date(2026, 1, 1), date(2026, 6, 30)), today=TODAY
        )
        text = " ".join([result["rule"], *result["reasons"], *result["warnings"]])
        assert not re.search(r"\b987 |Reg\. 987|883/2004", text), (partner, text)


def _admin(app, data):
    company = data.company()
    data.user(Role.EMPLOYER_ADMIN, company, email="hr@example.com")
    client = app.test_client()
    AuthActions(client).login("hr@example.com")
    return client, csrf_token(client, "/admin/employees")


def test_a_french_api_call_gets_french_reasons(app, data):
    client, token = _admin(app, data)
    case = _posting("FR", "TH", date(2026, 1, 1), date(2026, 6, 30))
    response = client.post(
        "/api/v1/determinations",
        json=case,
        headers={"X-CSRFToken": token, "Accept-Language": "fr"},
    )
    assert response.status_code == 200
    body = response.json
    assert body["summary"].startswith("Aucune convention de sécurité sociale ne lie France")
    assert body["reasons"][0].startswith("Détachement de France vers Thaïlande")
    assert "Caisse des Français de l'étranger" in body["home_coverage_possible"]
    bad = client.post(
        "/api/v1/determinations",
        json={**case, "previous_legislation_state": "XX"},
        headers={"X-CSRFToken": token, "Accept-Language": "de"},
    )
    assert bad.status_code == 422
    assert bad.json["errors"]["previous_legislation_state"].startswith("unbekannter Ländercode")


def test_openapi_describes_the_new_fields(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    text = json.dumps(document)
    for name in ("original_end_date", "previous_legislation_state", "fixed_place_of_business"):
        assert name in text
    assert "summary" in text and "explanation" in text


# --------------------------------------------------------------------------- the console's history


def test_the_console_feeds_the_first_filed_period_to_the_engine(app, data):
    """A posting filed for 18 months and later extended to 30: the trip's history (the period
    first filed with the authority) makes it an extended posting, as the API answers it with
    original_end_date — not a posting foreseen beyond 24 months from the start."""
    from web.extensions import db
    from web.filing.certificate_requests import create_certificate_request
    from web.models import Trip, utcnow
    from web.trips.assessment import case_for_trip, determine_trip

    company = data.company()
    employee = data.employee(company)
    trip_id = data.trip(employee, "FR", start=date(2026, 1, 1), end=date(2027, 6, 30))
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        determine_trip(trip, today=TODAY)
        req = create_certificate_request(
            trip, "initial", start=trip.start_date, end=trip.end_date, actor=None
        )
        req.status, req.submitted_at = "submitted", utcnow()
        trip.end_date = date(2028, 6, 30)
        db.session.flush()
        case = case_for_trip(trip)
        assert case["trip"]["original_end_date"] == "2027-06-30"
        result = determine_trip(trip, today=TODAY)
        assert [s["legislation_state"] for s in result["segments"]] == [
            trip.employee.home_state,
            "FR",
        ]
        api_answer = determine({**case}, today=TODAY)
        assert api_answer["segments"] == result["segments"]
        db.session.rollback()


def test_cli_prints_the_catalogue_and_determines_the_new_fields(app, tmp_path):
    runner = app.test_cli_runner()
    text = runner.invoke(args=["coverage", "catalogue"])
    assert text.exit_code == 0
    assert f"version {countries.catalogue_version()}" in text.output
    assert "FR: 41 agreement entries, list complete" in text.output
    assert "LU: " in text.output and "incomplete (" in text.output
    as_json = json.loads(runner.invoke(args=["coverage", "catalogue", "--json"]).output)
    assert as_json["home_states"]["DE"]["complete"] is True
    case = _posting("DE", "FR", date(2026, 1, 1), date(2028, 6, 30))
    case["trip"]["original_end_date"] = "2027-06-30"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    answer = json.loads(runner.invoke(args=["coverage", "determine", str(path)]).output)
    assert [s["legislation_state"] for s in answer["segments"]] == ["DE", "FR"]


def test_an_agreement_without_a_known_start_date_is_cited_without_one():
    """The catalogue may not know when an agreement entered into force (its source gives no
    date): the reason names the agreement and its source, never "in force since ;" or "None"."""
    undated = [
        (home, partner, a)
        for home, partner, a in ENTRIES
        if a.applies_from is None and a.status == "in_force" and _testable(home, partner, a)
    ]
    assert undated, "the catalogue has no undated agreement in force any more: pick another case"
    home, partner, _agreement = undated[0]
    start = date(2027, 3, 1)
    result = determine(_posting(home, partner, start, start + timedelta(days=30)))
    reasons = " ".join(result["reasons"])
    assert "social security agreement applies (source:" in reasons
    assert "since ;" not in reasons and "None" not in reasons
