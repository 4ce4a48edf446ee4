from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from core.i18n import lazy_gettext as _l
from core.identifiers import clean_nir, valid_nir


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=128)])


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code received by email"),
        validators=[
            DataRequired(_l("Enter the 6-digit code.")),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("The code has 6 digits.")),
        ],
    )


class ActivationForm(FlaskForm):
    nir = StringField(_l("Social security number"), validators=[DataRequired(_l("Enter your social security number."))])
    birth_date = DateField(_l("Date of birth"), validators=[DataRequired(_l("Enter your date of birth."))])
    code = StringField(
        _l("Activation code"), validators=[DataRequired(_l("Enter the code from your letter.")), Length(max=40)]
    )

    def validate_nir(self, field):
        if not valid_nir(clean_nir(field.data)):
            raise ValidationError(_l("This number is not valid: check its 15 digits (13 + the 2-digit key)."))


class NewLetterForm(FlaskForm):
    nir = StringField(_l("Social security number"), validators=[DataRequired(_l("Enter your social security number."))])
    birth_date = DateField(_l("Date of birth"), validators=[DataRequired(_l("Enter your date of birth."))])

    def validate_nir(self, field):
        if not valid_nir(clean_nir(field.data)):
            raise ValidationError(_l("This number is not valid: check its 15 digits (13 + the 2-digit key)."))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password."))])
    confirm = PasswordField(
        _l("Confirm the password"),
        validators=[DataRequired(_l("Type the password again.")), EqualTo("password", _l("The two passwords differ."))],
    )


class EmailPasswordForm(PasswordForm):
    """Activating a space whose letter came by post: the holder gives the email they log in with."""

    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
        description=_l("You will log in with it; your codes and notifications are sent there."),
    )
