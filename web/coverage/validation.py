"""Checking and normalising a determination case before any rule runs.

A bad case is never guessed at: :func:`validate_case` raises :class:`CaseError` naming every bad
field at once (field path → plain-English message), e.g.::

    {"work_split_pct": "percentages add up to 90, not 100",
     "trip.end_date": "is before the start date",
     "home_state": "unknown country code 'XX'"}

The normalised case has every known field (``None`` where not given), upper-case canonical
country codes (EL → GR, UK → GB; a territory that is part of a Member State, such as Réunion, is
replaced by that state), ``datetime.date`` dates, and percentage maps merged by canonical code.

Fields (legal-rules.md §9 and issue 8):

- always required: ``home_state``, ``residence_state``, ``employment_status``
  (``employed`` | ``self_employed`` | ``employed_and_self_employed``);
- ``trip``: ``{kind, destination, start_date, end_date}``; ``kind`` is ``posting`` or
  ``regular_multi_state``. A posting needs all four. Without a ``trip`` the case describes the
  regular pattern of work and is assessed as ``regular_multi_state``.
- regular multi-state work needs ``work_split_pct`` (employed and self-employed persons) or
  ``employed_work_split_pct`` (persons both employed and self-employed), and, when employed,
  ``employer_seats`` (a list of ``{country, share_of_working_time_pct}``; the share is optional).
- every percentage map (``{state: percent}``) must add up to 100, within one point for rounding;
  ``employed_work_split_pct`` and ``self_employed_work_split_pct`` each describe that activity
  alone, so each adds up to 100 too.
- ``previous_posting``: ``{destination, end_date, start_date?, same_employer?}`` (``same_employer``
  defaults to true: the Practical Guide's gap rule concerns the same undertakings).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from web.coverage import countries

EMPLOYMENT_STATUSES = ("employed", "self_employed", "employed_and_self_employed")
TRIP_KINDS = ("posting", "regular_multi_state")
ART16_AGREEMENTS = ("none", "requested", "granted")
# Rounding: three thirds written as 33 % each must still pass (CCSS example 1 adds up to 99).
PERCENT_TOLERANCE = 1

_SPLIT_FIELDS = (
    "work_split_pct",
    "remuneration_split_pct",
    "employed_work_split_pct",
    "self_employed_work_split_pct",
)
_FLAG_FIELDS = (
    "replacing_posted_worker",
    "employer_substantial_activity_in_home_state",
    "recruited_for_posting",
    "similar_activity",
    "art16_request",
)
_KNOWN_FIELDS = frozenset(
    {
        "home_state",
        "residence_state",
        "employment_status",
        "employer_seats",
        *_SPLIT_FIELDS,
        "trip",
        "prior_insurance_months",
        *_FLAG_FIELDS,
        "self_employed_activity_months",
        "telework_pct_in_residence",
        "art16_agreement",
        "nationality",
        "previous_posting",
    }
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)


class CaseError(ValueError):
    """A case that cannot be determined as given; ``errors`` maps field path → message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


def _fmt(value: float) -> str:
    """90.0 → '90', 33.333 → '33.33': how a number reads in a message."""
    rounded = round(value, 2)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:g}"


