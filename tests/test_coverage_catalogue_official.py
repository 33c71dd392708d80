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


# --------------------------------------------------------------------------- version 2026-12-02.4


def test_spanish_list_is_complete() -> None:
    """ICEX-Invest in Spain, Guide to Business in Spain §5.11.2: Spain has bilateral conventions
    with 25 states (Andorra … Venezuela), each matched by a Seguridad Social page; Bolivia and El
    Salvador under the Ibero-American Convention. A partner not listed has no agreement."""
    assert countries.is_complete("ES")
    bilateral = {p for p in countries.agreements_of("ES") if p not in ("BO", "SV", "CA-QC")}
    assert len(bilateral) == 25
    answer = determine(_posting("ES", "TH", "2026-01-01", "2026-06-30"), today=TODAY)
    assert answer["certificate_type"] == "none_no_treaty"


def test_spain_morocco_covers_the_two_states_nationals_only() -> None:
    """Seguridad Social, Morocco page: the convention applies to Spanish and Moroccan workers;
    36 months. A German national posted from Spain has no treaty cover."""
    spaniard = determine(_posting("ES", "MA", "2026-01-01", "2028-12-31"), today=TODAY)
    assert spaniard["certificate_type"] == "CoC" and spaniard["max_period_months"] == 36
    german = _posting("ES", "MA", "2026-01-01", "2026-06-30", nationality=["DE"])
    assert determine(german, today=TODAY)["certificate_type"] == "none_no_treaty"


def test_spain_usa_covers_employees_only() -> None:
    """Seguridad Social, United States page: the posting rule covers employees (60 months); a
    self-employed posting is a review."""
    case = _posting(
        "ES",
        "US",
        "2026-01-01",
        "2026-06-30",
        employment_status="self_employed",
        self_employed_activity_months=24,
    )
    assert determine(case, today=TODAY)["certificate_type"] == "review_required"
    employee = determine(_posting("ES", "US", "2026-01-01", "2030-12-31"), today=TODAY)
    assert employee["certificate_type"] == "CoC" and employee["max_period_months"] == 60


def test_spain_china_six_years() -> None:
    """La Moncloa (Council of Ministers, convention with China): initial period of six years,
    pensions and unemployment only; a posting planned for seven years is under Chinese law."""
    six = determine(_posting("ES", "CN", "2026-01-01", "2031-12-31"), today=TODAY)
    assert six["certificate_type"] == "CoC" and six["max_period_months"] == 72
    seven = determine(_posting("ES", "CN", "2026-01-01", "2032-12-31"), today=TODAY)
    assert seven["certificate_type"] == "none_host_legislation"
    assert seven["legislation_state"] == "CN"


def test_swedish_list_is_complete_and_distinguishes_conventions_of_intent() -> None:
    """Skatteverket, "Countries with which Sweden has agreements on social security": Cape Verde
    12 months, "not convention of intent" (home law for 12 months, then host law); Chile 12
    months, "convention of intent" (host law from the first day when planned longer); a country
    not in the table has no convention."""
    assert countries.is_complete("SE")
    cape_verde = determine(_posting("SE", "CV", "2026-01-01", "2027-06-30"), today=TODAY)
    assert [s["certificate_type"] for s in cape_verde["segments"]] == [
        "CoC",
        "none_host_legislation",
    ]
    assert cape_verde["segments"][0]["end_date"] == "2026-12-31"
    chile = determine(_posting("SE", "CL", "2026-01-01", "2027-06-30"), today=TODAY)
    assert chile["certificate_type"] == "none_host_legislation"
    assert chile["legislation_state"] == "CL"
    assert (
        determine(_posting("SE", "TH", "2026-01-01", "2026-06-30"), today=TODAY)["certificate_type"]
        == "none_no_treaty"
    )
    assert countries.treaty_between("SE", "ME").status == "unconfirmed"


def test_sweden_japan_from_june_2022() -> None:
    """MHLW press release of 28 March 2022: the Japan–Sweden agreement enters into force on
    1 June 2022; postings not expected to exceed five years stay under home law."""
    answer = determine(_posting("SE", "JP", "2026-01-01", "2030-12-31"), today=TODAY)
    assert answer["certificate_type"] == "CoC" and answer["legislation_state"] == "SE"
    before = determine(_posting("SE", "JP", "2022-01-01", "2022-03-31"), today=TODAY)
    assert before["certificate_type"] == "review_required"


