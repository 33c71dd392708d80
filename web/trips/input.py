"""A trip as the employer types it (console form, CLI, import): checked field by field, every error
named by its field and translated; nothing is stored from a bad input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _

from web.countries import localised_country_name
from web.models import Art16Agreement, EmploymentStatus, TripKind
from web.validation import (
    InputError,
    country_field,
    country_list_field,
    date_range_fields,
)

MAX_TRIP_DAYS = 5 * 366


def parse_work_split(text: str) -> dict[str, float]:
    """ "DE 60, FR 40" or "DE=60; FR=40" → {"DE": 60.0, "FR": 40.0}; InputError otherwise."""
    split: dict[str, float] = {}
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        code, _sep, number = part.replace("=", " ").replace(":", " ").partition(" ")
        try:
            share = float(number.strip().rstrip("%").strip())
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
    work_split = " ".join(str(raw.get("work_split") or "").split())
    if len(work_split) > 200:
        errors["work_split"] = _("is longer than 200 characters")
    elif work_split:
        try:
            parse_work_split(work_split)
        except InputError as exc:
            errors.update(exc.errors)
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
