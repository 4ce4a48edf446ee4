from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from blueprints.auth.forms import NewLetterForm
from core.forms import options
from core.i18n import lazy_gettext as _l


class OppositionForm(NewLetterForm):
    """The details of the letter (NIR and birth date checked as for a new letter), its code, and
    an explicit confirmation: the deletion cannot be undone."""

    code = StringField(
        _l("Code from the letter"), validators=[DataRequired(_l("Enter the code from your letter.")), Length(max=40)]
    )
    confirm = BooleanField(
        _l("I understand that the space and everything in it will be deleted for good."),
        validators=[DataRequired(_l("Tick this box to confirm your objection."))],
    )


class CloseForm(FlaskForm):
    when = RadioField(
        _l("What happens to my data"),
        choices=options(
            [
                ("archive", _l("Keep it closed for 10 years (I may ask to reopen it), then delete it")),
                ("delete", _l("Delete everything as soon as possible")),
            ]
        ),
        default="archive",
        validators=[InputRequired(_l("Choose what happens to your data."))],
    )
    confirm = BooleanField(
        _l("I understand that nobody, not even me, will be able to open my space any more."),
        validators=[DataRequired(_l("Tick this box to confirm the closure."))],
    )
