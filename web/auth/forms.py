from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from web.auth.services import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)]
    )
    shared_device = BooleanField(_l("This is a shared device: do not keep me signed in"))


def _not_blank(form: FlaskForm, field: PasswordField) -> None:
    if field.data and not field.data.strip():
        raise ValidationError(_l("A password cannot be only spaces."))


class NewPasswordForm(FlaskForm):
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
        ],
        description=_l(
            "At least %(n)d characters. A passphrase of several words is best.",
            n=PASSWORD_MIN_LENGTH,
        ),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)]
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class LanguageForm(FlaskForm):
    lang = SelectField(_l("Language"), choices=[])