def test_sweden_korea_two_years() -> None:
    """Korean NPS, agreement with Sweden: in force June 2015; a detached person stays under home
    legislation for no more than 2 years."""
    assert countries.bilateral_agreement("SE", "KR").max_posting_months == 24
    beyond = determine(_posting("SE", "KR", "2026-01-01", "2028-06-30"), today=TODAY)
    assert beyond["certificate_type"] == "none_host_legislation"


def test_italy_korea_thirty_six_months_renewable_once() -> None:
    """INPS, convention with Korea (in force 1 April 2005): 36 months, renewable once for a
    further 36; employees and the self-employed, any nationality."""
    renewed = determine(_posting("IT", "KR", "2026-01-01", "2031-12-31"), today=TODAY)
    assert [s["certificate_type"] for s in renewed["segments"]] == ["CoC", "CoC_prolongation"]
    beyond = determine(_posting("IT", "KR", "2026-01-01", "2032-01-31"), today=TODAY)
    assert beyond["certificate_type"] == "none_host_legislation"
    assert countries.bilateral_agreement("IT", "KR").self_employed is True


def test_italy_canada_new_agreement_twenty_four_months() -> None:
    """INPS circular 154/2017 and Canada SI/2017-49: the agreement of 22 May 1995 is in force
    from 1 October 2017; posting 24 months, beyond only with an authorised extension."""
    within = determine(_posting("IT", "CA", "2026-01-01", "2027-12-31"), today=TODAY)
    assert within["certificate_type"] == "CoC" and within["max_period_months"] == 24
    beyond = determine(_posting("IT", "CA", "2026-01-01", "2028-06-30"), today=TODAY)
    assert beyond["certificate_type"] == "none_host_legislation"


def test_poland_korea_keeps_polish_law_for_the_first_sixty_months() -> None:
    """ZUS, Korea page and the agreement (Dz.U. 2010 nr 35 poz. 192) Art 7(1): the posted
    worker stays under the sending state's law "for the first sixty calendar months", even when
    a longer posting is planned; then Korean law."""
    answer = determine(_posting("PL", "KR", "2026-01-01", "2031-12-31"), today=TODAY)
    kinds = [s["certificate_type"] for s in answer["segments"]]
    assert kinds == ["CoC", "none_host_legislation"]
    assert answer["segments"][0]["end_date"] == "2030-12-31"


def test_poland_moldova_from_december_2014() -> None:
    """ZUS, Moldova page: the agreement applies from 1 December 2014; posting up to 24 months
    (Art 8(1))."""
    within = determine(_posting("PL", "MD", "2026-01-01", "2027-12-31"), today=TODAY)
    assert within["certificate_type"] == "CoC" and within["max_period_months"] == 24
    before = determine(_posting("PL", "MD", "2014-01-01", "2014-06-30"), today=TODAY)
    assert before["certificate_type"] == "review_required"


def test_portugal_canada_twenty_four_months_then_canadian_law() -> None:
    """Canada–Portugal agreement (CTS 1981/15, in force 1 May 1981) Art VII and the CRA table
    (Portugal: 24 months): Portuguese law for the first 24 months, then Canadian law."""
    answer = determine(_posting("PT", "CA", "2026-01-01", "2028-06-30"), today=TODAY)
    kinds = [s["certificate_type"] for s in answer["segments"]]
    assert kinds == ["CoC", "none_host_legislation"]
    assert answer["segments"][0]["end_date"] == "2027-12-31"


def test_czech_japan_and_korea_five_years() -> None:
    """Japan Pension Service (Czech agreement from 1 June 2009, Art 7) and Korean NPS (Czech
    agreement from November 2008: within 5 years): five years each."""
    for partner in ("JP", "KR"):
        answer = determine(_posting("CZ", partner, "2026-01-01", "2030-12-31"), today=TODAY)
        assert answer["certificate_type"] == "CoC" and answer["max_period_months"] == 60, partner


# --------------------------------------------------------------------------- version 2026-12-02.5


