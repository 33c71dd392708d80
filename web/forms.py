"""Form helpers shared by every blueprint."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.fields.choices import SelectChoice


def select_choices(pairs: list[tuple[str, object]], *, blank: bool = False) -> list[SelectChoice]:
    options = [SelectChoice(value, str(label)) for value, label in pairs]
    return [SelectChoice("", "—"), *options] if blank else options


def country_picker_attributes(*, multiple: bool = False) -> dict[str, object]:
    """The attributes of a country <select> that static/js/country-picker.js turns into a
    searchable picker (the select itself is what works without JavaScript). The words the picker
    shows and speaks come from here, translated when the page is rendered."""
    return {
        "data-country-picker": "multiple" if multiple else "single",
        "data-picker-placeholder": _l("Type a country’s name"),
        "data-picker-chosen": _l("Chosen countries"),
        "data-picker-remove": _l("Remove %(country)s", country="{country}"),
        "data-picker-added": _l("%(country)s added", country="{country}"),
        "data-picker-removed": _l("%(country)s removed", country="{country}"),
        "data-picker-none": _l("No country matches"),
    }


class ServiceValidatedForm(FlaskForm):
    """A form whose values are checked by a service function, which reports errors by field."""

    def raw_values(self) -> dict[str, object]:
        """What the user sent; a date the browser could not parse stays text for the validator."""
        values: dict[str, object] = {}
        for name, field in self._fields.items():
            if name == "csrf_token":
                continue
            values[name] = field.data
            if isinstance(field, DateField) and field.data is None:
                values[name] = (field.raw_data or [""])[0]
        return values

    def show_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            if name in self._fields:
                self[name].errors = [message]
