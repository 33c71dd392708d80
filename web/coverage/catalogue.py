"""The catalogue of bilateral agreements as a listing: for ``flask coverage catalogue`` and tests.

Each home state with its completeness (and why a list is incomplete), each agreement version with
the dates it applies, its posting rule and its public source. How the catalogue is built:
``docs/agreements.md``.
"""

from __future__ import annotations

from typing import Any

from web.coverage import countries
from web.coverage.messages import english


def catalogue_listing() -> dict[str, Any]:
    states: dict[str, Any] = {}
    for home in sorted(countries.bilateral_home_states()):
        raw = countries.catalogue_state(home) or {}
        entries = []
        for partner, versions in sorted(countries.agreement_versions(home).items()):
            for a in versions:
                entries.append(
                    {
                        "partner": partner,
                        "applies_from": a.applies_from.isoformat() if a.applies_from else None,
                        "applies_until": a.applies_until.isoformat() if a.applies_until else None,
                        "status": a.status,
                        "max_posting_months": a.max_posting_months,
                        "no_fixed_limit": a.no_fixed_limit,
                        "extension": a.extension,
                        "beyond_maximum": a.beyond_maximum or "host_from_start",
                        "employees": a.employees,
                        "self_employed": a.self_employed,
                        "nationality_limit": list(a.nationality_limit or ()) or None,
                        "article": a.article,
                        "source": a.source,
                    }
                )
        reason = raw.get("incomplete_reason")
        states[home] = {
            "complete": raw.get("complete", False),
            "completeness_source": raw.get("completeness_source"),
            "incomplete_reason": english(reason) if reason else None,
            "issuing_institution": raw.get("issuing_institution"),
            "agreements": entries,
            "unconfirmed_partners": sorted(raw.get("unconfirmed_partners", {})),
        }
    return {"version": countries.catalogue_version(), "home_states": states}


def _months(entry: dict[str, Any]) -> str:
    if entry["no_fixed_limit"]:
        return "no fixed limit"
    if entry["max_posting_months"] is None:
        return "max not confirmed"
    ext = entry["extension"] or {}
    extra = {
        "months": f" +{ext.get('months')}",
        "to_completion": " +to completion",
        "indefinite": " +indefinite",
        "none": " no extension",
        "on_application": " +on application",
        "exceptional_only": " +exceptional only",
    }
    return f"{entry['max_posting_months']} months" + extra.get(ext.get("kind"), "")


def catalogue_text(listing: dict[str, Any]) -> str:
    lines = [f"Catalogue of bilateral agreements, version {listing['version']}"]
    for home, state in listing["home_states"].items():
        word = "complete" if state["complete"] else f"incomplete ({state['incomplete_reason']})"
        lines.append("")
        lines.append(f"{home}: {len(state['agreements'])} agreement entries, list {word}")
        lines.append(f"  list source: {state['completeness_source']}")
        for e in state["agreements"]:
            since = f" from {e['applies_from']}" if e["applies_from"] else ""
            until = f" until {e['applies_until']}" if e["applies_until"] else ""
            lines.append(
                f"  {home}–{e['partner']}{since}{until}: {_months(e)}; source: {e['source']}"
            )
        if state["unconfirmed_partners"]:
            lines.append(f"  unconfirmed: {', '.join(state['unconfirmed_partners'])}")
    return "\n".join(lines)