class _Checker:
    """Collects every error of one case instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.notes: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    # -- scalars ---------------------------------------------------------------------------

    def state(self, path: str, value: Any, *, required: bool) -> str | None:
        if value is None:
            if required:
                self.fail(path, "is required")
            return None
        try:
            code = countries.normalise_code(value)
        except ValueError as exc:
            self.fail(path, str(exc))
            return None
        if isinstance(value, str) and value.strip().upper() != code:
            self.notes.append(f"{path}: {value.strip().upper()} is read as {code}.")
        state = countries.member_state_of(code)
        if state != code:
            self.notes.append(
                f"{path}: {countries.label(code)} is part of {countries.label(state)} for EU "
                f"social security coordination (TFEU Art 355) and is treated as {state}."
            )
        return state

    def number(
        self, path: str, value: Any, *, low: float = 0, high: float | None = None
    ) -> float | None:
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.fail(path, "must be a number")
            return None
        if value < low or (high is not None and value > high):
            bound = (
                f"between {_fmt(low)} and {_fmt(high)}"
                if high is not None
                else f"at least {_fmt(low)}"
            )
            self.fail(path, f"must be {bound}")
            return None
        return value

    def flag(self, path: str, value: Any) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        self.fail(path, "must be true, false or null")
        return None

    def choice(
        self, path: str, value: Any, options: tuple[str, ...], *, required: bool
    ) -> str | None:
        if value is None:
            if required:
                self.fail(path, "is required")
            return None
        if not isinstance(value, str) or value not in options:
            self.fail(path, f"must be one of {', '.join(options)}")
            return None
        return value

    def day(self, path: str, value: Any, *, required: bool) -> date | None:
        if value is None:
            if required:
                self.fail(path, "is required")
            return None
        day: date | None = None
        if isinstance(value, date) and not hasattr(value, "hour"):
            day = value
        elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                day = None
        if day is None:
            self.fail(path, "must be a date in the form YYYY-MM-DD")
            return None
        # Periods are computed years ahead (a 24-month posting, a 5-year agreement): a date near
        # the end of the calendar would overflow it, and no real trip is dated there.
        if not MIN_DATE <= day <= MAX_DATE:
            self.fail(path, f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}")
            return None
        return day

    # -- structures ------------------------------------------------------------------------

    def split(self, path: str, value: Any, *, required: bool) -> dict[str, float] | None:
        """A ``{state: percent}`` map adding up to 100 (±1), merged by canonical code."""
        if value is None:
            if required:
                self.fail(path, "is required")
            return None
        if not isinstance(value, Mapping):
            self.fail(path, "must be an object of {country code: percent}")
            return None
        if not value:
            self.fail(path, "must name at least one country")
            return None
        merged: dict[str, float] = {}
        ok = True
        for raw_key, raw_pct in value.items():
            state = self.state(f"{path}.{raw_key}", raw_key, required=True)
            pct = self.number(f"{path}.{raw_key}", raw_pct, high=100)
            if raw_pct is None:
                self.fail(f"{path}.{raw_key}", "must be a number")
            if state is None or pct is None:
                ok = False
                continue
            if state in merged:
                self.notes.append(
                    f"{path}: two entries for {countries.label(state)} are added together."
                )
            merged[state] = merged.get(state, 0) + pct
        if not ok:
            return None
        total = math.fsum(merged.values())
        if abs(total - 100) > PERCENT_TOLERANCE + 1e-9:
            self.fail(path, f"percentages add up to {_fmt(total)}, not 100")
            return None
        return merged

    def seats(self, path: str, value: Any, *, required: bool) -> list[dict[str, Any]] | None:
        if value is None or value == []:
            if required:
                self.fail(path, "is required: name the registered office of each employer")
            return [] if value == [] else None
        if not isinstance(value, list):
            self.fail(path, "must be a list of {country, share_of_working_time_pct}")
            return None
        seats: list[dict[str, Any]] = []
        ok = True
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            if not isinstance(item, Mapping):
                self.fail(where, "must be an object {country, share_of_working_time_pct}")
                ok = False
                continue
            country = self.state(f"{where}.country", item.get("country"), required=True)
            share = self.number(
                f"{where}.share_of_working_time_pct",
                item.get("share_of_working_time_pct"),
                high=100,
            )
            if country is None or (
                share is None and item.get("share_of_working_time_pct") is not None
            ):
                ok = False
                continue
            seats.append({"country": country, "share_of_working_time_pct": share})
        if not ok:
            return None
        shares = [s["share_of_working_time_pct"] for s in seats]
        if shares and all(s is not None for s in shares):
            total = math.fsum(shares)
            if abs(total - 100) > PERCENT_TOLERANCE + 1e-9:
                self.fail(path, f"shares of working time add up to {_fmt(total)}, not 100")
                return None
        return seats

    def nationality(self, path: str, value: Any) -> list[str] | None:
        if value is None:
            return None
        values = value if isinstance(value, list) else [value]
        if not values:
            return None
        found = [
            self.state(f"{path}[{i}]" if isinstance(value, list) else path, v, required=True)
            for i, v in enumerate(values)
        ]
        return None if None in found else [f for f in found if f is not None]


def validate_case(case: Any) -> dict[str, Any]:
    """The case, checked and normalised; :class:`CaseError` naming every bad field otherwise."""
    if not isinstance(case, Mapping):
        raise CaseError({"case": "must be a JSON object"})
    check = _Checker()
    out: dict[str, Any] = {}

    out["home_state"] = check.state("home_state", case.get("home_state"), required=True)
    out["residence_state"] = check.state(
        "residence_state", case.get("residence_state"), required=True
    )
    status = check.choice(
        "employment_status", case.get("employment_status"), EMPLOYMENT_STATUSES, required=True
    )
    out["employment_status"] = status

    trip = _trip(check, case.get("trip"))
    out["trip"] = trip
    # A trip that failed its own checks decides nothing else: no follow-on "is required" errors.
    multi_state = (case.get("trip") is None) or (
        trip is not None and trip["kind"] == "regular_multi_state"
    )

    out["work_split_pct"] = check.split(
        "work_split_pct",
        case.get("work_split_pct"),
        required=multi_state and status in ("employed", "self_employed"),
    )
    out["remuneration_split_pct"] = check.split(
        "remuneration_split_pct", case.get("remuneration_split_pct"), required=False
    )
    out["employed_work_split_pct"] = check.split(
        "employed_work_split_pct",
        case.get("employed_work_split_pct"),
        required=multi_state and status == "employed_and_self_employed",
    )
    out["self_employed_work_split_pct"] = check.split(
        "self_employed_work_split_pct", case.get("self_employed_work_split_pct"), required=False
    )
    out["employer_seats"] = check.seats(
        "employer_seats",
        case.get("employer_seats"),
        required=multi_state and status in ("employed", "employed_and_self_employed"),
    )

    out["prior_insurance_months"] = check.number(
        "prior_insurance_months", case.get("prior_insurance_months")
    )
    out["self_employed_activity_months"] = check.number(
        "self_employed_activity_months", case.get("self_employed_activity_months")
    )
    out["telework_pct_in_residence"] = check.number(
        "telework_pct_in_residence", case.get("telework_pct_in_residence"), high=100
    )
    for name in _FLAG_FIELDS:
        out[name] = check.flag(name, case.get(name))
    out["art16_agreement"] = (
        check.choice(
            "art16_agreement", case.get("art16_agreement"), ART16_AGREEMENTS, required=False
        )
        or "none"
    )
    out["nationality"] = check.nationality("nationality", case.get("nationality"))
    out["previous_posting"] = _previous_posting(check, case.get("previous_posting"))

    if (
        trip is not None
        and trip["kind"] == "posting"
        and trip["destination"] is not None
        and trip["destination"] == out["home_state"]
    ):
        check.fail("trip.destination", "is the home state; a posting goes to another state")

    unknown = sorted(str(k) for k in case if k not in _KNOWN_FIELDS)
    if unknown:
        check.notes.append(f"Ignored unknown field(s): {', '.join(unknown)}.")

    if check.errors:
        raise CaseError(check.errors)
    out["notes"] = check.notes
    return out


def _trip(check: _Checker, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        check.fail("trip", "must be an object {kind, destination, start_date, end_date}")
        return None
    kind = check.choice("trip.kind", value.get("kind"), TRIP_KINDS, required=True)
    posting = kind == "posting"
    destination = check.state("trip.destination", value.get("destination"), required=posting)
    # A posting needs its dates; a regular pattern may be given without them, but not half of them.
    both_or_none = value.get("start_date") is not None or value.get("end_date") is not None
    start = check.day("trip.start_date", value.get("start_date"), required=posting or both_or_none)
    end = check.day("trip.end_date", value.get("end_date"), required=posting or both_or_none)
    if start and end and end < start:
        check.fail("trip.end_date", "is before the start date")
    if kind is None:
        return None
    return {"kind": kind, "destination": destination, "start_date": start, "end_date": end}


def _previous_posting(check: _Checker, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        check.fail("previous_posting", "must be an object {destination, start_date, end_date}")
        return None
    destination = check.state(
        "previous_posting.destination", value.get("destination"), required=True
    )
    start = check.day("previous_posting.start_date", value.get("start_date"), required=False)
    end = check.day("previous_posting.end_date", value.get("end_date"), required=True)
    if start and end and end < start:
        check.fail("previous_posting.end_date", "is before the start date")
    same = check.flag("previous_posting.same_employer", value.get("same_employer"))
    return {
        "destination": destination,
        "start_date": start,
        "end_date": end,
        "same_employer": True if same is None else same,
    }
