from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from web.auth.services import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    password_weakness,
    validate_display_name,
)
from web.models import User
from web.validation import InputError


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)]
    )
    shared_device = BooleanField(_l("This is a shared device: do not keep me signed in"))


def _not_blank(form: FlaskForm, field: PasswordField) -> None:
    if field.data and not field.data.strip():
        raise ValidationError(_l("A password cannot be only spaces."))


def _strong_enough(form: NewPasswordForm, field: PasswordField) -> None:
    if field.data and not field.errors:
        weakness = password_weakness(field.data, form.password_user)
        if weakness:
            raise ValidationError(weakness)


class NewPasswordForm(FlaskForm):
    """A new password: long enough, and not guessable (common, a pattern, the user's name)."""

    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=PASSWORD_MAX_LENGTH,
                message=_l("The password needs at least %(min)d characters (and at most %(max)d)."),
            ),
            _not_blank,
            _strong_enough,
        ],
        description=_l(
            "At least %(n)d characters. A passphrase of several unrelated words is best.",
            n=PASSWORD_MIN_LENGTH,
        ),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )

    def __init__(self, *args: object, user: User | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.password_user = user  # whose name and address the password must not be built on


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)]
    )


class DisplayNameForm(FlaskForm):
    display_name = StringField(
        _l("Your name as employees read it"),
        description=_l(
            'A first name is enough: employees see "Maria from support is handling this". '
            "Leave it empty to use the start of your e-mail address."
        ),
        render_kw={"autocomplete": "given-name", "maxlength": 80},
    )

    def validate_display_name(self, field: StringField) -> None:
        try:
            field.data = validate_display_name(field.data)
        except InputError as exc:
            raise ValidationError(exc.errors["display_name"]) from exc


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class LanguageForm(FlaskForm):
    lang = SelectField(_l("Language"), choices=[])


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[DataRequired(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off"},
    )


class TotpEnrolForm(FlaskForm):
    code = StringField(
        _l("The six-digit code the app shows"),
        validators=[DataRequired(), Length(max=16)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Your password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)]
    )


class RemoveFactorForm(FlaskForm):
    factor = HiddenField(validators=[DataRequired(), Length(max=32)])


class CompanyFactorForm(FlaskForm):
    require = BooleanField(_l("Every admin of my company must use a second factor"))


class ResetFactorsForm(FlaskForm):
    email = EmailField(_l("Staff member's email"), validators=[DataRequired(), Length(max=254)])
