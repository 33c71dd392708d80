"""The country catalogue: ISO codes, the coordination area, legal bases, bilateral agreements.

Data lives in ``web/coverage/data/`` (JSON, one ``source`` per entry) so that a lawyer can check it
without reading Python:

- ``iso3166.json``: every ISO 3166-1 alpha-2 code with its English name, plus XK (Kosovo).
- ``coordination.json``: EU-27, EEA (IS, LI, NO), CH and GB with their legal bases; the EL/UK
  aliases; territories that are part of a Member State; the telework framework agreement's
  signatories; certificate issuers; home cover where no treaty exists.
- ``bilateral_agreements.json``: the versioned catalogue of agreements per home state with
  partner states outside the coordination area: completeness of each state's list, and per entry
  its public source, the dates it applies, its maximum posting period where confirmed (``null``
  otherwise). How it is built and its sources: ``docs/agreements.md``.

Standard library only: the Flask app, the CLI and the tests import this without an application.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

_DATA = Path(__file__).parent / "data"

Group = Literal["EU", "EEA", "CH", "GB"]
TreatyStatus = Literal["coordination", "bilateral", "unconfirmed", "none", "unknown", "not_yet"]

# 883/2004 reaches the whole EU, the EEA and Switzerland; the UK is coordinated separately (TCA).
COORDINATION_883_GROUPS: frozenset[str] = frozenset({"EU", "EEA", "CH"})


@cache
def _load(name: str) -> dict[str, Any]:
    with (_DATA / name).open(encoding="utf-8") as handle:
        return json.load(handle)


def _iso() -> dict[str, str]:
    return _load("iso3166.json")["countries"]


def _coordination() -> dict[str, Any]:
    return _load("coordination.json")


def _bilateral() -> dict[str, Any]:
    return _load("bilateral_agreements.json")["home_states"]


# --------------------------------------------------------------------------- codes and names


def all_codes() -> frozenset[str]:
    """Every known country code (ISO 3166-1 alpha-2, plus XK)."""
    return frozenset(_iso())


@cache
def _alias_map() -> dict[str, str]:
    return {alias: entry["code"] for alias, entry in _coordination()["aliases"].items()}


def aliases() -> dict[str, str]:
    """Non-ISO codes accepted as input: EL → GR (EU usage), UK → GB."""
    return dict(_alias_map())


def normalise_code(code: object) -> str:
    """The canonical code for ``code`` (any case, EL/UK aliases). ValueError when unknown.

    The message is ready for a field error: "unknown country code 'XX'".
    """
    if not isinstance(code, str):
        raise ValueError("must be a two-letter country code")
    value = code.strip().upper()
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError(f"is not a two-letter country code: {code!r}")
    value = _alias_map().get(value, value)
    if value not in _iso():
        raise ValueError(f"unknown country code {code!r}")
    return value


def is_known(code: object) -> bool:
    try:
        normalise_code(code)
    except ValueError:
        return False
    return True


def country_name(code: str) -> str:
    """English short name, e.g. 'Germany'; the code itself if unknown."""
    return _iso().get(_alias_map().get(code, code), code)


def label(code: str) -> str:
    """'Germany (DE)': how the engine names a state in its sentences."""
    return f"{country_name(code)} ({code})"


# --------------------------------------------------------------------------- coordination area


def member_state_of(code: str) -> str:
    """The Member State a territory belongs to for Reg. 883/2004 (TFEU Art 355), else ``code``."""
    entry = _coordination()["territories"].get(code)
    return entry["state"] if isinstance(entry, dict) else code


def group_of(code: str) -> Group | None:
    """'EU', 'EEA', 'CH' or 'GB' for a state in the coordination area, else None."""
    for name, group in _coordination()["groups"].items():
        if code in group["states"]:
            return name  # type: ignore[return-value]
    return None


def states_in_group(group: Group) -> frozenset[str]:
    return frozenset(_coordination()["groups"][group]["states"])


def legal_basis(code: str) -> str | None:
    """The instrument that coordinates ``code`` with the EU, e.g. 'EEA Agreement (…)'."""
    group = group_of(code)
    return _coordination()["groups"][group]["legal_basis"] if group else None


def group_applies_from(group: Group) -> date:
    return date.fromisoformat(_coordination()["groups"][group]["applies_from"])


def is_coordinated(code: str) -> bool:
    """In the EU, the EEA, Switzerland or the UK (a certificate A1 can exist)."""
    return group_of(code) is not None


def in_883_area(code: str) -> bool:
    """EU, EEA or CH: Regulation 883/2004 applies directly or through an agreement."""
    return group_of(code) in COORDINATION_883_GROUPS


def coordination_gap(states: set[str]) -> str | None:
    """The message id saying why coordinated ``states`` are not linked by an instrument the
    sources confirm, else None.

    The TCA Protocol does not cover IS, LI, NO or CH, and UK–EFTA arrangements were not verified;
    relations between CH and IS/LI/NO run under the EFTA Convention, which is not in the sources
    either.
    """
    groups = {group_of(s) for s in states}
    if "GB" in groups and groups & {"EEA", "CH"}:
        return "scope.uk_efta"  # message ids (web/coverage/messages.py)
    if {"EEA", "CH"} <= groups:
        return "scope.ch_eea"
    return None


def telework_signatories() -> frozenset[str]:
    return frozenset(_coordination()["telework_framework_agreement"]["signatories"])


def telework_framework_from() -> date:
    return date.fromisoformat(_coordination()["telework_framework_agreement"]["applies_from"])


def institution(code: str) -> str:
    """Who issues the A1/CoC for ``code``'s legislation (a sourced name, else a generic one)."""
    entry = _coordination()["institutions"].get(code)
    if isinstance(entry, dict):
        return f"{entry['name']} ({code})"
    return f"the competent institution of {label(code)}"


