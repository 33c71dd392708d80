"""The competent institutions that issue official certificates, per state (data/institutions.json,
each entry with its public source). Forms offer them by issuing state; "other" needs a written
justification, which the provider's reviewer reads before confirming."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from web.validation import InputError

OTHER = "other"  # the form's value for an institution not on the list
DATA_FILE = Path(__file__).parent / "data" / "institutions.json"
MAX_NAME_LENGTH = 120
MAX_JUSTIFICATION_LENGTH = 500


@dataclass(frozen=True)
class Institution:
    code: str  # "DE:DRV-BUND": the state, then the institution; what the QR carries
    name: str
    state: str
    source: str


@cache
def institutions_by_state() -> dict[str, tuple[Institution, ...]]:
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return {
        state: tuple(Institution(e["code"], e["name"], state, e["source"]) for e in entries)
        for state, entries in raw.items()
        if not state.startswith("_")
    }


@cache
def institutions_by_code() -> dict[str, Institution]:
    return {i.code: i for entries in institutions_by_state().values() for i in entries}


def institution_name(value: str | None) -> str | None:
    """The institution's name for a stored value: a listed code, or the text typed for "other"."""
    if not value:
        return None
    listed = institutions_by_code().get(value)
    return listed.name if listed else value


@dataclass(frozen=True)
class InstitutionChoice:
    value: str  # a listed code, or the name typed for "other"
    justification: str | None  # only for "other"


def validate_institution(
    choice: object, other_name: object, justification: object, *, state: str | None
) -> InstitutionChoice:
    """A listed institution of ``state`` (the legislation's, which issues the document), or
    "other" with its name and a written justification. Raises InputError naming the field."""
    code = str(choice or "").strip()
    name = " ".join(str(other_name or "").split())
    why = " ".join(str(justification or "").split())
    if code == OTHER:
        errors = {}
        if not name:
            errors["institution_other"] = _("Write the institution's name as printed.")
        elif len(name) > MAX_NAME_LENGTH:
            errors["institution_other"] = _("is longer than %(n)d characters", n=MAX_NAME_LENGTH)
        if len(why) < 10:
            errors["institution_other_justification"] = _(
                "Explain why the institution is not on the list (at least 10 characters)."
            )
        elif len(why) > MAX_JUSTIFICATION_LENGTH:
            errors["institution_other_justification"] = _(
                "is longer than %(n)d characters", n=MAX_JUSTIFICATION_LENGTH
            )
        if errors:
            raise InputError(errors)
        return InstitutionChoice(name, why)
    from web.countries import localised_country_name

    listed = institutions_by_code().get(code)
    if listed is None:
        raise InputError({"issuing_institution": _("Choose the institution from the list.")})
    if state and listed.state != state:
        raise InputError(
            {
                "issuing_institution": _(
                    "Choose an institution of %(state)s, the state whose legislation applies.",
                    state=localised_country_name(state),
                )
            }
        )
    return InstitutionChoice(listed.code, None)


def institution_select_choices() -> list[SelectChoice]:
    """For a SelectField: the institutions grouped under their state's name, then "other"."""
    from web.countries import localised_country_name

    choices = [SelectChoice("", "—")]
    for state in sorted(institutions_by_state(), key=localised_country_name):
        group = f"{localised_country_name(state)} ({state})"
        choices += [
            SelectChoice(i.code, i.name, optgroup=group) for i in institutions_by_state()[state]
        ]
    choices.append(
        SelectChoice(OTHER, _("Other institution (explain below)"), optgroup=_("Not on the list"))
    )
    return choices
