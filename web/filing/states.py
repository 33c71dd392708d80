"""The states where the provider files certificate requests with the authority itself.

The operator keeps this list in the operator console; it decides the provider category of a trip
("official" where the issuing state is on it, "provisional" elsewhere; web/coverage/providers.py).
Each state carries the usual lead time from filing to the authority's document.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from web.audit import record_audit_event
from web.countries import normalise_state
from web.extensions import db
from web.models import FilingState, User
from web.validation import InputError

# Until the operator enters a state's real lead time: a month, the common order of magnitude.
DEFAULT_LEAD_TIME_DAYS = 30
MAX_LEAD_TIME_DAYS = 365
# The list the first migration seeds (the provider's EU mandates at launch).
DEFAULT_FILING_STATES = [
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
]


def filing_states() -> list[FilingState]:
    return list(db.session.scalars(select(FilingState).order_by(FilingState.state)))


def filing_state_codes() -> frozenset[str]:
    return frozenset(db.session.scalars(select(FilingState.state)))


def lead_time_days(state: str) -> int:
    row = db.session.get(FilingState, state)
    return row.lead_time_days if row is not None else DEFAULT_LEAD_TIME_DAYS


def _lead_time(value: object) -> int:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise InputError({"lead_time_days": _("must be a whole number of days")}) from None
    if not 1 <= days <= MAX_LEAD_TIME_DAYS:
        raise InputError(
            {"lead_time_days": _("must be between 1 and %(max)d days", max=MAX_LEAD_TIME_DAYS)}
        )
    return days


def save_filing_state(code: object, lead_time: object, *, actor: User | None) -> FilingState:
    """Add a state to the list, or change its lead time."""
    try:
        state = normalise_state(code)
    except ValueError:
        raise InputError({"state": _("Choose a country.")}) from None
    days = _lead_time(lead_time)
    row = db.session.get(FilingState, state)
    if row is None:
        row = FilingState(state=state, added_by_id=actor.id if actor else None)
        db.session.add(row)
        action = "filing_state.added"
    else:
        action = "filing_state.updated"
    row.lead_time_days = days
    record_audit_event(action, object_type="filing_state", object_id=state, message=f"{days} d")
    return row


def remove_filing_state(state: str, *, actor: User | None) -> bool:
    removed = db.session.execute(delete(FilingState).where(FilingState.state == state)).rowcount
    if removed:
        record_audit_event("filing_state.removed", object_type="filing_state", object_id=state)
    return bool(removed)


def seed_default_filing_states() -> None:
    """The launch list (what the migration seeds), for a database emptied by tests."""
    for state in DEFAULT_FILING_STATES:
        if db.session.get(FilingState, state) is None:
            db.session.add(FilingState(state=state, lead_time_days=DEFAULT_LEAD_TIME_DAYS))
