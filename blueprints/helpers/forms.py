from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from blueprints.helpers.services import LONGEST_DAYS
from blueprints.sharing.forms import MultiCheckboxField
from core import clock
from core.forms import options
from core.i18n import lazy_gettext as _l

SCOPE_LABELS = {
    "documents": _l("Documents: see and add them (never delete, hide or show them)"),
    "measures": _l("Measures: note, correct and delete them"),
    "agenda": _l("Agenda: appointments and prevention"),
    "messages": _l("Messages with professionals: read and answer"),
}

SCOPE_SHORT = {
    "documents": _l("Documents"),
    "measures": _l("Measures"),
    "agenda": _l("Agenda"),
    "messages": _l("Messages"),
}


def _scopes_field():
    return MultiCheckboxField(
        _l("What this helper may do"),
        choices=options(SCOPE_LABELS.items()),
        validators=[DataRequired(_l("Choose at least one thing this helper may do."))],
    )


class ScopeForm(FlaskForm):
    scopes = _scopes_field()
    include_hidden = BooleanField(_l("They may also see the documents I hid from professionals"))


class InviteForm(ScopeForm):
    email = EmailField(
        _l("Email address of their Carnet account"),
        validators=[
            DataRequired(_l("Enter the email address of their Carnet account.")),
            Email(_l("Enter an email address, for example jeanne.martin@example.fr.")),
            Length(max=254),
        ],
    )
    starts_on = DateField(_l("From"), validators=[DataRequired(_l("Enter the first day, for example 14/03/2027."))])
    ends_on = DateField(_l("Until"), validators=[DataRequired(_l("Enter the last day, for example 14/03/2028."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = clock.paris_today()
        if self.starts_on.data is None and not self.is_submitted():
            self.starts_on.data, self.ends_on.data = today, today + timedelta(days=365)

    def validate_starts_on(self, field):
        if field.data and field.data < clock.paris_today():
            raise ValidationError(_l("The first day cannot be in the past."))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The last day comes after the first."))
        if field.data and self.starts_on.data and (field.data - self.starts_on.data).days > LONGEST_DAYS:
            raise ValidationError(_l("A helper is named for three years at most; you can name them again after."))