def home_cover_message(code: str) -> str | None:
    """The message id saying what ``code``'s own law may offer where no agreement applies."""
    entry = _bilateral().get(code) or {}
    cover = entry.get("no_treaty_cover")
    return cover["message"] if isinstance(cover, dict) else None


# --------------------------------------------------------------------------- bilateral agreements


@dataclass(frozen=True)
class Agreement:
    """One bilateral agreement (one version of it) as stored in ``bilateral_agreements.json``."""

    home: str
    partner: str
    status: str
    max_posting_months: int | None
    no_fixed_limit: bool
    extension: dict[str, Any] | None
    beyond_maximum: str | None
    beyond_maximum_source: str | None
    detached_worker_rule: bool | None
    # Shown to the reader: message ids with parameters (web/coverage/messages.py), never prose.
    scope: dict[str, Any] | None
    nationality_limit: tuple[str, ...] | None
    note: dict[str, Any] | None
    source: str
    applies_from: date | None = None
    applies_until: date | None = None
    employees: bool | None = True
    self_employed: bool | None = None
    article: str | None = None

    @property
    def name(self) -> str:
        return f"{country_name(self.home)}–{country_name(self.partner)} social security agreement"

    @property
    def citation(self) -> str:
        """How the agreement is cited in a rule: 'Agreement FR–US (Art 6(2))'."""
        pair = f"{self.home}–{self.partner}"
        return f"Agreement {pair}, {self.article}" if self.article else f"Agreement {pair}"

    def in_force_on(self, day: date | None) -> bool:
        if day is None:
            return True
        if self.applies_from is not None and day < self.applies_from:
            return False
        return not (self.applies_until is not None and day > self.applies_until)


@dataclass(frozen=True)
class Treaty:
    """What links a home state and a destination.

    status: ``coordination`` (EU/EEA/CH/UK instrument), ``bilateral`` (an agreement is stored),
    ``unconfirmed`` (the sources name the partner without confirming the agreement),
    ``none`` (the home state's stored list is complete and the partner is not on it),
    ``unknown`` (no complete list covers the pair: the catalogue cannot say),
    ``not_yet`` (an agreement is stored but did not apply on the trip's first day).
    """

    status: TreatyStatus
    agreement: Agreement | None = None
    # A message id (coordination gap), a message with parameters (catalogue), or an ISO date.
    note: str | dict[str, Any] | None = None
    source: str | None = None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _agreement(home: str, partner: str, raw: dict[str, Any]) -> Agreement:
    limit = raw.get("nationality_limit")
    state = _bilateral()[home]
    own = raw.get("beyond_maximum")
    return Agreement(
        home=home,
        partner=partner,
        status=raw["status"],
        max_posting_months=raw["max_posting_months"],
        no_fixed_limit=raw["no_fixed_limit"],
        extension=raw["extension"],
        beyond_maximum=own or state.get("beyond_maximum"),
        beyond_maximum_source=None if own else state.get("beyond_maximum_source"),
        detached_worker_rule=raw["detached_worker_rule"],
        scope=raw["scope"],
        nationality_limit=tuple(limit) if limit else None,
        note=raw["note"],
        source=raw["source"],
        applies_from=_day(raw.get("applies_from")),
        applies_until=_day(raw.get("applies_until")),
        employees=raw.get("employees", True),
        self_employed=raw.get("self_employed"),
        article=raw.get("article"),
    )


