"""Forms of the operator console."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from web.admin.forms import CertificateForm, InstitutionFields
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


class ReviewForm(InstitutionFields, CertificateForm):
    """The reviewer's copy of an official record: every field may be corrected before
    confirming (checked by the same service as the admin's form)."""

    authority_reference = StringField(_l("Document number"))
    review_note = StringField(_l("Note (optional)"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._set_institution_choices()


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Why the record is rejected"))


class KeyActionForm(FlaskForm):
    """An action of the signing-keys page. Only read: which key, which class and whether a
    reason is required are the key service's rules (web/certificates/keys.py), shared with the
    command line."""

    kid = HiddenField()
    document_class = HiddenField()
    reason = StringField(_l("Why (kept in the audit trail)"))
