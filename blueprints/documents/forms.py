from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from blueprints.documents import categories
from blueprints.documents.services import Upload
from core.forms import not_future, options
from core.i18n import lazy_gettext as _l


class _Metadata(FlaskForm):
    category = SelectField(_l("Category"), validators=[DataRequired(_l("Choose a category."))])
    act_date = DateField(
        _l("Date of the consultation or exam"),
        validators=[DataRequired(_l("Enter the date, for example 12/03/2026.")), not_future],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000, message=_l("2,000 characters at most."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = options(categories.choices())


class UploadForm(_Metadata):
    files = MultipleFileField(_l("Files on this device"))
    photo = FileField(_l("Take a photo"))
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200, message=_l("200 characters at most."))])

    def uploads(self) -> list[Upload]:
        """The files chosen and the photo taken; a field left empty sends a part with no name."""
        sent = request.files.getlist(self.files.name) + request.files.getlist(self.photo.name)
        return [Upload(f.stream, f.filename) for f in sent if f and f.filename]

    def described(self) -> dict:
        """What the person said of the files, as add_documents() and deposit() take it."""
        return {
            "category": self.category.data,
            "act_date": self.act_date.data,
            "title": self.title.data,
            "note": self.note.data,
        }


class EditForm(_Metadata):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Give this document a title.")),
            Length(max=200, message=_l("200 characters at most.")),
        ],
    )
