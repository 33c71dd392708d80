"""The applicable-legislation engine, rule family by rule family (docs/legal-rules.md §2-§8)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from web.coverage import CaseError, determine

TODAY = date(2024, 6, 1)
OUTPUT_KEYS = {
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
}


def posting(destination: str = "FR", start: str = "2025-01-01", end: str = "2025-06-30", **extra):
    """An employed posting from Germany that meets every Art 12(1) condition unless overridden."""
    case: dict[str, Any] = {
        "home_state": "DE",
        "residence_state": "DE",
        "employment_status": "employed",
        "trip": {
            "kind": "posting",
            "destination": destination,
            "start_date": start,
            "end_date": end,
        },
        "prior_insurance_months": 12,
        "replacing_posted_worker": False,
        "employer_substantial_activity_in_home_state": True,
        "recruited_for_posting": False,
        "nationality": "DE",
    }
    case.update(extra)
    return case


def multi(residence: str, split: dict[str, float], seats: list[str], **extra):
    """Regular work in several states for employers seated in ``seats`` (equal shares)."""
    share = 100 / len(seats)
    case: dict[str, Any] = {
        "home_state": seats[0],
        "residence_state": residence,
        "employment_status": "employed",
        "employer_seats": [{"country": s, "share_of_working_time_pct": share} for s in seats],
        "work_split_pct": split,
        "trip": {
            "kind": "regular_multi_state",
            "start_date": "2025-01-01",
            "end_date": "2025-12-31",
        },
    }
    case.update(extra)
    return case


def run(case: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result = determine(case, today=TODAY, **kwargs)
    assert set(result) == OUTPUT_KEYS
    assert result["reasons"], "every answer explains itself"
    assert all(isinstance(r, str) and r.endswith((".", ")")) for r in result["reasons"])
    return result


def text(result: dict[str, Any]) -> str:
    return " ".join(result["reasons"] + result["warnings"])


# --------------------------------------------------------------------------- CCSS worked examples
# The six worked examples of the Luxembourg CCSS on pluriactivity (docs/legal-rules.md §4).


def test_ccss_1_substantial_activity_in_residence_state_belgium() -> None:
    # Resides in BE, employer in LU, 33 % BE / 33 % LU / 33 % NL → Belgium.
    result = run(multi("BE", {"BE": 33, "LU": 33, "NL": 33}, ["LU"]))
    assert result["legislation_state"] == "BE"
    assert result["certificate_type"] == "A1"
    assert "13(1)(a)" in result["rule"]


def test_ccss_2_sole_employer_registered_office_luxembourg() -> None:
    # Lives in FR, employer in LU, 20 % FR / 40 % LU / 40 % DE → Luxembourg.
    result = run(multi("FR", {"FR": 20, "LU": 40, "DE": 40}, ["LU"]))
    assert result["legislation_state"] == "LU"
    assert "13(1)(b)(i)" in result["rule"]
    assert "CCSS" in result["certificate_issuer"]


def test_ccss_3_two_employers_seated_in_luxembourg() -> None:
    # Resides in DE; both employers in LU.
    # Employer 1: 20 DE/50 LU/30 NL; employer 2: 10 NL/20 FR/70 LU.
    # With equal time for both employers: DE 10, LU 60, NL 20, FR 10.
    result = run(multi("DE", {"DE": 10, "LU": 60, "NL": 20, "FR": 10}, ["LU", "LU"]))
    assert result["legislation_state"] == "LU"
    assert "13(1)(b)(ii)" in result["rule"]


def test_ccss_4_employers_in_residence_state_and_another_state() -> None:
    # Resides in FR; employer 1 in LU (35 h/week), employer 2 in FR (5 h/week) → Luxembourg.
    case = multi("FR", {"LU": 87.5, "FR": 12.5}, ["LU", "FR"])
    case["employer_seats"] = [
        {"country": "LU", "share_of_working_time_pct": 87.5},
        {"country": "FR", "share_of_working_time_pct": 12.5},
    ]
    result = run(case)
    assert result["legislation_state"] == "LU"
    assert "13(1)(b)(iii)" in result["rule"]


def test_ccss_5_two_employers_outside_residence_state_luxembourg() -> None:
    # Resides in LU; employers in DE and FR → Luxembourg.
    result = run(multi("LU", {"DE": 50, "FR": 50}, ["DE", "FR"]))
    assert result["legislation_state"] == "LU"
    assert "13(1)(b)(iv)" in result["rule"]


def test_ccss_6_two_employers_outside_residence_state_belgium() -> None:
    # Resides in BE; employers in LU and DE → Belgium.
    result = run(multi("BE", {"LU": 50, "DE": 50}, ["LU", "DE"]))
    assert result["legislation_state"] == "BE"
    assert "13(1)(b)(iv)" in result["rule"]


# --------------------------------------------------------------------------- Art 13: 25 % and 5 %


def test_exactly_25_percent_in_residence_state_is_substantial() -> None:
    result = run(multi("FR", {"FR": 25, "LU": 75}, ["LU"]))
    assert result["legislation_state"] == "FR"
    assert "13(1)(a)" in result["rule"]


def test_24_9_percent_in_residence_state_is_not_substantial() -> None:
    result = run(multi("FR", {"FR": 24.9, "LU": 75.1}, ["LU"]))
    assert result["legislation_state"] == "LU"
    assert "Hakamp" in text(result)


def test_remuneration_alone_can_reach_25_percent() -> None:
    case = multi("FR", {"FR": 20, "LU": 80}, ["LU"], remuneration_split_pct={"FR": 25, "LU": 75})
    result = run(case)
    assert result["legislation_state"] == "FR"
    assert any("overall assessment" in w for w in result["warnings"])


def test_4_9_percent_activity_is_disregarded() -> None:
    # Without the 4.9 % in NL, all work is in LU: Art 11(3)(a), not the multi-state rules.
    result = run(multi("FR", {"LU": 95.1, "NL": 4.9}, ["LU"]))
    assert result["legislation_state"] == "LU"
    assert "11(3)(a)" in result["rule"]
    assert "Netherlands (NL) 4.9 %" in text(result)


def test_4_9_percent_in_residence_state_is_disregarded_and_not_substantial() -> None:
    result = run(multi("FR", {"FR": 4.9, "LU": 50, "DE": 45.1}, ["LU"]))
    assert result["legislation_state"] == "LU"
    assert "disregarded" in text(result)


def test_5_percent_counts_as_activity_but_is_not_substantial() -> None:
    result = run(multi("FR", {"FR": 5, "LU": 95}, ["LU"]))
    assert result["legislation_state"] == "LU"
    assert "13(1)(b)(i)" in result["rule"]
    assert "disregarded" not in text(result)


def test_marginal_employer_is_disregarded() -> None:
    case = multi("FR", {"FR": 3, "LU": 60, "DE": 37}, ["LU", "FR"])
    case["employer_seats"] = [
        {"country": "LU", "share_of_working_time_pct": 97},
        {"country": "FR", "share_of_working_time_pct": 3},
    ]
    result = run(case)
    assert result["legislation_state"] == "LU"
    assert "13(1)(b)(i)" in result["rule"]


def test_art13_warns_about_provisional_determination_and_12_months() -> None:
    result = run(multi("BE", {"BE": 40, "LU": 60}, ["LU"]))
    warnings = " ".join(result["warnings"])
    assert "provisionally" in warnings and "2 months" in warnings and "987 Art 16" in warnings
    assert "12 calendar months" in warnings
    assert result["max_period_months"] is None
    assert result["segments"] == []


def test_employer_outside_the_eu_makes_the_residence_state_competent() -> None:
    result = run(multi("DE", {"DE": 10, "FR": 45, "AT": 45}, ["US"]))
    assert result["legislation_state"] == "DE"
    assert "14(11)" in result["rule"]


def test_mixed_employers_inside_and_outside_the_eu_need_review() -> None:
    result = run(multi("DE", {"DE": 10, "FR": 45, "AT": 45}, ["US", "FR"]))
    assert result["certificate_type"] == "review_required"
    assert result["legislation_state"] is None


def test_work_partly_outside_the_coordination_area_needs_review() -> None:
    result = run(multi("DE", {"DE": 50, "US": 50}, ["DE"]))
    assert result["certificate_type"] == "review_required"
    assert "United States" in text(result)


def test_residence_outside_the_coordination_area_needs_review_for_multi_state() -> None:
    result = run(multi("US", {"DE": 50, "FR": 50}, ["DE"]))
    assert result["certificate_type"] == "review_required"


def test_multi_state_without_a_trip_is_the_regular_pattern() -> None:
    case = multi("BE", {"BE": 33, "LU": 33, "NL": 33}, ["LU"])
    del case["trip"]
    assert run(case)["legislation_state"] == "BE"


# --------------------------------------------------------------------------- Art 13(2) and 13(3)


def self_employed(residence: str, split: dict[str, float], home: str, **extra):
    case = {
        "home_state": home,
        "residence_state": residence,
        "employment_status": "self_employed",
        "work_split_pct": split,
        "trip": {"kind": "regular_multi_state"},
    }
    case.update(extra)
    return case


def test_self_employed_substantial_in_residence_state() -> None:
    result = run(self_employed("AT", {"AT": 30, "DE": 70}, "DE"))
    assert result["legislation_state"] == "AT"
    assert "13(2)(a)" in result["rule"]


def test_self_employed_centre_of_interest_when_indicators_agree() -> None:
    result = run(self_employed("AT", {"AT": 10, "DE": 60, "IT": 30}, "DE"))
    assert result["legislation_state"] == "DE"
    assert "13(2)(b)" in result["rule"]


def test_self_employed_centre_of_interest_unclear_needs_review() -> None:
    result = run(self_employed("AT", {"AT": 10, "DE": 30, "IT": 60}, "DE"))
    assert result["certificate_type"] == "review_required"
    assert "14(9)" in result["rule"]


def test_employed_in_one_state_and_self_employed_in_another() -> None:
    case = {
        "home_state": "LU",
        "residence_state": "FR",
        "employment_status": "employed_and_self_employed",
        "employer_seats": [{"country": "LU", "share_of_working_time_pct": 100}],
        "employed_work_split_pct": {"LU": 100},
        "self_employed_work_split_pct": {"FR": 100},
        "trip": {"kind": "regular_multi_state"},
    }
    result = run(case)
    assert result["legislation_state"] == "LU"
    assert "13(3)" in result["rule"]


def test_employed_in_two_states_plus_self_employed_applies_art13_1() -> None:
    case = {
        "home_state": "LU",
        "residence_state": "BE",
        "employment_status": "employed_and_self_employed",
        "employer_seats": [{"country": "LU", "share_of_working_time_pct": 100}],
        "employed_work_split_pct": {"BE": 30, "LU": 70},
        "self_employed_work_split_pct": {"NL": 100},
    }
    result = run(case)
    assert result["legislation_state"] == "BE"
    assert "13(3)" in result["rule"] and "13(1)(a)" in result["rule"]


def test_employed_and_self_employed_in_the_same_state() -> None:
    case = {
        "home_state": "LU",
        "residence_state": "LU",
        "employment_status": "employed_and_self_employed",
        "employer_seats": [{"country": "LU", "share_of_working_time_pct": 100}],
        "employed_work_split_pct": {"LU": 100},
        "self_employed_work_split_pct": {"LU": 100},
    }
    result = run(case)
    assert result["legislation_state"] == "LU"
    assert "11(3)(a)" in result["rule"]


# --------------------------------------------------------------------------- Art 12 postings


def test_posting_of_exactly_24_months_gets_an_a1() -> None:
    result = run(posting(start="2025-01-01", end="2026-12-31"))
    assert result["certificate_type"] == "A1"
    assert result["legislation_state"] == "DE"
    assert result["max_period_months"] == 24
    assert "Art 12(1)" in result["rule"]
    assert result["certificate_issuer"]


def test_posting_of_24_months_and_one_day_falls_under_host_legislation() -> None:
    result = run(posting(start="2025-01-01", end="2027-01-01"))
    assert result["certificate_type"] == "none_host_legislation"
    assert result["legislation_state"] == "FR"
    assert result["certificate_issuer"] is None
    assert "11(3)(a)" in result["rule"]
    assert "2026-12-31" in text(result)
    assert any("at least 3 months before the start" in w for w in result["warnings"])


def test_month_arithmetic_clamps_to_month_end() -> None:
    # 24 months from 2024-02-29 end on 2026-02-27 (2026-02-28 minus one day).
    assert run(posting(start="2024-02-29", end="2026-02-27"))["certificate_type"] == "A1"
    assert run(posting(start="2024-02-29", end="2026-02-28"))["certificate_type"] != "A1"


def test_one_day_business_trip_is_a_posting() -> None:
    result = run(posting(start="2025-03-03", end="2025-03-03"))
    assert result["certificate_type"] == "A1"
    assert "(1 day, dates inclusive)" in result["reasons"][0]


def test_replacement_posting_is_not_allowed() -> None:
    result = run(posting(replacing_posted_worker=True))
    assert result["certificate_type"] == "none_host_legislation"
    assert result["legislation_state"] == "FR"
    assert "Alpenrind" in text(result)


def test_employer_without_substantial_activity_cannot_post() -> None:
    result = run(posting(employer_substantial_activity_in_home_state=False))
    assert result["certificate_type"] == "none_host_legislation"
    assert "14(2)" in text(result)


def test_prior_insurance_of_zero_months_when_recruited_for_posting_is_host_law() -> None:
    """987/2009 Art 14(1): a person recruited for the posting must be subject to the sending
    state's legislation immediately before; with no insurance there at all Art 12 cannot apply
    (Practical Guide, Part I §1: at least one month)."""
    result = run(posting(prior_insurance_months=0, recruited_for_posting=True))
    assert result["certificate_type"] == "none_host_legislation"
    assert result["legislation_state"] == "FR"
    assert "not insured in Germany (DE) at all" in text(result)


def test_recruited_for_posting_without_prior_insurance_given_needs_review() -> None:
    result = run(posting(prior_insurance_months=None, recruited_for_posting=True))
    assert result["certificate_type"] == "review_required"


def test_one_month_of_prior_insurance_is_enough() -> None:
    result = run(posting(prior_insurance_months=1, recruited_for_posting=True))
    assert result["certificate_type"] == "A1"


def test_unknown_preconditions_become_warnings_not_guesses() -> None:
    case = posting()
    for key in ("prior_insurance_months", "replacing_posted_worker", "recruited_for_posting"):
        case.pop(key)
    case.pop("employer_substantial_activity_in_home_state")
    result = run(case)
    assert result["certificate_type"] == "A1"
    warnings = " ".join(result["warnings"])
    assert "replace another posted person" in warnings
    assert "substantial activities" in warnings
    assert "one month of insurance" in warnings


def test_hard_failure_wins_over_review() -> None:
    result = run(posting(replacing_posted_worker=True, prior_insurance_months=0))
    assert result["certificate_type"] == "none_host_legislation"


def test_new_posting_within_two_months_of_previous_one() -> None:
    previous = {"destination": "FR", "start_date": "2024-06-01", "end_date": "2025-03-31"}
    early = run(posting(start="2025-05-31", end="2025-08-31", previous_posting=previous))
    assert early["certificate_type"] == "none_host_legislation"
    assert "2025-06-01" in text(early)
    in_time = run(posting(start="2025-06-01", end="2025-08-31", previous_posting=previous))
    assert in_time["certificate_type"] == "A1"


def test_previous_posting_elsewhere_or_by_another_employer_does_not_count() -> None:
    other_state = {"destination": "AT", "end_date": "2025-03-31"}
    assert (
        run(posting(start="2025-04-01", previous_posting=other_state))["certificate_type"] == "A1"
    )
    other_employer = {"destination": "FR", "end_date": "2025-03-31", "same_employer": False}
    result = run(posting(start="2025-04-01", end="2025-06-30", previous_posting=other_employer))
    assert result["certificate_type"] == "A1"


def test_belgian_posting_reminds_of_dimona() -> None:
    result = run(posting(home_state="BE", residence_state="BE", nationality="BE"))
    assert result["certificate_type"] == "A1"
    assert any("Dimona" in w for w in result["warnings"])


def test_self_employed_posting() -> None:
    base = {
        "home_state": "FR",
        "residence_state": "FR",
        "employment_status": "self_employed",
        "trip": {
            "kind": "posting",
            "destination": "DE",
            "start_date": "2025-01-01",
            "end_date": "2025-03-31",
        },
        "similar_activity": True,
        "self_employed_activity_months": 6,
    }
    ok = run(base)
    assert ok["certificate_type"] == "A1" and "Art 12(2)" in ok["rule"]
    assert run({**base, "similar_activity": False})["certificate_type"] == "none_host_legislation"
    short = run({**base, "self_employed_activity_months": 1})
    assert short["certificate_type"] == "review_required"
    # No replacement ban for the self-employed (Art 12(2)).
    assert run({**base, "replacing_posted_worker": True})["certificate_type"] == "A1"


def test_employed_and_self_employed_posted_with_activities_elsewhere_needs_review() -> None:
    case = posting(
        employment_status="employed_and_self_employed",
        employed_work_split_pct={"DE": 100},
        self_employed_work_split_pct={"AT": 100},
    )
    assert run(case)["certificate_type"] == "review_required"
    at_home = posting(
        employment_status="employed_and_self_employed",
        employed_work_split_pct={"DE": 100},
        self_employed_work_split_pct={"DE": 100},
    )
    assert run(at_home)["certificate_type"] == "A1"


# --------------------------------------------------------------------------- Art 16


def test_art16_granted_keeps_home_legislation_beyond_24_months() -> None:
    result = run(posting(start="2025-01-01", end="2027-12-31", art16_agreement="granted"))
    assert result["certificate_type"] == "A1_via_derogation_art16"
    assert result["legislation_state"] == "DE"
    assert "Art 16" in result["rule"]


def test_art16_requested_needs_review_and_explains_both_outcomes() -> None:
    result = run(posting(start="2025-01-01", end="2027-12-31", art16_agreement="requested"))
    assert result["certificate_type"] == "review_required"
    assert "if it is refused" in text(result)
    assert any("3 months" in w for w in result["warnings"])


def test_art16_warning_when_start_is_less_than_3_months_away() -> None:
    soon = run(posting(start="2024-07-15", end="2026-12-31", art16_request=True))
    assert any("less than 3 months from today" in w for w in soon["warnings"])
    later = run(posting(start="2024-09-02", end="2026-12-31", art16_request=True))
    assert not any("less than 3 months from today" in w for w in later["warnings"])


def test_art16_request_alone_does_not_decide() -> None:
    result = run(posting(start="2025-01-01", end="2027-12-31", art16_request=True))
    assert result["certificate_type"] == "none_host_legislation"


def test_telework_framework_agreement_under_50_percent() -> None:
    case = multi(
        "FR",
        {"FR": 40, "DE": 60},
        ["DE"],
        telework_pct_in_residence=40,
        art16_request=True,
        trip={"kind": "regular_multi_state", "start_date": "2025-01-01", "end_date": "2025-12-31"},
    )
    result = run(case)
    assert result["certificate_type"] == "A1_via_derogation_art16"
    assert result["legislation_state"] == "DE"
    assert "telework" in result["rule"].lower()


def test_telework_without_joint_request_follows_the_25_percent_rule() -> None:
    result = run(multi("FR", {"FR": 40, "DE": 60}, ["DE"], telework_pct_in_residence=40))
    assert result["certificate_type"] == "A1"
    assert result["legislation_state"] == "FR"


def test_telework_of_50_percent_is_outside_the_framework_agreement() -> None:
    case = multi(
        "FR", {"FR": 50, "DE": 50}, ["DE"], telework_pct_in_residence=50, art16_request=True
    )
    result = run(case)
    assert result["legislation_state"] == "FR"
    assert result["certificate_type"] == "A1"
    assert "not under 50 %" in text(result)


def test_telework_framework_agreement_needs_both_states_to_have_signed() -> None:
    case = multi(
        "IT", {"IT": 40, "DE": 60}, ["DE"], telework_pct_in_residence=40, art16_request=True
    )
    result = run(case)
    assert result["legislation_state"] == "IT"
    assert "had not signed" in text(result)


def test_telework_framework_agreement_not_for_work_in_a_third_state() -> None:
    case = multi(
        "FR",
        {"FR": 30, "DE": 50, "AT": 20},
        ["DE"],
        telework_pct_in_residence=30,
        art16_request=True,
    )
    assert run(case)["legislation_state"] == "FR"


def test_individual_art16_agreement_in_multi_state_work() -> None:
    case = multi("BE", {"BE": 40, "LU": 60}, ["LU"], art16_agreement="granted")
    result = run(case)
    assert result["certificate_type"] == "A1_via_derogation_art16"
    assert result["legislation_state"] == "LU"


# --------------------------------------------------------------------------- UK and Switzerland


def test_uk_posting_under_the_tca() -> None:
    result = run(posting("GB"))
    assert result["certificate_type"] == "A1"
    assert result["legislation_state"] == "DE"
    assert "SSC.11" in result["rule"]


def test_uk_posting_beyond_24_months_cannot_be_extended() -> None:
    result = run(posting("GB", start="2025-01-01", end="2027-01-01"))
    assert result["certificate_type"] == "none_host_legislation"
    assert result["legislation_state"] == "GB"
    assert any("no extension" in w for w in result["warnings"])
    granted = run(posting("GB", start="2025-01-01", end="2027-06-30", art16_agreement="granted"))
    assert granted["certificate_type"] == "review_required"


def test_uk_posting_started_before_2021_stays_under_the_withdrawal_agreement() -> None:
    result = run(posting("GB", start="2020-06-01", end="2021-12-31"))
    assert result["certificate_type"] == "A1"
    assert "Withdrawal Agreement" in result["rule"]


def test_uk_multi_state_follows_the_883_logic() -> None:
    result = run(multi("GB", {"GB": 30, "IE": 70}, ["IE"]))
    assert result["legislation_state"] == "GB"
    assert "TCA" in result["rule"]


def test_uk_with_switzerland_or_efta_needs_review() -> None:
    case = posting("CH", home_state="GB", residence_state="GB", nationality="GB")
    assert run(case)["certificate_type"] == "review_required"
    assert run(posting("NO", home_state="GB", residence_state="GB"))["certificate_type"] == (
        "review_required"
    )


def test_switzerland_posting() -> None:
    result = run(posting("CH"))
    assert result["certificate_type"] == "A1"
    assert result["legislation_state"] == "DE"
    assert "Switzerland" in text(result)


def test_third_country_national_with_switzerland_or_denmark_needs_review() -> None:
    assert run(posting("CH", nationality="IN"))["certificate_type"] == "review_required"
    assert run(posting("DK", nationality="IN"))["certificate_type"] == "review_required"
    assert run(posting("NO", nationality="US"))["certificate_type"] == "review_required"


def test_third_country_national_within_the_eu_is_covered_by_reg_1231() -> None:
    result = run(posting("FR", nationality="IN"))
    assert result["certificate_type"] == "A1"
    assert "1231/2010" in text(result)


def test_nationality_not_given_with_switzerland_warns() -> None:
    case = posting("CH")
    del case["nationality"]
    result = run(case)
    assert result["certificate_type"] == "A1"
    assert any("third-country national" in w for w in result["warnings"])


def test_trip_before_the_swiss_agreement_applied_needs_review() -> None:
    result = run(posting("CH", start="2011-01-01", end="2011-03-31"))
    assert result["certificate_type"] == "review_required"


# --------------------------------------------------------------------------- bilateral agreements


def test_bilateral_posting_within_the_maximum_gets_a_coc() -> None:
    result = run(posting("US", start="2025-01-01", end="2027-12-31"))
    assert result["certificate_type"] == "CoC"
    assert result["legislation_state"] == "DE"
    assert result["max_period_months"] == 60
    assert result["segments"] == []


def test_bilateral_posting_longer_than_the_maximum_is_split_into_segments() -> None:
    # Germany–Korea: 24 months, then Korean legislation (German practice, docs/legal-rules.md §7).
    result = run(posting("KR", start="2025-01-01", end="2027-06-30"))
    assert result["certificate_type"] == "CoC"
    assert result["legislation_state"] == "DE"
    assert result["max_period_months"] == 24
    assert result["segments"] == [
        {
            "start_date": "2025-01-01",
            "end_date": "2026-12-31",
            "legislation_state": "DE",
            "certificate_type": "CoC",
            "rule": result["rule"],
        },
        {
            "start_date": "2027-01-01",
            "end_date": "2027-06-30",
            "legislation_state": "KR",
            "certificate_type": "none_host_legislation",
            "rule": result["segments"][1]["rule"],
        },
    ]


def test_bilateral_extension_gives_coc_prolongation_then_host() -> None:
    """France–Brazil: 24 months + 24 months extension (CLEISS table of posting periods). Foreseen
    from the outset beyond both, the rule does not apply at all; notified within the 24 months and
    extended later, the periods follow one another."""
    case = posting("BR", home_state="FR", residence_state="FR", nationality="FR")
    three_years = run({**case, "trip": {**case["trip"], "end_date": "2027-12-31"}})
    assert [s["certificate_type"] for s in three_years["segments"]] == ["CoC", "CoC_prolongation"]
    foreseen = run({**case, "trip": {**case["trip"], "end_date": "2029-12-31"}})
    assert foreseen["certificate_type"] == "none_host_legislation"
    assert foreseen["legislation_state"] == "BR"
    trip = {**case["trip"], "end_date": "2029-12-31", "original_end_date": "2026-06-30"}
    five_years = run({**case, "trip": trip})
    assert [
        (s["certificate_type"], s["start_date"], s["end_date"]) for s in five_years["segments"]
    ] == [
        ("CoC", "2025-01-01", "2026-12-31"),
        ("CoC_prolongation", "2027-01-01", "2028-12-31"),
        ("none_host_legislation", "2029-01-01", "2029-12-31"),
    ]


def test_bilateral_extension_until_completion() -> None:
    case = posting("CI", home_state="FR", residence_state="FR", end="2029-12-31")
    kinds = [s["certificate_type"] for s in run(case)["segments"]]
    assert kinds == ["CoC", "CoC_prolongation"]


def test_bilateral_without_extension() -> None:
    """France–Cameroon: 6 months, no extension (CLEISS table). Extended after notification: the
    first 6 months stay French; foreseen from the outset beyond them: Cameroonian law at once."""
    case = posting("CM", home_state="FR", residence_state="FR", end="2025-12-31")
    case["trip"]["original_end_date"] = "2025-05-31"
    result = run(case)
    assert [s["certificate_type"] for s in result["segments"]] == ["CoC", "none_host_legislation"]
    assert result["segments"][0]["end_date"] == "2025-06-30"
    foreseen = run(posting("CM", home_state="FR", residence_state="FR", end="2025-12-31"))
    assert foreseen["certificate_type"] == "none_host_legislation"
    assert foreseen["segments"] == []


def test_us_posting_expected_beyond_five_years_is_under_us_law_from_the_start() -> None:
    result = run(posting("US", start="2025-01-01", end="2030-01-01"))
    assert result["certificate_type"] == "none_host_legislation"
    assert result["legislation_state"] == "US"
    assert result["segments"] == []


def test_agreement_without_fixed_limit() -> None:
    result = run(posting("TR", start="2025-01-01", end="2031-12-31"))
    assert result["certificate_type"] == "CoC"
    assert result["max_period_months"] is None
    assert "no fixed time limit" in text(result)


def test_agreement_with_unconfirmed_maximum_gives_coc_with_warning() -> None:
    result = run(posting("CA", home_state="BE", residence_state="BE", nationality="BE"))
    assert result["certificate_type"] == "CoC"
    assert result["max_period_months"] is None
    assert any("not confirmed" in w for w in result["warnings"])
    assert any("Quebec" in w for w in result["warnings"])


def test_partial_agreement_warns_about_double_coverage() -> None:
    result = run(posting("CN"))
    assert result["certificate_type"] == "CoC"
    assert any("double coverage" in w for w in result["warnings"])


def test_nationality_limited_agreement() -> None:
    assert run(posting("MA", nationality="MA"))["certificate_type"] == "CoC"
    outside = run(posting("MA", nationality="FR"))
    assert outside["certificate_type"] == "none_no_treaty"
    assert outside["provider_category"] == "no_treaty"
    case = posting("MA")
    del case["nationality"]
    assert run(case)["certificate_type"] == "review_required"
    # Luxembourg–Brazil also covers EU nationals.
    lu = posting("BR", home_state="LU", residence_state="LU", nationality="PT")
    assert run(lu)["certificate_type"] == "CoC"


def test_italy_us_agreement_has_no_detached_worker_rule() -> None:
    case = posting("US", home_state="IT", residence_state="IT", nationality="IT")
    assert run(case)["certificate_type"] == "review_required"


def test_unconfirmed_partner_needs_review() -> None:
    case = posting("JP", home_state="AT", residence_state="AT", nationality="AT")
    assert run(case)["certificate_type"] == "review_required"


def test_incoming_posting_uses_the_agreement_from_the_other_side() -> None:
    case = posting("DE", home_state="US", residence_state="US", nationality="US")
    result = run(case)
    assert result["certificate_type"] == "CoC"
    assert result["legislation_state"] == "US"


# --------------------------------------------------------------------------- no treaty


def test_no_treaty_destination() -> None:
    result = run(posting("TH"))
    assert result["certificate_type"] == "none_no_treaty"
    assert result["legislation_state"] is None
    assert result["certificate_issuer"] is None
    assert result["provider_category"] == "no_treaty"
    assert "§ 4 SGB IV" in result["home_coverage_possible"]
    assert any("double contributions" in w for w in result["warnings"])


def test_no_complete_list_means_review_not_no_treaty() -> None:
    case = posting("TH", home_state="LU", residence_state="LU", nationality="LU")
    result = run(case)
    assert result["certificate_type"] == "review_required"
    assert "cannot say" in text(result)
    poland = posting("TH", home_state="PL", residence_state="PL", nationality="PL")
    assert run(poland)["certificate_type"] == "review_required"


def test_france_complete_list_means_no_treaty_with_home_law() -> None:
    """securite-sociale.fr: France has agreements with 41 countries or territories (list on
    CLEISS); Thailand is not one of them, so no certificate can exist; CSS Art L761-2 and the CFE
    remain."""
    case = posting("TH", home_state="FR", residence_state="FR", nationality="FR")
    result = run(case)
    assert result["certificate_type"] == "none_no_treaty"
    assert "L761-2" in result["home_coverage_possible"]
    assert "CFE" in result["home_coverage_possible"]


def test_uk_employer_for_work_only_in_eu_states() -> None:
    # Residence not substantial: TCA or 883/2004 with an employer outside the EU? Not settled.
    assert run(multi("DE", {"DE": 10, "FR": 90}, ["GB"]))["certificate_type"] == "review_required"
    # Residence substantial: the residence state under either instrument.
    assert run(multi("DE", {"DE": 30, "FR": 70}, ["GB"]))["legislation_state"] == "DE"


def test_regular_work_with_a_no_treaty_state_needs_review() -> None:
    assert run(multi("DE", {"DE": 60, "TH": 40}, ["DE"]))["certificate_type"] == "review_required"


# ------------------------------------------------------------------------- GR / EL, territories


def test_gr_and_el_give_the_same_answer() -> None:
    with_gr = run(posting("GR"))
    with_el = run(posting("EL"))
    assert with_gr["certificate_type"] == with_el["certificate_type"] == "A1"
    el_multi = run(multi("EL", {"EL": 40, "CY": 60}, ["CY"]))
    gr_multi = run(multi("GR", {"GR": 40, "CY": 60}, ["CY"]))
    assert el_multi["legislation_state"] == gr_multi["legislation_state"] == "GR"


def test_outermost_region_is_its_member_state() -> None:
    result = run(posting("RE"))
    assert result["certificate_type"] == "A1"
    assert "Réunion" in text(result)


# --------------------------------------------------------------------------- provider category


def test_provider_category_in_the_result() -> None:
    assert run(posting("FR"), provider_filing_states=["DE"])["provider_category"] == "official"
    assert run(posting("FR"), provider_filing_states=["FR"])["provider_category"] == "provisional"
    assert run(posting("FR"))["provider_category"] == "provisional"
    assert run(posting("TH"), provider_filing_states=["DE"])["provider_category"] == "no_treaty"


def test_multi_state_provider_category_follows_the_issuing_state() -> None:
    case = multi("BE", {"BE": 40, "LU": 60}, ["LU"])
    assert run(case, provider_filing_states=["BE"])["provider_category"] == "official"
    assert run(case, provider_filing_states=["LU"])["provider_category"] == "provisional"


def test_bad_filing_state_is_a_case_error() -> None:
    with pytest.raises(CaseError) as info:
        determine(posting(), provider_filing_states=["XX"], today=TODAY)
    assert info.value.errors == {"provider_filing_states[0]": "unknown country code 'XX'"}


# --------------------------------------------------------------------------- bad input


def errors_of(case: Any) -> dict[str, str]:
    with pytest.raises(CaseError) as info:
        determine(case, today=TODAY)
    assert isinstance(info.value, ValueError)
    return info.value.errors


def test_unknown_country_is_named() -> None:
    assert errors_of(posting(home_state="XX")) == {"home_state": "unknown country code 'XX'"}
    errors = errors_of(posting("XY"))
    assert errors == {"trip.destination": "unknown country code 'XY'"}


def test_percentages_must_add_up_to_100() -> None:
    errors = errors_of(multi("BE", {"BE": 40, "LU": 50}, ["LU"]))
    assert errors == {"work_split_pct": "percentages add up to 90, not 100"}
    assert errors_of(multi("BE", {"BE": 40, "LU": 58.9}, ["LU"]))  # 98.9: more than one point off


@pytest.mark.parametrize("split", [{"BE": 33, "LU": 33, "NL": 33}, {"BE": 40, "LU": 61}])
def test_percentages_within_one_point_pass(split: dict[str, float]) -> None:
    assert run(multi("BE", split, ["LU"]))["certificate_type"] == "A1"


def test_end_before_start() -> None:
    errors = errors_of(posting(start="2025-06-01", end="2025-05-31"))
    assert errors == {"trip.end_date": "is before the start date"}


def test_missing_required_fields() -> None:
    case = posting()
    del case["home_state"]
    del case["trip"]["destination"]
    errors = errors_of(case)
    assert errors == {"home_state": "is required", "trip.destination": "is required"}
    missing_split = multi("BE", {"BE": 100}, ["LU"])
    del missing_split["work_split_pct"]
    assert errors_of(missing_split) == {"work_split_pct": "is required"}
    missing_seats = multi("BE", {"BE": 40, "LU": 60}, ["LU"])
    del missing_seats["employer_seats"]
    assert "employer_seats" in errors_of(missing_seats)


def test_wrong_types_are_named() -> None:
    errors = errors_of(
        posting(
            prior_insurance_months="three",
            replacing_posted_worker="no",
            employment_status="freelancer",
            art16_agreement="maybe",
            trip={"kind": "trip", "destination": "FR", "start_date": "01/02/2025", "end_date": 5},
        )
    )
    assert errors["prior_insurance_months"] == "must be a number"
    assert errors["replacing_posted_worker"] == "must be true, false or null"
    assert errors["employment_status"].startswith("must be one of")
    assert errors["art16_agreement"].startswith("must be one of")
    assert errors["trip.kind"].startswith("must be one of")
    assert errors["trip.start_date"] == "must be a date in the form YYYY-MM-DD"
    assert errors["trip.end_date"] == "must be a date in the form YYYY-MM-DD"


def test_every_bad_field_is_named_at_once() -> None:
    case = multi("XX", {"BE": 40, "LU": 50}, ["LU"])
    case["trip"] = {
        "kind": "regular_multi_state",
        "start_date": "2025-02-01",
        "end_date": "2025-01-01",
    }
    case["home_state"] = "QQ"
    errors = errors_of(case)
    assert errors == {
        "residence_state": "unknown country code 'XX'",
        "home_state": "unknown country code 'QQ'",
        "work_split_pct": "percentages add up to 90, not 100",
        "trip.end_date": "is before the start date",
    }


def test_bad_nested_values_are_named_by_path() -> None:
    case = multi("BE", {"BE": 40, "ZZ": 60}, ["LU"])
    case["employer_seats"] = [{"country": "LU", "share_of_working_time_pct": 150}]
    errors = errors_of(case)
    assert errors["work_split_pct.ZZ"] == "unknown country code 'ZZ'"
    assert errors["employer_seats[0].share_of_working_time_pct"] == "must be between 0 and 100"


def test_percent_values_must_be_numbers_in_range() -> None:
    errors = errors_of(multi("BE", {"BE": -5, "LU": "105"}, ["LU"]))
    assert errors == {
        "work_split_pct.BE": "must be between 0 and 100",
        "work_split_pct.LU": "must be a number",
    }


def test_posting_to_the_home_state_is_rejected() -> None:
    assert errors_of(posting("DE")) == {
        "trip.destination": "is the home state; a posting goes to another state"
    }


def test_case_must_be_an_object() -> None:
    assert errors_of([1, 2]) == {"case": "must be a JSON object"}


def test_unknown_fields_are_ignored_with_a_warning() -> None:
    result = run(posting(employee_name="Ada"))
    assert result["certificate_type"] == "A1"
    assert any("employee_name" in w for w in result["warnings"])


def test_validate_case_normalises() -> None:
    from web.coverage import validate_case

    normalised = validate_case(multi("el", {"EL": 40, "CY": 60}, ["cy"]))
    assert normalised["residence_state"] == "GR"
    assert normalised["work_split_pct"] == {"GR": 40, "CY": 60}
    assert normalised["employer_seats"][0]["country"] == "CY"
    assert normalised["trip"]["start_date"] == date(2025, 1, 1)


def test_previous_posting_and_nationality_are_checked() -> None:
    errors = errors_of(
        posting(
            previous_posting={"destination": "FR", "end_date": "2025-13-01"},
            nationality=["DE", "XX"],
        )
    )
    assert errors == {
        "previous_posting.end_date": "must be a date in the form YYYY-MM-DD",
        "nationality[1]": "unknown country code 'XX'",
    }
    assert errors_of(posting(previous_posting={"end_date": "2025-01-01"})) == {
        "previous_posting.destination": "is required"
    }


def test_dual_nationality_covered_if_either_nationality_is() -> None:
    assert run(posting("CH", nationality=["IN", "FR"]))["certificate_type"] == "A1"


def test_employer_seats_without_shares_are_accepted() -> None:
    case = multi("LU", {"DE": 50, "FR": 50}, ["DE", "FR"])
    case["employer_seats"] = [{"country": "DE"}, {"country": "FR"}]
    assert run(case)["legislation_state"] == "LU"
    case["employer_seats"] = [
        {"country": "DE", "share_of_working_time_pct": 50},
        {"country": "FR", "share_of_working_time_pct": 40},
    ]
    assert errors_of(case) == {"employer_seats": "shares of working time add up to 90, not 100"}
