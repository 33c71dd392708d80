"""The host states' rules for prior posted-worker declarations, as versioned data with sources
(data/rules.json), and the file-by date they give a trip.

A state is ``required`` (a declaration before the work, for a posting that provides a service,
unless an exemption of its list applies), ``not_required`` or ``unknown``: not sourced, so the
employer checks the state's national posting website. ``unknown`` is never read as "not required".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from web.declarations.public_messages import DOCUMENT_LABELS, EXEMPTION_LABELS

RULES_FILE = Path(__file__).resolve().parent / "data" / "rules.json"

REQUIRED = "required"
NOT_REQUIRED = "not_required"
UNKNOWN = "unknown"
RULE_STATUSES = (REQUIRED, NOT_REQUIRED, UNKNOWN)
CALENDAR = "calendar"
WORKING = "working"  # Monday to Friday: the app knows no public holidays


class RulesDataError(ValueError):
    """rules.json breaks its own format (a test and the app's start catch it)."""


@dataclass(frozen=True)
class Source:
    url: str
    title: str


@dataclass(frozen=True)
class Rule:
    state: str
    status: str
    source: Source
    applies_from: date
    declaration: str = ""
    portal_name: str = ""
    portal_url: str = ""
    lead_days: int = 0
    counting: str = CALENDAR
    deadline: str = ""  # the source's words for the deadline, in English
    exemptions: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    contact_person: bool = False
    receipt_number: bool = False  # the portal issues a number that the filing must carry
    notes: str = ""

    @property
    def required(self) -> bool:
        return self.status == REQUIRED

    def file_by(self, start: date) -> date:
        """The last day to file for work starting on ``start``."""
        return file_by_date(start, self.lead_days, self.counting)

    def as_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "status": self.status,
            "declaration": self.declaration or None,
            "portal": {"name": self.portal_name, "url": self.portal_url}
            if self.portal_url
            else None,
            "lead_time": {"days": self.lead_days, "counting": self.counting, "when": self.deadline}
            if self.required
            else None,
            "exemptions": list(self.exemptions),
            "documents_on_site": list(self.documents),
            "contact_person_required": self.contact_person,
            "receipt_number_issued": self.receipt_number,
            "source": {"url": self.source.url, "title": self.source.title},
            "applies_from": self.applies_from.isoformat(),
            "notes": self.notes or None,
        }


def file_by_date(start: date, lead_days: int, counting: str) -> date:
    """``lead_days`` before ``start``: calendar days, or working days (Monday–Friday) stepping
    over weekends. 0 means on the first day, before the work starts."""
    if counting == CALENDAR:
        return start - timedelta(days=lead_days)
    day, left = start, lead_days
    while left > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: dict[str, Rule]

    def for_state(self, state: str) -> Rule | None:
        return self.rules.get(state)

    @property
    def sourced(self) -> list[Rule]:
        return [r for r in self.rules.values() if r.status != UNKNOWN]

    @property
    def unknown(self) -> list[Rule]:
        return [r for r in self.rules.values() if r.status == UNKNOWN]


def _date(value: object, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RulesDataError(f"{where}: must be a date, YYYY-MM-DD") from None


def parse_rules(document: dict) -> RuleSet:
    """The RuleSet of a rules document; RulesDataError names the first bad entry."""
    fallback = document.get("unknown_source") or {}
    rules: dict[str, Rule] = {}
    for state, entry in sorted((document.get("states") or {}).items()):
        status = entry.get("status")
        if status not in RULE_STATUSES:
            raise RulesDataError(f"{state}: status must be one of {RULE_STATUSES}")
        # An unknown state points to the directive that lets it require a declaration.
        source = fallback if status == UNKNOWN else (entry.get("source") or {})
        dated = fallback if status == UNKNOWN else entry
        if not str(source.get("url", "")).startswith(("https://", "http://")):
            raise RulesDataError(f"{state}: no public source URL")
        if not dated.get("applies_from"):
            raise RulesDataError(f"{state}: no applies_from date")
        applies_from = _date(dated["applies_from"], state)
        if status == UNKNOWN:
            origin = Source(source["url"], source.get("title", ""))
            rules[state] = Rule(state, status, origin, applies_from)
            continue
        lead = entry.get("lead") or {}
        counting = lead.get("counting", CALENDAR)
        if counting not in (CALENDAR, WORKING) or int(lead.get("days", 0)) < 0:
            raise RulesDataError(f"{state}: lead must count calendar or working days, >= 0")
        for code in entry.get("exemptions", []):
            if code not in EXEMPTION_LABELS:
                raise RulesDataError(f"{state}: unknown exemption {code!r}")
        for code in entry.get("documents", []):
            if code not in DOCUMENT_LABELS:
                raise RulesDataError(f"{state}: unknown document {code!r}")
        portal = entry.get("portal") or {}
        if status == REQUIRED and not portal.get("url"):
            raise RulesDataError(f"{state}: a required declaration names its portal")
        rules[state] = Rule(
            state=state,
            status=status,
            source=Source(source["url"], source.get("title", "")),
            applies_from=applies_from,
            declaration=entry.get("declaration", ""),
            portal_name=portal.get("name", ""),
            portal_url=portal.get("url", ""),
            lead_days=int(lead.get("days", 0)),
            counting=counting,
            deadline=lead.get("when", ""),
            exemptions=tuple(entry.get("exemptions", [])),
            documents=tuple(entry.get("documents", [])),
            contact_person=bool(entry.get("contact_person")),
            receipt_number=bool(entry.get("receipt_number")),
            notes=entry.get("notes", ""),
        )
    version = str(document.get("version", ""))
    _date(version, "version")  # the rules' version is the date they were last checked
    return RuleSet(version, rules)


@cache
def load_rules() -> RuleSet:
    return parse_rules(json.loads(RULES_FILE.read_text(encoding="utf-8")))


def rule_for(state: str) -> Rule | None:
    """The host state's rule; None outside the EU, the EEA, Switzerland and the UK."""
    return load_rules().for_state(state)
