"""Property tests: any valid case gets an answer among the states involved, never an exception."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from web.coverage import countries, determine

TODAY = date(2024, 6, 1)
COORDINATED = sorted(
    countries.states_in_group("EU")
    | countries.states_in_group("EEA")
    | countries.states_in_group("CH")
    | countries.states_in_group("GB")
)
OUTSIDE = ["US", "TH", "JP", "MA", "TR"]
# Mostly coordinated states, so that most cases reach the Art 12/13 rules rather than review.
POOL = COORDINATED * 6 + ["EL", "RE", *OUTSIDE]
STATES = st.sampled_from(POOL)
CERTIFICATES = {
    "A1",
    "A1_via_derogation_art16",
    "CoC",
    "CoC_prolongation",
    "none_host_legislation",
    "none_no_treaty",
    "review_required",
}
# No database: the tests must not write files into the repository.
PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def splits(draw: st.DrawFn, min_states: int = 1, max_states: int = 5) -> dict[str, float]:
    """A {state: percent} map adding up to exactly 100 (integers or one decimal)."""
    states = draw(
        st.lists(STATES, min_size=min_states, max_size=max_states)
        .map(lambda xs: list(dict.fromkeys(xs)))
        .filter(lambda xs: len(xs) >= min_states)
    )
    weights = draw(st.lists(st.integers(1, 1000), min_size=len(states), max_size=len(states)))
    total = sum(weights)
    pcts = [round(100 * w / total, 1) for w in weights]
    pcts[-1] = round(100 - sum(pcts[:-1]), 1)
    if pcts[-1] < 0:  # rounding pushed the last share below zero: fall back to equal shares
        pcts = [round(100 / len(states), 1)] * len(states)
        pcts[-1] = round(100 - sum(pcts[:-1]), 1)
    return dict(zip(states, pcts, strict=True))


@st.composite
def seat_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    countries_ = draw(st.lists(STATES, min_size=1, max_size=3))
    if draw(st.booleans()):
        return [{"country": c} for c in countries_]
    weights = draw(
        st.lists(st.integers(1, 100), min_size=len(countries_), max_size=len(countries_))
    )
    shares = [100 * w / sum(weights) for w in weights]
    return [
        {"country": c, "share_of_working_time_pct": s}
        for c, s in zip(countries_, shares, strict=True)
    ]


@st.composite
def trips(draw: st.DrawFn, kind: str, destination: str | None) -> dict[str, Any]:
    start = draw(st.dates(min_value=date(2009, 1, 1), max_value=date(2032, 12, 31)))
    length = draw(st.integers(0, 3000))
    trip: dict[str, Any] = {
        "kind": kind,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=length)).isoformat(),
    }
    if destination is not None:
        trip["destination"] = destination
    return trip


def _norm(code: str) -> str:
    return countries.member_state_of(countries.normalise_code(code))


def _involved(case: dict[str, Any]) -> set[str]:
    states = {case["home_state"], case["residence_state"]}
    for key in ("work_split_pct", "employed_work_split_pct", "self_employed_work_split_pct"):
        states |= set(case.get(key) or {})
    states |= {seat["country"] for seat in case.get("employer_seats") or []}
    destination = (case.get("trip") or {}).get("destination")
    if destination:
        states.add(destination)
    return {_norm(s) for s in states}


def _optional(draw: st.DrawFn, case: dict[str, Any]) -> None:
    case["telework_pct_in_residence"] = draw(st.none() | st.floats(0, 100))
    case["art16_request"] = draw(st.none() | st.booleans())
    case["art16_agreement"] = draw(st.sampled_from(["none"] * 6 + ["requested", "granted"]))
    case["nationality"] = draw(st.none() | st.sampled_from(COORDINATED * 3 + OUTSIDE))


@st.composite
def multi_state_cases(draw: st.DrawFn) -> dict[str, Any]:
    status = draw(st.sampled_from(["employed", "self_employed", "employed_and_self_employed"]))
    case: dict[str, Any] = {
        "home_state": draw(STATES),
        "residence_state": draw(STATES),
        "employment_status": status,
    }
    if status == "employed_and_self_employed":
        case["employed_work_split_pct"] = draw(splits())
        case["self_employed_work_split_pct"] = draw(st.none() | splits())
    else:
        case["work_split_pct"] = draw(splits(min_states=2))
        if draw(st.booleans()):
            case["remuneration_split_pct"] = draw(splits())
    if status != "self_employed":
        case["employer_seats"] = draw(seat_lists())
    if draw(st.booleans()):
        case["trip"] = draw(trips("regular_multi_state", None))
    _optional(draw, case)
    return case


@st.composite
def posting_cases(draw: st.DrawFn) -> dict[str, Any]:
    home = draw(STATES)
    destination = draw(STATES.filter(lambda d: _norm(d) != _norm(home)))
    case: dict[str, Any] = {
        "home_state": home,
        "residence_state": draw(STATES),
        "employment_status": draw(st.sampled_from(["employed", "self_employed"])),
        "trip": draw(trips("posting", destination)),
        "prior_insurance_months": draw(st.none() | st.floats(0, 120)),
        "replacing_posted_worker": draw(st.none() | st.booleans()),
        "employer_substantial_activity_in_home_state": draw(st.none() | st.booleans()),
        "recruited_for_posting": draw(st.none() | st.booleans()),
        "similar_activity": draw(st.none() | st.booleans()),
        "self_employed_activity_months": draw(st.none() | st.integers(0, 60)),
    }
    _optional(draw, case)
    return case


def _check(result: dict[str, Any], involved: set[str]) -> None:
    assert result["certificate_type"] in CERTIFICATES
    if result["certificate_type"] in ("review_required", "none_no_treaty"):
        assert result["legislation_state"] is None
    else:
        assert result["legislation_state"] in involved
    for segment in result["segments"]:
        assert segment["legislation_state"] in involved
    assert result["provider_category"] in {"no_treaty", "official", "provisional"}
    assert result["reasons"]


@PROPERTY_SETTINGS
@given(multi_state_cases(), st.lists(st.sampled_from(COORDINATED), max_size=5))
def test_any_valid_multi_state_case_answers_among_the_states_involved(
    case: dict[str, Any], filing: list[str]
) -> None:
    result = determine(case, provider_filing_states=filing, today=TODAY)
    _check(result, _involved(case))
    assert result["certificate_type"] != "none_no_treaty"


@settings(max_examples=200, deadline=None, database=None)
@given(posting_cases())
def test_any_valid_posting_answers_with_home_or_destination(case: dict[str, Any]) -> None:
    result = determine(case, today=TODAY)
    home, destination = _norm(case["home_state"]), _norm(case["trip"]["destination"])
    _check(result, {home, destination})


# --------------------------------------------------------------------------- segments and citations

BILATERAL_PARTNERS = ["US", "JP", "IN", "BR", "CM", "KR", "CA", "TH", "CI", "DZ", "AU", "TN"]
# What an answer may never cite: a file of the project or of its research notes.
INTERNAL_FILE = re.compile(
    r"legal-rules|domain-anchors|\.md\b|\.txt\b|/work/|\.\./shared|§\s?\d+\s*:"
)


@st.composite
def extended_postings(draw: st.DrawFn) -> dict[str, Any]:
    """Postings from a home state of the catalogue, some extended after notification."""
    home = draw(st.sampled_from(sorted(countries.bilateral_home_states())))
    destination = draw(
        st.sampled_from(BILATERAL_PARTNERS + COORDINATED).filter(lambda d: d != home)
    )
    trip = draw(trips("posting", destination))
    start, end = date.fromisoformat(trip["start_date"]), date.fromisoformat(trip["end_date"])
    if end > start and draw(st.booleans()):
        trip["original_end_date"] = (
            start + timedelta(days=draw(st.integers(0, (end - start).days)))
        ).isoformat()
    case: dict[str, Any] = {
        "home_state": home,
        "residence_state": home,
        "employment_status": draw(st.sampled_from(["employed", "employed", "self_employed"])),
        "trip": trip,
        "nationality": [home],
        "prior_insurance_months": draw(st.none() | st.sampled_from([0, 0.5, 1, 12])),
        "previous_legislation_state": draw(st.none() | st.sampled_from([home, "US", "FR"])),
        "art16_agreement": draw(st.sampled_from(["none"] * 4 + ["requested", "granted"])),
    }
    return case


def _texts(result: dict[str, Any]) -> list[str]:
    out = [result.get("summary", ""), result["rule"], *result["reasons"], *result["warnings"]]
    out += [s["rule"] for s in result["segments"]]
    if result["home_coverage_possible"]:
        out.append(result["home_coverage_possible"])
    return out


@settings(max_examples=300, deadline=None, database=None)
@given(extended_postings())
def test_segments_tile_the_trip_exactly(case: dict[str, Any]) -> None:
    """The periods of an answer follow one another day by day, from the first day of the trip
    to the last, with no gap and no overlap."""
    result = determine(case, today=TODAY)
    segments = result["segments"]
    if not segments:
        return
    assert len(segments) >= 2
    assert segments[0]["start_date"] == case["trip"]["start_date"]
    assert segments[-1]["end_date"] == case["trip"]["end_date"]
    for before, after in itertools.pairwise(segments):
        end = date.fromisoformat(before["end_date"])
        assert date.fromisoformat(after["start_date"]) == end + timedelta(days=1)
        assert date.fromisoformat(before["start_date"]) <= end


@settings(max_examples=300, deadline=None, database=None)
@given(extended_postings() | posting_cases() | multi_state_cases())
def test_an_answer_never_cites_an_internal_file(case: dict[str, Any]) -> None:
    result = determine(case, today=TODAY)
    for text in _texts(result):
        assert not INTERNAL_FILE.search(text), text
