"""A trip as the employer types it (console form, CLI, import): checked field by field, every error
named by its field and translated; nothing is stored from a bad input."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import format_percent
from flask_babel import get_locale
from flask_babel import gettext as _

from web.countries import localised_country_name
from web.coverage.validation import PERCENT_TOLERANCE
from web.models import Art16Agreement, EmploymentStatus, TripKind
from web.validation import (
    InputError,
    country_field,
    country_list_field,
    date_range_fields,
)

MAX_TRIP_DAYS = 5 * 366
MAX_WORK_SPLIT_CHARS = 200  # Trip.work_split's column


def parse_share(text: object) -> float:
    """One country's share of working time as typed: "60", "62.5", "62,5", "60 %" → the number;
    ValueError when it is not a finite number (its range is the validator's business)."""
    value = float(str(text).strip().rstrip("%").strip().replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_work_split(text: str) -> dict[str, float]:
    """ "DE 60, FR 40" or "DE=60; FR=40" → {"DE": 60.0, "FR": 40.0}; InputError otherwise.
    The one reading of a split's text (stored, or typed on the command line); its numbers, like
    the console's one field per country, are read by parse_share."""
    split: dict[str, float] = {}
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        code, _sep, number = part.replace("=", " ").replace(":", " ").partition(" ")
        try:
            share = parse_share(number)
        except ValueError:
            raise InputError(
                {
                    "work_split": _(
                        "write each country with its share, e.g. “DE 60, FR 40” (not “%(part)s”)",
                        part=part[:30],
                    )
                }
            ) from None
        split[code.strip().upper()] = share
    return split


def format_work_split(split: Mapping[str, float]) -> str:
    """{"DE": 60.0, "FR": 40.0} → "DE 60, FR 40", the text kept on the trip (hundredths kept)."""
    return ", ".join(f"{code} {round(share, 2):g}" for code, share in split.items())


def format_share_percent(value: float) -> str:
    """60 → "60%" (English), "60 %" (French, German): a share as the reader writes it."""
    return format_percent(
        Decimal(str(round(value, 2))) / 100,
        locale=str(get_locale() or "en"),
        decimal_quantization=False,
    )


def share_total_is_right(total: float) -> bool:
    """The shares make 100 %, within the rounding the coverage engine accepts (three thirds
    written 33 % each)."""
    return abs(total - 100) <= PERCENT_TOLERANCE + 1e-9


@dataclass
class TripInput:
    destination_state: str
    work_states: list[str]
    start_date: date
    end_date: date
    kind: str
    purpose: str
    employment_status: str = "employed"
    prior_insurance_months: int | None = None
    replacing_posted_worker: bool = False
    employer_substantial_activity: bool = True
    work_split: str = ""
    art16_agreement: str = "none"
    previous_legislation_state: str | None = None
    fixed_place_of_business: str | None = None


def _prior_insurance(value: object, errors: dict[str, str]) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        months = int(text)
    except ValueError:
        errors["prior_insurance_months"] = _("must be a whole number of months")
        return None
    if not 0 <= months <= 1200:
        errors["prior_insurance_months"] = _("must be between 0 and 1200 months")
        return None
    return months


def _flag(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("y", "yes", "true", "on", "1")


def validate_trip_input(raw: dict[str, Any]) -> TripInput:
    errors: dict[str, str] = {}
    destination = country_field(raw.get("destination_state"), errors, "destination_state")
    work_states = country_list_field(raw.get("work_states"), errors, "work_states")
    if destination and destination not in work_states:
        work_states.insert(0, destination)
    start, end = date_range_fields(
        raw,
        errors,
        "start_date",
        "end_date",
        max_days=MAX_TRIP_DAYS,
        too_long=_("makes the trip longer than five years"),
    )
    kind = (raw.get("kind") or TripKind.POSTING.value).strip()
    if kind not in TripKind.values():
        errors["kind"] = _("Choose one of the listed options.")
    purpose = " ".join((raw.get("purpose") or "").split())
    if len(purpose) > 200:
        errors["purpose"] = _("is longer than 200 characters")
    status = (raw.get("employment_status") or "employed").strip()
    if status not in EmploymentStatus.values():
        errors["employment_status"] = _("Choose one of the listed options.")
    art16 = (raw.get("art16_agreement") or "none").strip()
    if art16 not in Art16Agreement.values():
        errors["art16_agreement"] = _("Choose one of the listed options.")
    prior = _prior_insurance(raw.get("prior_insurance_months"), errors)
    work_split = _work_split(raw, work_states, errors)
    previous = _previous_legislation(raw, kind, status, errors)
    place = _fixed_place_of_business(raw, kind, status, work_states, work_split, errors)
    if errors:
        raise InputError(errors)
    assert start is not None and end is not None
    return TripInput(
        destination,
        work_states,
        start,
        end,
        kind,
        purpose,
        employment_status=status,
        prior_insurance_months=prior,
        replacing_posted_worker=_flag(raw.get("replacing_posted_worker")),
        employer_substantial_activity=_flag(raw.get("employer_substantial_activity", True)),
        work_split=work_split,
        art16_agreement=art16,
        previous_legislation_state=previous,
        fixed_place_of_business=place,
    )


def _work_split(raw: dict[str, Any], work_states: list[str], errors: dict[str, str]) -> str:
    """The share of working time per country, as the canonical text kept on the trip ("" when
    none is given). The console sends one field per country of work (``work_shares``: code →
    what was typed, errors under ``share-<code>``); the command line, the demo and scripted
    callers send the text (``work_split``, read by parse_work_split). Both are checked alike:
    known countries, each share 0–100 (parse_share), together 100; format_work_split writes the
    text that is kept, so nothing downstream changes."""
    shares = raw.get("work_shares")
    if shares:
        split = _split_from_fields(shares, work_states, errors)
    else:
        text = " ".join(str(raw.get("work_split") or "").split())
        if not text:
            return ""
        if len(text) > MAX_WORK_SPLIT_CHARS:
            errors["work_split"] = _("is longer than 200 characters")
            return ""
        split = _split_from_text(text, errors)
    if not split:
        return ""
    total = math.fsum(split.values())
    if not share_total_is_right(total):
        errors["work_split"] = _(
            "The shares add up to %(total)s; together they must make %(target)s.",
            total=format_share_percent(total),
            target=format_share_percent(100),
        )
        return ""
    text = format_work_split(split)
    if len(text) > MAX_WORK_SPLIT_CHARS:
        errors["work_split"] = _("is longer than 200 characters")
        return ""
    return text


def _checked_share(text: str) -> tuple[float | None, str | None]:
    """(the share, None) or (None, the message) for one typed share."""
    try:
        share = parse_share(text)
    except ValueError:
        return None, _("enter a number from 0 to 100")
    if not 0 <= share <= 100:
        return None, _("must be between 0 and 100")
    return share, None


def _split_from_text(text: str, errors: dict[str, str]) -> dict[str, float] | None:
    try:
        parsed = parse_work_split(text)
    except InputError as exc:
        errors.update(exc.errors)
        return None
    split: dict[str, float] = {}
    for code, share in parsed.items():
        state = country_field(code, errors, "work_split")
        if not state:
            return None
        if not 0 <= share <= 100:
            errors["work_split"] = _(
                "each share must be between 0 and 100 (not “%(part)s”)", part=f"{code} {share:g}"
            )
            return None
        # The text names its own countries: they count as countries of work (as the fixed
        # place of business check reads them), so they need not be listed twice.
        split[state] = split.get(state, 0) + share
    return split


def _split_from_fields(
    shares: Mapping[str, object], work_states: list[str], errors: dict[str, str]
) -> dict[str, float] | None:
    """One typed share per country of work (``work_shares``: code → text). All empty: no split.
    Otherwise every country of work needs its share (0 where the employee does not work), and a
    share for a country that is not one of work is refused rather than quietly dropped."""
    typed: dict[str, str] = {}
    bad = False
    for raw_code, value in shares.items():
        key = f"share-{raw_code}"
        text = str(value if value is not None else "").strip()
        code = country_field(raw_code, errors, key)
        if not code:
            bad = True
            continue
        if code not in work_states:
            if text:
                errors[key] = _(
                    "%(country)s is not one of the countries of work: add it above, or empty "
                    "this field",
                    country=localised_country_name(code),
                )
                bad = True
            continue
        typed[code] = text
    if not any(typed.values()):
        return None if bad else {}
    split: dict[str, float] = {}
    for code in work_states:
        text = typed.get(code, "")
        if not text:
            errors[f"share-{code}"] = _("enter a share (0 if the employee does not work there)")
            bad = True
            continue
        share, message = _checked_share(text)
        if message:
            errors[f"share-{code}"] = message
            bad = True
            continue
        assert share is not None
        split[code] = share
    return None if bad else split


def _previous_legislation(
    raw: dict[str, Any], kind: str, status: str, errors: dict[str, str]
) -> str | None:
    """987/2009 Art 14(1): a person recruited for a posting; asked of employed postings only."""
    state = country_field(
        raw.get("previous_legislation_state"), errors, "previous_legislation_state", required=False
    )
    if state and (kind != TripKind.POSTING.value or status != "employed"):
        errors["previous_legislation_state"] = _("applies to an employee's posting only")
    return state or None


def _fixed_place_of_business(
    raw: dict[str, Any],
    kind: str,
    status: str,
    work_states: list[str],
    work_split: str,
    errors: dict[str, str],
) -> str | None:
    """987/2009 Art 14(9): a self-employed person's fixed place of business, in a state of work."""
    place = country_field(
        raw.get("fixed_place_of_business"), errors, "fixed_place_of_business", required=False
    )
    if not place:
        return None
    if kind != TripKind.REGULAR_MULTI_STATE.value or status != "self_employed":
        errors["fixed_place_of_business"] = _(
            "applies to self-employed work in several countries only"
        )
        return place
    worked = set(work_states)
    if work_split and "work_split" not in errors:
        worked |= set(parse_work_split(work_split))
    if place not in worked:
        names = sorted(localised_country_name(state) for state in worked)
        errors["fixed_place_of_business"] = _(
            "is not one of the countries of work (%(states)s)", states=", ".join(names)
        )
    return place
