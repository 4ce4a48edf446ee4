"""The import form: which kind of file, and the file. CSRF comes with FlaskForm."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField
from wtforms.validators import InputRequired

from core.forms import options
from core.i18n import lazy_gettext as _l


class ImportForm(FlaskForm):
    format = RadioField(
        _l("Kind of file"),
        choices=options(
            [
                ("apple", _l("Apple Health")),  # Apple Santé
                ("fhir", _l("FHIR (health app or hospital)")),  # FHIR (application ou hôpital)
                ("csv", _l("CSV spreadsheet")),  # Tableur CSV
            ]
        ),
        default="apple",
        validators=[InputRequired(_l("Choose the kind of file."))],
    )
    file = FileField(_l("Your file"), validators=[FileRequired(_l("Choose a file."))])


class ConfirmForm(FlaskForm):
    """The preview's button: nothing to fill, only the CSRF token."""