def test_czech_moldova_posted_workers_from_october_2012() -> None:
    """85/2012 Sb. m. s. (Czech Republic–Moldova agreement), Art 9 "Vyslaní pracovníci"; in force
    1 October 2012 (Moldovan treaty register). The maximum is not recorded: a certificate with a
    warning to check the period, and a review before the agreement applied."""
    answer = determine(_posting("CZ", "MD", "2026-01-01", "2026-06-30"), today=TODAY)
    assert answer["certificate_type"] == "CoC" and answer["legislation_state"] == "CZ"
    assert answer["rule"] == "Agreement CZ–MD, Art 9"
    assert answer["max_period_months"] is None
    before = determine(_posting("CZ", "MD", "2012-01-01", "2012-06-30"), today=TODAY)
    assert before["certificate_type"] == "review_required"


def test_czech_quebec_understanding_is_named_when_posting_to_canada() -> None:
    """124/2003 Sb. m. s. and LegisQuébec R-9, r. 35: a separate agreement with Quebec (Art 8,
    posted person, maximum not read). A posting to Canada warns that Quebec has its own rules."""
    answer = determine(_posting("CZ", "CA", "2026-01-01", "2026-06-30"), today=TODAY)
    assert answer["certificate_type"] == "CoC"
    warnings = [m["id"] for m in answer["explanation"]["warnings"]]
    assert "bilateral.quebec_unknown" in warnings


def test_czech_agreements_from_the_ministry_table_name_the_agreement() -> None:
    """MPSV table of agreements (older): Ukraine from 1 April 2003 (nationals only), Serbia and
    Montenegro from 1 December 2002; no posting rule read, so a review that names the agreement.
    Macedonia is listed only under the 1957 agreement with Yugoslavia: unconfirmed."""
    for partner, since in (("UA", date(2003, 4, 1)), ("RS", date(2002, 12, 1))):
        treaty = countries.treaty_between("CZ", partner, date(2026, 1, 1))
        assert treaty.status == "bilateral" and treaty.agreement is not None
        assert treaty.agreement.applies_from == since
        answer = determine(_posting("CZ", partner, "2026-01-01", "2026-06-30"), today=TODAY)
        assert answer["certificate_type"] == "review_required"
        assert answer["rule"] == f"Agreement CZ–{partner}"
    assert countries.bilateral_agreement("CZ", "UA").nationality_limit == ("CZ", "UA")
    assert countries.treaty_between("CZ", "MK").status == "unconfirmed"


def test_czech_list_says_where_the_reading_stopped() -> None:
    """The ČSSZ overview could be read only up to Chile: a partner not stored (Thailand) is a
    review that says so, never "no agreement"."""
    assert not countries.is_complete("CZ")
    answer = determine(_posting("CZ", "TH", "2026-01-01", "2026-06-30"), today=TODAY)
    assert answer["certificate_type"] == "review_required"
    assert "ČSSZ could be read only up to Chile (CL)" in answer["reasons"][-1]


def test_luxembourg_canada_and_quebec_agreements_are_stored() -> None:
    """Canada's proclamation SI/90-73 (in force 1 April 1990) and LegisQuébec R-9, r. 26 (entente
    signed 22 September 1987): the posting rules were not read, so a posting to Canada is a review
    naming the agreement rather than the incomplete-list review."""
    canada = countries.bilateral_agreement("LU", "CA")
    assert canada is not None and canada.applies_from == date(1990, 4, 1)
    assert countries.quebec_agreement("LU") is not None
    answer = determine(_posting("LU", "CA", "2026-01-01", "2026-06-30"), today=TODAY)
    assert answer["certificate_type"] == "review_required"
    assert answer["rule"] == "Agreement LU–CA"


def test_the_five_lists_without_an_official_list_read_in_full_stay_incomplete() -> None:
    """IT, LU, PL, PT and CZ: no official list could be read in full (issue 14); each says why,
    and an unlisted partner (Mongolia for Italy and Portugal, Nepal elsewhere) stays a review."""
    for home, partner in (("IT", "MN"), ("LU", "NP"), ("PL", "NP"), ("PT", "MN"), ("CZ", "NP")):
        assert not countries.is_complete(home), home
        state = countries.catalogue_state(home) or {}
        assert state["incomplete_reason"]["id"].startswith("incomplete."), home
        assert "searched 2026-12-02" in state["comment_incomplete"], home
        answer = determine(_posting(home, partner, "2026-01-01", "2026-06-30"), today=TODAY)
        assert answer["certificate_type"] == "review_required", (home, answer["reasons"])
