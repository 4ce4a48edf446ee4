from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from blueprints.documents import categories
from blueprints.messaging.services import BODY_MAX, SUBJECT_MAX
from core.forms import options
from core.i18n import lazy_gettext as _l


class _Writing(FlaskForm):
    body = TextAreaField(
        _l("Message"), validators=[Optional(), Length(max=BODY_MAX, message=_l("5,000 characters at most."))]
    )
    files = MultipleFileField(_l("Attach files"))
    photo = FileField(_l("Take a photo"))
    documents = SelectMultipleField(_l("Attach documents of the record"), choices=[], validate_choice=True)


class ReplyForm(_Writing):
    pass


class NewThreadForm(_Writing):
    to = SelectField(_l("Recipient"), validators=[DataRequired(_l("Choose to whom you write."))])
    subject = StringField(
        _l("Subject"),
        validators=[
            DataRequired(_l("Give your message a subject.")),
            Length(max=SUBJECT_MAX, message=_l("200 characters at most.")),
        ],
    )


class SaveForm(FlaskForm):
    category = SelectField(_l("Category"), validators=[DataRequired(_l("Choose a category."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = options(categories.choices())
