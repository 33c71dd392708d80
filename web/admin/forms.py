"""Form fields of the employer console. The rules live in the services (web/employees/,
web/trips/, web/certificates/); a form only renders fields and carries the CSRF token, so the
form, the CSV import and the CLI agree."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import Optional

from web.admin import bp
from web.certificates.institutions import institution_select_choices
from web.countries import country_choices, localised_country_name
from web.forms import ServiceValidatedForm, country_picker_attributes, select_choices
from web.i18n import LANGUAGE_NAMES, app_languages
from web.trips.input import (
    PERCENT_TOLERANCE,
    format_share_percent,
    parse_share,
    parse_work_split,
    share_total_is_right,
)
from web.vocabulary import Art16Agreement, EmploymentStatus, TripKind

# A country filter outside a form class (the coverage dashboard's) renders the same picker.
bp.add_app_template_global(country_choices, "country_choices")
bp.add_app_template_global(country_picker_attributes, "country_picker_attributes")


class EmployeeForm(ServiceValidatedForm):
    email = StringField(_l("Work email"), render_kw={"type": "email", "autocomplete": "off"})
    family_name = StringField(_l("Family name (as on the ID)"))
    given_names = StringField(_l("Given names (as on the ID)"))
    family_name_ascii = StringField(
        _l("Family name in Latin letters"),
        description=_l("Leave empty to derive it; fill in when the ID shows another spelling."),
    )
    given_names_ascii = StringField(_l("Given names in Latin letters"))
    birth_date = DateField(_l("Birth date"))
    nationality = SelectField(_l("Nationality"), render_kw=country_picker_attributes())
    residence_state = SelectField(_l("Country of residence"), render_kw=country_picker_attributes())
    home_state = SelectField(
        _l("Home country (where insured)"), render_kw=country_picker_attributes()
    )
    phone = TelField(
        _l("Mobile phone"), description=_l("Support calls this number when an authority asks.")
    )
    locale = SelectField(_l("Language"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        countries = select_choices(country_choices(), blank=True)
        for name in ("nationality", "residence_state", "home_state"):
            getattr(self, name).choices = countries
        self.locale.choices = select_choices(
            [(code, LANGUAGE_NAMES[code]) for code in app_languages()], blank=True
        )


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))


# One share field per country of work: "share-DE" (the console's form; web/trips/input.py).
SHARE_FIELD = re.compile(r"share-([A-Z]{2})")
MAX_SHARE_FIELDS = 60


@dataclass(frozen=True)
class ShareRow:
    """One country's share field as the trip form renders it."""

    code: str
    name: str
    value: str
    error: str | None


