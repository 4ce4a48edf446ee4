"""Profile forms: one per block of single values, one per list section."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp, ValidationError

from blueprints.profile import choices
from core import clock, identifiers
from core.forms import not_future, options
from core.i18n import lazy_gettext as _l

PHONE = Regexp(r"^\+?[0-9 .\-()]{6,25}$", message=_l("Enter a phone number, for example 06 12 34 56 78."))
NOTE_MAX = Length(max=2000, message=_l("2,000 characters at most."))


def _max(n: int):
    return Length(max=n, message=_l("%(num)d characters at most.", num=n))


class _Form(FlaskForm):
    def _choices(self, **tables):
        for name, (table, blank) in tables.items():
            getattr(self, name).choices = choices.options(table, blank)


# --------------------------------------------------------------------------- administrative


class IdentityForm(_Form):
    family_name = StringField(_l("Birth name"), validators=[DataRequired(_l("Enter your birth name.")), _max(120)])
    used_name = StringField(_l("Used name"), validators=[Optional(), _max(120)])
    given_names = StringField(_l("First names"), validators=[DataRequired(_l("Enter your first names.")), _max(120)])
    birth_date = DateField(
        _l("Date of birth"),
        validators=[DataRequired(_l("Enter your date of birth, for example 14/03/1987.")), not_future],
    )
    sex = SelectField(_l("Sex"), validators=[Optional()])
    birth_place_code = StringField(
        _l("Birth place code (INSEE)"),
        validators=[
            Optional(),
            Regexp(
                r"^(\d{5}|2[AaBb]\d{3})$", message=_l("Enter the 5-character INSEE code, for example 75056 or 2A004.")
            ),
        ],
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
        description=_l("The code of the municipality, not the postal code: 75056 for Paris, for example."),
    )
    nir = StringField(
        _l("Social security number"),
        validators=[DataRequired(_l("Enter your social security number."))],
        description=_l("15 characters, as on your carte Vitale."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._choices(sex=(choices.SEXES, _l("Not given")))

    def validate_nir(self, field):
        if not identifiers.valid_nir(field.data or ""):
            raise ValidationError(
                _l("This number is not valid: check the 15 digits, key included (as on your carte Vitale).")
            )


class ContactForm(_Form):
    phone_mobile = StringField(_l("Mobile phone"), validators=[Optional(), PHONE])
    phone_other = StringField(_l("Other phone"), validators=[Optional(), PHONE])
    address_line1 = StringField(_l("Address"), validators=[Optional(), _max(200)])
    address_line2 = StringField(_l("Address (continued)"), validators=[Optional(), _max(200)])
    postal_code = StringField(
        _l("Postal code"),
        validators=[Optional(), Regexp(r"^[0-9A-Za-z \-]{3,10}$", message=_l("Check this postal code."))],
    )
    city = StringField(_l("City"), validators=[Optional(), _max(120)])
    country = StringField(_l("Country"), validators=[Optional(), _max(80)])


class DoctorForm(_Form):
    doctor_name = StringField(_l("Name of your regular doctor"), validators=[Optional(), _max(200)])
    doctor_phone = StringField(_l("Phone"), validators=[Optional(), PHONE])
    doctor_rpps = StringField(_l("RPPS number"), validators=[Optional()])

    def validate_doctor_rpps(self, field):
        if field.data and not identifiers.valid_rpps(field.data):
            raise ValidationError(_l("An RPPS number has exactly 11 digits."))


class InsurerForm(_Form):
    insurer_name = StringField(_l("Name of your complementary insurer"), validators=[Optional(), _max(200)])
    insurer_member_number = StringField(_l("Member number"), validators=[Optional(), _max(40)])


# --------------------------------------------------------------------------- single values


class BloodForm(_Form):
    blood_group = SelectField(_l("Blood group"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._choices(blood_group=(choices.BLOOD_GROUPS, _l("Not given")))


class LifestyleForm(_Form):
    tobacco = SelectField(_l("Tobacco"), validators=[Optional()])
    alcohol = SelectField(_l("Alcohol"), validators=[Optional()])
    activity = SelectField(_l("Physical activity"), validators=[Optional()])
    lifestyle_note = TextAreaField(_l("Note"), validators=[Optional(), NOTE_MAX])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        blank = _l("Not given")
        self._choices(
            tobacco=(choices.TOBACCO, blank), alcohol=(choices.ALCOHOL, blank), activity=(choices.ACTIVITY, blank)
        )


class DonationForm(_Form):
    donation = SelectField(
        _l("Your wishes"),
        validators=[Optional()],
        description=_l(
            "In France, everyone is presumed to be a donor. To refuse, register on the national refusal "
            "register and tell your family."
        ),
    )
    donation_note = TextAreaField(_l("Note"), validators=[Optional(), NOTE_MAX])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._choices(donation=(choices.DONATION, _l("Not given")))


class DirectiveForm(_Form):
    directive_document_id = SelectField(_l("Document with your advance directives"), validators=[Optional()])


# --------------------------------------------------------------------------- list sections


class ConditionForm(_Form):
    kind = SelectField(_l("Kind"), validators=[DataRequired(_l("Choose a kind."))])
    label = StringField(_l("What"), validators=[DataRequired(_l("Say what it is, for example “Asthma”.")), _max(200)])
    year = IntegerField(
        _l("Year"), validators=[Optional(), NumberRange(1900, 2100, message=_l("Enter a year, for example 2015."))]
    )

    def validate_year(self, field):
        if field.data and field.data > clock.paris_today().year:
            raise ValidationError(_l("This year is in the future."))

    on_date = DateField(_l("Or the exact date"), validators=[Optional(), not_future])
    note = TextAreaField(_l("Note"), validators=[Optional(), NOTE_MAX])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._choices(kind=(choices.CONDITION_KINDS, None))


class TreatmentForm(_Form):
    name = StringField(
        _l("Medicine or treatment"),
        validators=[DataRequired(_l("Give the name of the medicine or treatment.")), _max(200)],
    )
    dosage = StringField(_l("Dosage"), validators=[Optional(), _max(200)])
    since = DateField(_l("Since"), validators=[Optional(), not_future])
    ongoing = BooleanField(_l("I am still taking it"), default=True)
    until = DateField(_l("Until"), validators=[Optional()])

    def validate_until(self, field):
        if field.data and not self.ongoing.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end comes before the start."))


class AllergyForm(_Form):
    substance = StringField(
        _l("Substance"),
        validators=[DataRequired(_l("Say what you are allergic to, for example “Penicillin”.")), _max(200)],
    )
    reaction = StringField(_l("Reaction"), validators=[Optional(), _max(200)])
    severity = SelectField(_l("Severity"), validators=[DataRequired(_l("Choose a severity."))], default="unknown")
    treatment_id = SelectField(_l("Linked to one of your treatments"), validators=[Optional()])

    def __init__(self, *args, treatments: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self._choices(severity=(choices.SEVERITIES, None))
        self.treatment_id.choices = options([("", str(_l("No"))), *treatments])


class VaccinationForm(_Form):
    name = StringField(_l("Vaccine"), validators=[DataRequired(_l("Give the name of the vaccine.")), _max(200)])
    on_date = DateField(_l("Date"), validators=[Optional(), not_future])
    lot_number = StringField(_l("Lot number"), validators=[Optional(), _max(60)])


class DisabilityForm(_Form):
    label = StringField(_l("Disability"), validators=[DataRequired(_l("Describe it in a few words.")), _max(200)])
    note = TextAreaField(_l("Note"), validators=[Optional(), NOTE_MAX])


class ContactPersonForm(_Form):
    role = SelectField(_l("Role"), validators=[DataRequired(_l("Choose a role."))])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give this person’s name.")), _max(200)])
    relation = StringField(_l("Relation to you"), validators=[Optional(), _max(80)])
    phone = StringField(_l("Phone"), validators=[Optional(), PHONE])
    phone_other = StringField(_l("Other phone"), validators=[Optional(), PHONE])
    email = StringField(
        _l("Email"),
        validators=[
            Optional(),
            Email(_l("Enter an email address, for example nom@exemple.fr."), check_deliverability=False),
            _max(254),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._choices(role=(choices.CONTACT_ROLES, None))
