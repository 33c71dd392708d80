"""Checking and normalising a determination case before any rule runs.

A bad case is never guessed at: :func:`validate_case` raises :class:`CaseError` naming every bad
field at once (field path → plain-English message), e.g.::

    {"work_split_pct": "percentages add up to 90, not 100",
     "trip.end_date": "is before the start date",
     "home_state": "unknown country code 'XX'"}

The normalised case has every known field (``None`` where not given), upper-case canonical
country codes (EL → GR, UK → GB; a territory that is part of a Member State, such as Réunion, is
replaced by that state), ``datetime.date`` dates, and percentage maps merged by canonical code.

Fields:

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
from web.coverage.messages import Message, english, msg
from web.vocabulary import Art16Agreement, EmploymentStatus, TripKind

EMPLOYMENT_STATUSES = tuple(EmploymentStatus.values())
TRIP_KINDS = tuple(TripKind.values())
ART16_AGREEMENTS = tuple(Art16Agreement.values())
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
        "previous_legislation_state",
        "fixed_place_of_business",
    }
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)


class CaseError(ValueError):
    """A case that cannot be determined as given.

    ``errors`` maps field path → English message; ``messages`` maps the same paths to message ids
    with parameters, for a reply in the reader's language (web/coverage/explain.py).
    """

    def __init__(self, errors: Mapping[str, str | Message]) -> None:
        self.messages: dict[str, Message | str] = dict(errors)
        self.errors: dict[str, str] = {f: english(m) for f, m in self.messages.items()}
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


def _fmt(value: float) -> str:
    """90.0 → '90', 33.333 → '33.33': how a number reads in a message."""
    rounded = round(value, 2)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:g}"


class _Checker:
    """Collects every error of one case instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: dict[str, Message] = {}
        self.notes: list[Message] = []

    def fail(self, path: str, message_id: str, **params: Any) -> None:
        self.errors.setdefault(path, msg(message_id, **params))

    # -- scalars ---------------------------------------------------------------------------

    def state(self, path: str, value: Any, *, required: bool) -> str | None:
        if value is None:
            if required:
                self.fail(path, "field.required")
            return None
        try:
            code = countries.normalise_code(value)
        except ValueError:
            if not isinstance(value, str):
                self.fail(path, "field.country_not_text")
            elif len(value.strip()) != 2 or not value.strip().isalpha():
                self.fail(path, "field.country_format", value=repr(value)[:40])
            else:
                self.fail(path, "field.country_unknown", value=repr(value))
            return None
        if isinstance(value, str) and value.strip().upper() != code:
            self.notes.append(
                msg("notes.alias", field=path, given=value.strip().upper(), code=code)
            )
        state = countries.member_state_of(code)
        if state != code:
            self.notes.append(
                msg(
                    "notes.territory",
                    field=path,
                    territory_state=code,
                    member_state=state,
                    code=state,
                )
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
            self.fail(path, "field.number")
            return None
        if value < low or (high is not None and value > high):
            if high is not None:
                self.fail(path, "field.between", low=_fmt(low), high=_fmt(high))
            else:
                self.fail(path, "field.at_least", low=_fmt(low))
            return None
        return value

    def flag(self, path: str, value: Any) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        self.fail(path, "field.flag")
        return None

    def choice(
        self, path: str, value: Any, options: tuple[str, ...], *, required: bool
    ) -> str | None:
        if value is None:
            if required:
                self.fail(path, "field.required")
            return None
        if not isinstance(value, str) or value not in options:
            self.fail(path, "field.choice", options=", ".join(options))
            return None
        return value

    def day(self, path: str, value: Any, *, required: bool) -> date | None:
        if value is None:
            if required:
                self.fail(path, "field.required")
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
            self.fail(path, "field.date_format")
            return None
        # Periods are computed years ahead (a 24-month posting, a 5-year agreement): a date near
        # the end of the calendar would overflow it, and no real trip is dated there.
        if not MIN_DATE <= day <= MAX_DATE:
            self.fail(path, "field.date_range", low=MIN_DATE.isoformat(), high=MAX_DATE.isoformat())
            return None
        return day

    # -- structures ------------------------------------------------------------------------

    def split(self, path: str, value: Any, *, required: bool) -> dict[str, float] | None:
        """A ``{state: percent}`` map adding up to 100 (±1), merged by canonical code."""
        if value is None:
            if required:
                self.fail(path, "field.required")
            return None
        if not isinstance(value, Mapping):
            self.fail(path, "field.split_object")
            return None
        if not value:
            self.fail(path, "field.split_empty")
            return None
        merged: dict[str, float] = {}
        ok = True
        for raw_key, raw_pct in value.items():
            state = self.state(f"{path}.{raw_key}", raw_key, required=True)
            pct = self.number(f"{path}.{raw_key}", raw_pct, high=100)
            if raw_pct is None:
                self.fail(f"{path}.{raw_key}", "field.number")
            if state is None or pct is None:
                ok = False
                continue
            if state in merged:
                self.notes.append(msg("notes.merged", field=path, merged_state=state))
            merged[state] = merged.get(state, 0) + pct
        if not ok:
            return None
        total = math.fsum(merged.values())
        if abs(total - 100) > PERCENT_TOLERANCE + 1e-9:
            self.fail(path, "field.split_total", total=_fmt(total))
            return None
        return merged

    def seats(self, path: str, value: Any, *, required: bool) -> list[dict[str, Any]] | None:
        if value is None or value == []:
            if required:
                self.fail(path, "field.seats_required")
            return [] if value == [] else None
        if not isinstance(value, list):
            self.fail(path, "field.seats_list")
            return None
        seats: list[dict[str, Any]] = []
        ok = True
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            if not isinstance(item, Mapping):
                self.fail(where, "field.seat_object")
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
                self.fail(path, "field.seats_total", total=_fmt(total))
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
        raise CaseError({"case": msg("field.case_object")})
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
        check.fail("trip.destination", "field.home_destination")

    out["previous_legislation_state"] = check.state(
        "previous_legislation_state", case.get("previous_legislation_state"), required=False
    )
    out["fixed_place_of_business"] = _fixed_place(check, case, out)

    unknown = sorted(str(k) for k in case if k not in _KNOWN_FIELDS)
    if unknown:
        check.notes.append(msg("notes.ignored_fields", fields=", ".join(unknown)))

    if check.errors:
        raise CaseError(check.errors)
    out["notes"] = check.notes
    return out


def _trip(check: _Checker, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        check.fail("trip", "field.trip_object")
        return None
    kind = check.choice("trip.kind", value.get("kind"), TRIP_KINDS, required=True)
    posting = kind == "posting"
    destination = check.state("trip.destination", value.get("destination"), required=posting)
    # A posting needs its dates; a regular pattern may be given without them, but not half of them.
    both_or_none = value.get("start_date") is not None or value.get("end_date") is not None
    start = check.day("trip.start_date", value.get("start_date"), required=posting or both_or_none)
    end = check.day("trip.end_date", value.get("end_date"), required=posting or both_or_none)
    if start and end and end < start:
        check.fail("trip.end_date", "field.before_start")
    original = check.day("trip.original_end_date", value.get("original_end_date"), required=False)
    if original is not None:
        if kind is not None and not posting:
            check.fail("trip.original_end_date", "field.original_kind")
        elif start and original < start:
            check.fail("trip.original_end_date", "field.original_before_start")
        elif end and original > end:
            check.fail("trip.original_end_date", "field.original_after_end")
    if kind is None:
        return None
    return {
        "kind": kind,
        "destination": destination,
        "start_date": start,
        "end_date": end,
        "original_end_date": original
        if original is not None and original < (end or original)
        else None,
    }


def _previous_posting(check: _Checker, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        check.fail("previous_posting", "field.previous_posting_object")
        return None
    destination = check.state(
        "previous_posting.destination", value.get("destination"), required=True
    )
    start = check.day("previous_posting.start_date", value.get("start_date"), required=False)
    end = check.day("previous_posting.end_date", value.get("end_date"), required=True)
    if start and end and end < start:
        check.fail("previous_posting.end_date", "field.before_start")
    same = check.flag("previous_posting.same_employer", value.get("same_employer"))
    return {
        "destination": destination,
        "start_date": start,
        "end_date": end,
        "same_employer": True if same is None else same,
    }


def _fixed_place(check: _Checker, case: Mapping[str, Any], out: Mapping[str, Any]) -> str | None:
    """987 Art 14(9): the state of a self-employed person's fixed place of business, one of the
    states where the person works."""
    place = check.state(
        "fixed_place_of_business", case.get("fixed_place_of_business"), required=False
    )
    if place is None:
        return None
    if out["employment_status"] not in (None, "self_employed"):
        check.fail("fixed_place_of_business", "field.place_self_employed")
        return None
    trip = out["trip"]
    worked: set[str] = set(out["work_split_pct"] or {})
    if trip is not None and trip["kind"] == "posting":
        worked |= {s for s in (out["home_state"], trip["destination"]) if s}
    if worked and place not in worked:
        check.fail(
            "fixed_place_of_business",
            "field.place_outside_work",
            states=", ".join(sorted(worked)),
        )
        return None
    return place
