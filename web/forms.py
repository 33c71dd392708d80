"""Form helpers shared by every blueprint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.fields.choices import SelectChoice


def select_choices(pairs: list[tuple[str, object]], *, blank: bool = False) -> list[SelectChoice]:
    options = [SelectChoice(value, str(label)) for value, label in pairs]
    return [SelectChoice("", "—"), *options] if blank else options


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
