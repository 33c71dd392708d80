"""The country catalogue, the bilateral-agreement data file and provider categories."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from web.coverage import countries, provider_category
from web.coverage.validation import CaseError

DATA = Path(__file__).resolve().parents[1] / "web" / "coverage" / "data"
DEMO_HOME_STATES = {"DE", "FR", "BE", "LU", "NL", "AT", "IT", "ES", "PL"}
EXTENSION_KINDS = {
    "months",
    "to_completion",
    "indefinite",
    "none",
    "on_application",
    "exceptional_only",
}


# --------------------------------------------------------------------------- codes and names


def test_every_iso_code_is_known_with_an_english_name() -> None:
    codes = countries.all_codes()
    assert len(codes) == 250  # 249 ISO 3166-1 alpha-2 codes + XK (Kosovo)
    assert countries.country_name("DE") == "Germany"
    assert countries.country_name("US") == "United States"
    assert countries.country_name("XK") == "Kosovo"
    assert countries.country_name("TH") == "Thailand"


def test_us_is_a_known_country_but_xx_is_not() -> None:
    assert countries.normalise_code("US") == "US"
    assert countries.is_known("US")
    assert not countries.is_known("XX")
    with pytest.raises(ValueError, match="unknown country code 'XX'"):
        countries.normalise_code("XX")


@pytest.mark.parametrize("bad", ["", "D", "DEU", "1A", "Ü1", None, 49])
def test_malformed_codes_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError):
        countries.normalise_code(bad)


def test_greece_gr_and_el_are_one_state() -> None:
    assert countries.normalise_code("GR") == "GR"
    assert countries.normalise_code("EL") == "GR"
    assert countries.normalise_code("el") == "GR"
    assert countries.group_of("GR") == "EU"
    assert countries.country_name("EL") == "Greece"


def test_uk_alias_is_the_united_kingdom() -> None:
    assert countries.normalise_code("UK") == "GB"


def test_lower_case_and_spaces_are_normalised() -> None:
    assert countries.normalise_code(" de ") == "DE"


# --------------------------------------------------------------------------- coordination area


def test_groups_and_their_legal_bases() -> None:
    eu = countries.states_in_group("EU")
    assert len(eu) == 27
    assert {"DE", "FR", "GR", "DK", "HR", "CY", "MT"} <= eu
    assert countries.states_in_group("EEA") == {"IS", "LI", "NO"}
    assert countries.states_in_group("CH") == {"CH"}
    assert countries.states_in_group("GB") == {"GB"}
    assert "883/2004" in (countries.legal_basis("FR") or "")
    assert "EEA Agreement" in (countries.legal_basis("NO") or "")
    assert "Switzerland" in (countries.legal_basis("CH") or "")
    assert "Trade and Cooperation Agreement" in (countries.legal_basis("GB") or "")
    assert "Withdrawal Agreement" in (countries.legal_basis("GB") or "")
    assert countries.legal_basis("US") is None
    assert countries.group_of("US") is None


def test_outermost_regions_belong_to_their_member_state() -> None:
    assert countries.member_state_of("RE") == "FR"
    assert countries.member_state_of("AX") == "FI"
    assert countries.member_state_of("DE") == "DE"


def test_telework_framework_signatories_exclude_italy() -> None:
    signatories = countries.telework_signatories()
    assert {"DE", "FR", "BE", "LU", "NL", "AT", "CH", "NO", "LI"} <= signatories
    assert "IT" not in signatories
    assert "GB" not in signatories


# --------------------------------------------------------------------------- the data files


def _bilateral_raw() -> dict:
    return json.loads((DATA / "bilateral_agreements.json").read_text(encoding="utf-8"))


def test_bilateral_file_covers_the_demo_home_states() -> None:
    assert set(_bilateral_raw()["home_states"]) >= DEMO_HOME_STATES


def test_every_bilateral_entry_is_well_formed_and_sourced() -> None:
    keys = {
        "status",
        "max_posting_months",
        "no_fixed_limit",
        "extension",
        "beyond_maximum",
        "detached_worker_rule",
        "scope",
        "nationality_limit",
        "note",
        "comment",
        "source",
        "applies_from",
        "applies_until",
        "employees",
        "self_employed",
        "article",
    }
    for home, entry in _bilateral_raw()["home_states"].items():
        assert countries.group_of(home) in ("EU", "CH", "GB"), home
        assert isinstance(entry["complete"], bool)
        assert entry["completeness_source"], home
        assert entry["complete"] or entry["incomplete_reason"], home
        for partner, versions in entry["agreements"].items():
            for raw in versions if isinstance(versions, list) else [versions]:
                where = f"{home}-{partner}"
                assert set(raw) == keys, where
                assert partner == "CA-QC" or countries.is_known(partner), where
                assert (
                    partner == "CA-QC" or not countries.is_coordinated(partner) or partner == "CH"
                )
                assert raw["source"].strip(), where
                months = raw["max_posting_months"]
                # Spain–China and Canada–China allow six years (72 months).
                assert months is None or (isinstance(months, int) and 0 < months <= 72), where
                assert not (raw["no_fixed_limit"] and months is not None), where
                ext = raw["extension"]
                assert ext is None or ext["kind"] in EXTENSION_KINDS, where
                if ext and ext["kind"] == "months":
                    assert isinstance(ext["months"], int), where
                assert raw["status"] in {"in_force", "partly_suspended"}, where
                assert raw["beyond_maximum"] in {None, "host_from_start", "home_then_host"}, where
                for nat in raw["nationality_limit"] or ():
                    assert nat == "EU" or countries.is_known(nat), where
        for partner, raw in entry["unconfirmed_partners"].items():
            assert raw["source"] and raw["note"], f"{home}-{partner}"


def test_sourced_maximum_periods() -> None:
    assert countries.bilateral_agreement("DE", "US").max_posting_months == 60
    assert countries.bilateral_agreement("DE", "KR").max_posting_months == 24
    assert countries.bilateral_agreement("DE", "JP").max_posting_months == 60
    assert countries.bilateral_agreement("FR", "US").max_posting_months == 60
    assert countries.bilateral_agreement("FR", "IN").max_posting_months == 60
    assert countries.bilateral_agreement("FR", "CM").max_posting_months == 6
    assert countries.bilateral_agreement("NL", "CN").max_posting_months == 60
    assert countries.bilateral_agreement("AT", "AU").max_posting_months == 60
    # Unconfirmed periods stay null, never invented.
    assert countries.bilateral_agreement("BE", "JP").max_posting_months is None
    assert countries.bilateral_agreement("ES", "RU").max_posting_months is None
    assert countries.bilateral_agreement("LU", "BR").max_posting_months is None


def test_every_us_agreement_except_italy_has_five_years() -> None:
    for home in ["AT", "BE", "FR", "DE", "LU", "NL", "ES"]:
        agreement = countries.bilateral_agreement(home, "US")
        assert agreement is not None and agreement.max_posting_months == 60, home
        assert agreement.beyond_maximum == "host_from_start", home
    assert countries.bilateral_agreement("IT", "US").detached_worker_rule is False


def test_agreements_are_found_from_either_side() -> None:
    assert countries.bilateral_agreement("US", "DE") == countries.bilateral_agreement("DE", "US")


def test_treaty_between() -> None:
    assert countries.treaty_between("DE", "FR").status == "coordination"
    assert countries.treaty_between("DE", "GB").status == "coordination"
    assert countries.treaty_between("DE", "US").status == "bilateral"
    assert countries.treaty_between("DE", "TH").status == "none"  # German list is complete
    assert countries.treaty_between("FR", "TH").status == "none"  # French list is complete
    assert countries.treaty_between("LU", "TH").status == "unknown"  # Luxembourg's is partial
    assert countries.treaty_between("AT", "JP").status == "unconfirmed"
    assert countries.treaty_between("PL", "TH").status == "unknown"
    assert countries.treaty_between("GB", "CH").status == "unknown"  # TCA does not cover CH
    assert countries.treaty_between("RE", "DE").status == "coordination"


def test_coverage_package_imports_only_the_standard_library() -> None:
    # web.vocabulary holds the domain's words and imports only the standard library (checked below).
    allowed_prefixes = ("web.coverage", "web.vocabulary", "__future__")
    stdlib = {
        "calendar",
        "collections",
        "dataclasses",
        "datetime",
        "enum",
        "functools",
        "json",
        "math",
        "pathlib",
        "re",
        "typing",
    }
    package = DATA.parent
    vocabulary = package.parent / "vocabulary.py"
    # explain.py is the Flask adapter that renders messages in the request's language.
    for path in [*(p for p in package.glob("*.py") if p.name != "explain.py"), vocabulary]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.startswith(allowed_prefixes) or name.split(".")[0] in stdlib, (
                    f"{path.name} imports {name}"
                )


# --------------------------------------------------------------------------- provider categories


def test_provider_category_official_when_the_provider_files_in_the_issuing_state() -> None:
    assert provider_category("DE", "FR", ["DE", "AT"]) == "official"
    assert provider_category("DE", "US", {"DE"}) == "official"


def test_provider_category_provisional_when_the_provider_cannot_file() -> None:
    assert provider_category("DE", "FR", ["FR"]) == "provisional"
    assert provider_category("DE", "US", []) == "provisional"


def test_provider_category_no_treaty() -> None:
    assert provider_category("DE", "TH", ["DE"]) == "no_treaty"
    assert provider_category("AT", "SG", ["AT"]) == "no_treaty"


def test_provider_files_in_the_issuing_state_not_the_destination() -> None:
    # Multi-state work: the certificate comes from the state whose legislation applies.
    assert provider_category("LU", "BE", ["LU"], issuing_state="BE") == "provisional"
    assert provider_category("LU", "BE", ["BE"], issuing_state="BE") == "official"


def test_provider_category_never_official_on_an_unconfirmed_treaty() -> None:
    assert provider_category("AT", "JP", ["AT"]) == "provisional"
    assert provider_category("PL", "TH", ["PL"]) == "provisional"


def test_provider_category_accepts_el_and_rejects_unknown_codes() -> None:
    assert provider_category("EL", "DE", ["GR"]) == "official"
    with pytest.raises(CaseError) as info:
        provider_category("XX", "DE", [])
    assert info.value.errors == {"home_state": "unknown country code 'XX'"}
    with pytest.raises(CaseError) as info:
        provider_category("DE", "FR", ["DE", "ZZ"])
    assert "provider_filing_states[1]" in info.value.errors