class TripForm(ServiceValidatedForm):
    destination_state = SelectField(
        _l("Destination country"), render_kw=country_picker_attributes()
    )
    work_states = SelectMultipleField(
        _l("Countries where the employee works on this trip"),
        description=_l("The destination is always included."),
        render_kw=country_picker_attributes(multiple=True),
    )
    start_date = DateField(_l("First day"))
    end_date = DateField(_l("Last day"))
    kind = SelectField(_l("Kind of trip"))
    purpose = StringField(
        _l("Purpose"), description=_l("For example: client workshop, site assembly.")
    )
    # The facts the coverage check needs beyond the employee's record.
    employment_status = SelectField(_l("The employee works as"))
    prior_insurance_months = IntegerField(
        _l("Months insured in the home country just before the trip"),
        description=_l("Leave empty if the employee was already insured there long before."),
        validators=[Optional()],
    )
    replacing_posted_worker = BooleanField(_l("Replaces another posted worker"))
    employer_substantial_activity = BooleanField(
        _l("The employer has substantial activity in the home country"), default=True
    )
    art16_agreement = SelectField(_l("Art 16 agreement (exception)"))
    previous_legislation_state = SelectField(
        _l("Social security that covered the employee just before this job"),
        description=_l(
            "Only for someone hired for this posting. Leave empty if they were already insured "
            "in the home country."
        ),
        render_kw=country_picker_attributes(),
    )
    fixed_place_of_business = SelectField(
        _l("Country of the fixed place of business"),
        description=_l("Self-employed work in several countries: one of the countries of work."),
        render_kw=country_picker_attributes(),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.destination_state.choices = select_choices(country_choices(), blank=True)
        self.previous_legislation_state.choices = select_choices(country_choices(), blank=True)
        self.fixed_place_of_business.choices = select_choices(country_choices(), blank=True)
        self.work_states.choices = select_choices(country_choices())
        self.kind.choices = select_choices(TripKind.choices())
        self.employment_status.choices = select_choices(EmploymentStatus.choices())
        self.art16_agreement.choices = select_choices(Art16Agreement.choices())
        # The shares as typed (code → text): from the request, or from the trip being edited.
        self.work_shares: dict[str, str] = {}
        self.work_split_text = ""
        if self.is_submitted():
            for key, value in request.form.items():
                match = SHARE_FIELD.fullmatch(key)
                if match and len(self.work_shares) < MAX_SHARE_FIELDS:
                    self.work_shares[match[1]] = value.strip()
            self.work_split_text = request.form.get("work_split", "")
        elif kwargs.get("obj") is not None and getattr(kwargs["obj"], "work_split", ""):
            self._shares_of_stored_split(kwargs["obj"].work_split)

    def _shares_of_stored_split(self, text: str) -> None:
        try:
            split = parse_work_split(text)
        except ValueError:  # an old text that no longer reads: its fields start empty
            return
        self.work_shares = {code: f"{round(share, 2):g}" for code, share in split.items()}
        # A country given a share is a country of work: it is chosen in the picker, so its
        # field shows (a text split from the command line may name the home country only there).
        chosen = list(self.work_states.data or [])
        self.work_states.data = chosen + [code for code in split if code not in chosen]

    def raw_values(self) -> dict[str, object]:
        values = super().raw_values()
        # Not a number: the service names the field instead of dropping what was typed.
        if self.prior_insurance_months.data is None:
            values["prior_insurance_months"] = (self.prior_insurance_months.raw_data or [""])[0]
        values["work_shares"] = dict(self.work_shares)
        values["work_split"] = self.work_split_text  # the text form, for scripted callers
        return values

    def work_countries(self) -> list[str]:
        """The destination and the chosen countries of work, in that order, once each."""
        known = {choice.value for choice in self.work_states.choices}
        codes = [self.destination_state.data or "", *(self.work_states.data or [])]
        return list(dict.fromkeys(code for code in codes if code in known))

    def share_rows(self, errors: dict[str, str]) -> list[ShareRow]:
        """A share field for each country of work, then for any other country a share was sent
        for (it comes back with its error, so nothing typed is lost)."""
        codes = self.work_countries()
        codes += [code for code in self.work_shares if code not in codes]
        return [
            ShareRow(
                code,
                localised_country_name(code),
                self.work_shares.get(code, ""),
                errors.get(f"share-{code}"),
            )
            for code in codes
        ]

    def share_total_texts(self) -> dict[str, str]:
        """The live total's sentences (the script fills in {total} and {target}), the total of
        what was sent (a page shown without JavaScript), and the rounding the server accepts."""
        typed = []
        for value in self.work_shares.values():
            try:
                typed.append(parse_share(value))
            except ValueError:
                continue
        total = sum(typed)
        right = _("Total: %(total)s", total="{total}")
        wrong = _("Total: %(total)s — must be %(target)s", total="{total}", target="{target}")
        now = (right if share_total_is_right(total) else wrong).format(
            total=format_share_percent(total), target=format_share_percent(100)
        )
        return {
            "right": right,
            "wrong": wrong,
            "now": now,
            "hundred": format_share_percent(100),
            "tolerance": str(PERCENT_TOLERANCE),
        }


class CertificateForm(ServiceValidatedForm):
    """Fields of a provisional certificate; the official form adds the authority's details."""

    document_type = SelectField(_l("Document"))
    legislation_state = SelectField(
        _l("Social security legislation of"), render_kw=country_picker_attributes()
    )
    work_states = SelectMultipleField(
        _l("Countries of work covered"), render_kw=country_picker_attributes(multiple=True)
    )
    valid_from = DateField(_l("Valid from"))
    valid_to = DateField(_l("Valid until (last day)"))
    # Made when the form is rendered: submitting it twice issues one certificate (the view
    # reads it from the request, so a POST without it simply has no key).
    idempotency_key = HiddenField(default=lambda: str(uuid.uuid4()))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.document_type.choices = select_choices(
            [
                ("A1", _l("A1 (EU, EEA, Switzerland, United Kingdom)")),
                ("CoC", _l("Certificate of Coverage (bilateral agreement)")),
            ]
        )
        self.legislation_state.choices = select_choices(country_choices(), blank=True)
        self.work_states.choices = select_choices(country_choices())


class InstitutionFields:
    """The issuing institution: chosen from the list under its state, or "other" with a written
    justification (web/certificates/institutions.py). Mixed into the forms that record one."""

    issuing_institution = SelectField(
        _l("Issuing institution"),
        description=_l("As printed on the document, under the state whose legislation applies."),
    )
    institution_other = StringField(_l("Other institution: its name as printed"))
    institution_other_justification = TextAreaField(
        _l("Why it is not on the list"),
        description=_l("Only with “Other institution”: the provider reads this before confirming."),
    )

    def _set_institution_choices(self) -> None:
        self.issuing_institution.choices = institution_select_choices()


class OfficialCertificateForm(InstitutionFields, CertificateForm):
    authority_reference = StringField(_l("Document number"))
    document = FileField(_l("The authority's document (PDF, at most 10 MB)"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._set_institution_choices()


class RevokeForm(FlaskForm):
    reason = StringField(_l("Reason for the withdrawal"))


class ExtendForm(FlaskForm):
    valid_to = DateField(_l("New last day"))


class ChecklistForm(ServiceValidatedForm):
    """The preconditions confirmed before a request is filed
    (web/filing/certificate_requests.py)."""

    registered_for_period = BooleanField()
    prior_insurance_confirmed = BooleanField()
    not_replacing_confirmed = BooleanField()
    substantial_activity_confirmed = BooleanField()


class DecisionForm(InstitutionFields, ServiceValidatedForm):
    valid_from = DateField(_l("Valid from"))
    valid_to = DateField(_l("Valid until (last day)"))
    authority_reference = StringField(_l("Document number"))
    document = FileField(_l("The authority's document (PDF, at most 10 MB)"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._set_institution_choices()


class RefusalForm(FlaskForm):
    reason = StringField(_l("The authority's reason"))
