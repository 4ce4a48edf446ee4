"""Sharing forms: a share (what, how long, deposits, a note), a block, the emergency settings."""

from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.documents import categories
from core import clock, identifiers
from core.forms import options
from core.i18n import lazy_gettext as _l

DURATIONS = {
    "1h": (_l("1 hour"), timedelta(hours=1)),
    "24h": (_l("24 hours"), timedelta(hours=24)),
    "7j": (_l("7 days"), timedelta(days=7)),
    "30j": (_l("30 days"), timedelta(days=30)),
    "date": (_l("Until a date"), None),
}
MAX_DAYS = 365
DOCUMENTS = {
    "all": _l("All documents visible to professionals"),
    "categories": _l("Only some kinds of documents"),
    "none": _l("No document"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ShareForm(FlaskForm):
    documents = RadioField(_l("Documents"), default="all", validators=[InputRequired()])
    categories = MultiCheckboxField(_l("Kinds of documents"), choices=[])
    summary = BooleanField(_l("My health in summary (allergies, treatments, history)"), default=True)
    measures = BooleanField(_l("My measures (weight, blood pressure…)"))
    duration = RadioField(_l("For how long"), default="24h", validators=[InputRequired()])
    until = DateField(_l("Last day of access"), validators=[Optional()])
    can_deposit = BooleanField(_l("The professional may add documents to my space"))
    label = StringField(
        _l("A note for you"),
        validators=[Optional(), Length(max=120)],
        description=_l("To recognise this share later, for example “Dr Durand”."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.documents.choices = options((k, str(v)) for k, v in DOCUMENTS.items())
        self.categories.choices = options(categories.choices())
        self.categories.flags.required = True  # when it applies: no "(optional)" mark (no attribute either)
        self.duration.choices = options((k, str(label)) for k, (label, _d) in DURATIONS.items())

    def validate_categories(self, field):
        if self.documents.data == "categories" and not field.data:
            raise ValidationError(_l("Choose at least one kind of document."))

    def validate_measures(self, field):
        if self.documents.data == "none" and not self.summary.data and not field.data:
            raise ValidationError(_l("Choose at least one thing to share."))

    def validate(self, extra_validators=None) -> bool:
        """The date matters only with "until a date" (an empty field stops its own validators)."""
        ok = super().validate(extra_validators)
        if self.duration.data != "date" or self.until.errors:
            return ok
        today = clock.paris_today()
        if self.until.data is None:
            problem = _l("Enter the last day of access, for example 14/03/2026.")
        elif self.until.data < today:
            problem = _l("This date has passed.")
        elif self.until.data > today + timedelta(days=MAX_DAYS):
            problem = _l("A share lasts one year at most.")
        else:
            return ok
        self.until.errors = [*self.until.errors, problem]
        return False

    def scope(self) -> dict:
        docs = self.documents.data if self.documents.data in ("all", "categories") else None
        return {
            "documents": docs,
            "categories": list(self.categories.data or []) if docs == "categories" else [],
            "summary": bool(self.summary.data),
            "measures": bool(self.measures.data),
        }


class BlockForm(FlaskForm):
    rpps = StringField(
        _l("RPPS number"),
        validators=[DataRequired(_l("Enter the RPPS number."))],
        filters=[lambda v: "".join((v or "").split())],
        description=_l("11 digits, on the professional's prescriptions or card."),
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])

    def validate_rpps(self, field):
        if not identifiers.valid_rpps(field.data or ""):
            raise ValidationError(_l("An RPPS number has exactly 11 digits."))


class EmergencyForm(FlaskForm):
    allow_samu = BooleanField(_l("The SAMU (emergency medical service) may open my space in an emergency"))
    allow_others = BooleanField(_l("Other health professionals may open my space in an emergency"))
    allow_hidden = BooleanField(_l("In an emergency, they may also see my hidden documents"))


CHANNEL_CHOICES = [
    ("mail", _l("In Carnet and by email (one email per professional and per day)")),
    ("app", _l("In Carnet only")),
    ("none", _l("Do not tell me")),
]


class NoticePreferencesForm(FlaskForm):
    """How to be told, per kind; emergency accesses and someone new are not a choice."""

    access = RadioField(_l("When a professional consults your space"), default="mail", validators=[InputRequired()])
    deposit = RadioField(_l("When a professional adds a document"), default="mail", validators=[InputRequired()])
    message = RadioField(_l("When a professional writes to you"), default="mail", validators=[InputRequired()])
    appointment = RadioField(
        _l("Appointments: proposals, confirmations, cancellations and reminders"),
        default="mail",
        validators=[InputRequired()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.access.choices = self.deposit.choices = self.message.choices = options(
            (k, str(label)) for k, label in CHANNEL_CHOICES
        )
        # always in Carnet: an answer may be awaited, a reminder was asked for
        self.appointment.choices = options(
            [
                ("mail", str(_l("In Carnet and by email"))),
                ("app", str(_l("In Carnet only"))),
            ]
        )
