"""Forms of the reimbursement pages. CSRF comes with FlaskForm."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

from core.i18n import lazy_gettext as _l


class LinkForm(FlaskForm):
    """Link the act to a document (its id), or unlink it (empty)."""

    document_id = HiddenField()


class StatementUploadForm(FlaskForm):
    file = FileField(_l("Your statement file"), validators=[FileRequired(_l("Choose a file."))])
