"""The choices of the "Ma synthèse" screen: the language of the PDF, what goes on the card."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired, ValidationError

from blueprints.profile.synthesis import card
from blueprints.sharing.forms import MultiCheckboxField
from core.forms import options
from core.i18n import LANGUAGES, lazy_gettext as _l


class LanguageForm(FlaskForm):
    lang = RadioField(_l("Language of the PDF"), validators=[InputRequired(_l("Choose a language."))])

    def __init__(self, *args, current: str = "fr", **kwargs):
        super().__init__(*args, **kwargs)
        self.lang.choices = options(LANGUAGES.items())
        if self.lang.data is None:
            self.lang.data = current if current in LANGUAGES else "fr"


class KeepForm(FlaskForm):
    """Only the CSRF token: the language comes with the A4 form's choice (printing.language)."""


class CardForm(LanguageForm):
    items = MultiCheckboxField(_l("What goes on the card"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.items.choices = options(card.choices())
        self.items.flags.required = True  # at least one (validate_items): not "(optional)" on the screen

    def validate_items(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one thing to put on the card."))
