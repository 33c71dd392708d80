"""Forms of the operator console."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField
from wtforms.validators import Optional

from web.countries import country_choices
from web.forms import ServiceValidatedForm, select_choices


class FilingStateForm(ServiceValidatedForm):
    state = SelectField(_l("Country"))
    lead_time_days = IntegerField(
        _l("Usual days from filing to the document"), default=30, validators=[Optional()]
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = select_choices(country_choices(), blank=True)
