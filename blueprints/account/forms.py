from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from core.i18n import lazy_gettext as _l


class RenameForm(FlaskForm):
    name = StringField(
        _l("Name of this passkey"),
        validators=[
            DataRequired(_l("Give this passkey a name.")),
            Length(max=60, message=_l("60 characters at most.")),
        ],
    )


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Enter your password."))])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password."))])
    confirm = PasswordField(
        _l("Confirm the password"),
        validators=[DataRequired(_l("Type the password again.")), EqualTo("password", _l("The two passwords differ."))],
    )
