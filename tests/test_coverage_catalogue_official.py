"""Catalogue entries taken from the institutions' own pages (issue 14, point 1).

Each case names, in its docstring, the official source the entry was read from; the generic checks
(every entry at and beyond its maximum) live in ``tests/test_coverage_catalogue.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from web.coverage import countries, determine

TODAY = date(2024, 6, 1)


def _posting(home: str, partner: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "home_state": home,
        "residence_state": home,
        "employment_status": "employed",
        "nationality": [home],
        "trip": {"kind": "posting", "destination": partner, "start_date": start, "end_date": end},
        "replacing_posted_worker": False,
        "employer_substantial_activity_in_home_state": True,
        "prior_insurance_months": 12,
        **extra,
    }


def test_belgian_lists_rest_on_official_sources() -> None:
    """NSSO/RSZ DmfA instructions ("Landen verbonden door een bilateraal akkoord") and the
    INASTI/RSVZ page replace the hrsquare.be list; AT rests on the SVS table and the health
    insurance fund page instead of entsendung.at."""
    for home, secondary in (("BE", "hrsquare.be"), ("AT", "entsendung.at")):
        state = countries.catalogue_state(home) or {}
        assert secondary not in state["completeness_source"], home
        assert countries.is_complete(home), home
    for partner, versions in countries.agreement_versions("BE").items():
        for a in versions:
            assert "hrsquare.be" not in a.source, partner


def test_belgian_agreement_for_nationals_only_does_not_cover_a_us_national() -> None:
    """RSZ DmfA: the agreements apply in principle to the contracting states' nationals only;
    Korea is not among those that apply to all nationalities. A US national posted from Belgium
    to Korea gets no certificate; a German national is treated as a Belgian (CJEU C-55/00)."""
    outsider = _posting("BE", "KR", "2026-01-01", "2026-06-30", nationality=["US"])
    assert determine(outsider, today=TODAY)["certificate_type"] == "none_no_treaty"
    european = _posting("BE", "KR", "2026-01-01", "2026-06-30", nationality=["DE"])
    answer = determine(european, today=TODAY)
    assert answer["certificate_type"] == "CoC" and answer["legislation_state"] == "BE"


def test_belgium_congo_covers_the_merchant_navy_only() -> None:
    """RSVZ: "België heeft ook een bilaterale overeenkomst … afgesloten met … DR Congo
    (koopvaardij)": an office posting is not covered by a certificate."""
    answer = determine(_posting("BE", "CD", "2026-01-01", "2026-06-30"), today=TODAY)
    assert answer["certificate_type"] == "review_required"


def test_austrian_agreements_have_no_posting_rule_for_the_self_employed() -> None:
    """SVS "Vertragsstaaten": special rules for the self-employed exist only in the agreements with
    Canada, the USA and Korea; elsewhere several insurances can arise side by side."""
    case = _posting(
        "AT",
        "RS",
        "2026-01-01",
        "2026-06-30",
        employment_status="self_employed",
        self_employed_activity_months=24,
    )
    assert determine(case, today=TODAY)["certificate_type"] == "review_required"
    assert countries.bilateral_agreement("AT", "US").self_employed is True


def test_spain_bolivia_postings_follow_the_ibero_american_convention() -> None:
    """Seguridad Social, "Convenio Multilateral Iberoamericano": for postings the Convention applies
    to Bolivia (from 1 May 2011) and El Salvador (from 17 November 2012), initial posting up to
    twelve months."""
    within = determine(_posting("ES", "BO", "2026-01-01", "2026-12-31"), today=TODAY)
    assert within["certificate_type"] == "CoC" and within["legislation_state"] == "ES"
    beyond = determine(_posting("ES", "BO", "2026-01-01", "2027-01-31"), today=TODAY)
    assert beyond["certificate_type"] == "none_host_legislation"
    assert beyond["legislation_state"] == "BO"
    assert countries.bilateral_agreement("ES", "SV").applies_from == date(2012, 11, 17)


def test_italy_japan_applies_from_april_2024_for_five_years() -> None:
    """Embassy of Italy in Tokyo and INPS circular 52/2024: in force 1 April 2024; posted workers
    stay under the home scheme if the posting does not exceed five years (Art 7)."""
    five = determine(_posting("IT", "JP", "2026-01-01", "2030-12-31"), today=TODAY)
    assert five["certificate_type"] == "CoC" and five["legislation_state"] == "IT"
    assert five["rule"] == "Agreement IT–JP, Art 7"
    before = determine(_posting("IT", "JP", "2023-01-01", "2023-06-30"), today=TODAY)
    assert before["certificate_type"] == "review_required"


def test_italy_former_yugoslav_states_named_by_the_foreign_ministry() -> None:
    """Ministry of Foreign Affairs (embassy page on bilateral conventions): "Bosnia Erzegovina,
    Macedonia, … Serbia e Montenegro"; Kosovo is not named."""
    answer = determine(_posting("IT", "BA", "2026-01-01", "2026-06-30"), today=TODAY)
    assert answer["certificate_type"] == "CoC" and answer["legislation_state"] == "IT"
    assert countries.treaty_between("IT", "XK").status == "unconfirmed"


def test_czech_canada_sixty_months() -> None:
    """Canada–Czech Republic agreement (in force 1 January 2003): "this coverage may not be
    maintained for more than 60 months without the prior consent of the competent authorities"."""
    answer = determine(_posting("CZ", "CA", "2026-01-01", "2031-01-31"), today=TODAY)
    assert answer["certificate_type"] == "none_host_legislation"
    assert answer["legislation_state"] == "CA"
    within = determine(_posting("CZ", "CA", "2026-01-01", "2030-12-31"), today=TODAY)
    assert within["certificate_type"] == "CoC"
