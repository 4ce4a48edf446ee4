"""The professional's forms: a share code (or link), an emergency access."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from core.forms import options
from core.i18n import lazy_gettext as _l
from core.identifiers import clean_nir, valid_nir, valid_rpps
from core.people import PROFESSIONS

REASON_MIN = 20


class _Identity(FlaskForm):
    given_name = StringField(_l("Given name"), validators=[DataRequired(_l("Enter your given name.")), Length(max=120)])
    family_name = StringField(
        _l("Family name"), validators=[DataRequired(_l("Enter your family name.")), Length(max=120)]
    )
    profession = SelectField(_l("Profession"), validators=[DataRequired(_l("Choose your profession."))])
    rpps = StringField(
        _l("RPPS number"),
        description=_l("11 digits, on your CPS card."),
        validators=[DataRequired(_l("Enter your RPPS number."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profession.choices = options([("", _l("Choose…"))] + [(k, str(v)) for k, v in PROFESSIONS.items()])

    def validate_rpps(self, field):
        field.data = (field.data or "").replace(" ", "").strip()
        if not valid_rpps(field.data):
            raise ValidationError(_l("The RPPS number has 11 digits."))


class CodeForm(_Identity):
    """The code the patient gave, or the link of their QR code (then no code to type)."""

    code = StringField(
        _l("Access code"),
        description=_l("12 characters given by the patient, for example K7QM-3XRT-9BWD."),
        validators=[Length(max=40)],
    )
    token = HiddenField(validators=[Length(max=100)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.code.flags.required = True  # unless the QR link came along; then the field is not shown

    def validate_code(self, field):
        if not self.token.data and not (field.data or "").strip():
            raise ValidationError(_l("Enter the code the patient gave you."))


class EmergencyForm(FlaskForm):
    nir = StringField(
        _l("Patient's social security number"),
        validators=[DataRequired(_l("Enter the patient's social security number."))],
    )
    birth_date = DateField(_l("Patient's date of birth"), validators=[DataRequired(_l("Enter the date of birth."))])
    reason = TextAreaField(
        _l("Reason for the emergency access"),
        description=_l("Why the patient cannot consent and what the immediate risk is. The patient will read it."),
        validators=[
            DataRequired(_l("State the reason.")),
            Length(min=REASON_MIN, max=2000, message=_l("Describe the reason in %(min)d characters at least.")),
        ],
    )
    samu = BooleanField(_l("I am with the SAMU (emergency medical service)"))

    def validate_nir(self, field):
        if not valid_nir(clean_nir(field.data)):
            raise ValidationError(_l("This number is not valid: check its 15 digits (13 + the 2-digit key)."))