def _versions(home: str, partner: str, raw: Any) -> list[Agreement]:
    items = raw if isinstance(raw, list) else [raw]
    return [_agreement(home, partner, item) for item in items]


def catalogue_version() -> str:
    """The catalogue's version (the date of its last review)."""
    return str(_load("bilateral_agreements.json")["version"])


def bilateral_home_states() -> frozenset[str]:
    return frozenset(_bilateral())


def catalogue_state(home: str) -> dict[str, Any] | None:
    """The raw catalogue entry of ``home`` (completeness, sources), or None."""
    return _bilateral().get(home)


def is_complete(home: str) -> bool:
    entry = _bilateral().get(home)
    return bool(entry and entry["complete"])


def agreement_versions(home: str) -> dict[str, list[Agreement]]:
    """Every stored version of every agreement of ``home``, by partner code."""
    entry = _bilateral().get(home)
    if not entry:
        return {}
    return {p: _versions(home, p, raw) for p, raw in entry["agreements"].items()}


def agreements_of(home: str, on: date | None = None) -> dict[str, Agreement]:
    """The stored agreements of ``home`` by partner code, the version in force ``on`` (default:
    the latest version); empty when none are stored."""
    found: dict[str, Agreement] = {}
    for partner, versions in agreement_versions(home).items():
        chosen = _pick(versions, on)
        if chosen is not None:
            found[partner] = chosen
    return found


def _pick(versions: list[Agreement], on: date | None) -> Agreement | None:
    if on is None:
        return versions[-1]
    return next((v for v in versions if v.in_force_on(on)), None)


def bilateral_agreement(home: str, partner: str, on: date | None = None) -> Agreement | None:
    """The stored agreement between ``home`` and ``partner`` (looked up from either side), in
    the version in force ``on`` (default: the latest)."""
    for a, b in ((home, partner), (partner, home)):
        entry = _bilateral().get(a)
        if entry and b in entry["agreements"]:
            return _pick(_versions(a, b, entry["agreements"][b]), on)
    return None


def quebec_agreement(home: str) -> Agreement | None:
    """The separate understanding with Quebec (CA-QC), if stored for ``home``."""
    return agreements_of(home).get("CA-QC")


def treaty_between(home: str, destination: str, on: date | None = None) -> Treaty:
    """Which instrument, if any, links ``home`` and ``destination`` on the day ``on``
    (see :class:`Treaty`)."""
    home, destination = member_state_of(home), member_state_of(destination)
    if is_coordinated(home) and is_coordinated(destination):
        gap = coordination_gap({home, destination})
        return Treaty("unknown", note=gap) if gap else Treaty("coordination")
    latest = bilateral_agreement(home, destination)
    if latest is not None:
        found = bilateral_agreement(home, destination, on)
        if found is None:
            first = min(
                (
                    v.applies_from
                    for v in agreement_versions(latest.home)[latest.partner]
                    if v.applies_from
                ),
                default=None,
            )
            return Treaty("not_yet", agreement=latest, note=first.isoformat() if first else None)
        return Treaty("bilateral", agreement=found, source=found.source)
    for a, b in ((home, destination), (destination, home)):
        entry = _bilateral().get(a)
        if entry and b in entry["unconfirmed_partners"]:
            raw = entry["unconfirmed_partners"][b]
            return Treaty("unconfirmed", note=raw["note"], source=raw["source"])
    for a in (home, destination):
        entry = _bilateral().get(a)
        if entry and entry["complete"]:
            return Treaty("none", source=entry["completeness_source"])
    entry = _bilateral().get(home)
    if entry:
        return Treaty(
            "unknown", note=entry.get("incomplete_reason"), source=entry["completeness_source"]
        )
    return Treaty("unknown")
