"""Form rules shared by every blueprint."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from wtforms import SelectChoice
from wtforms.validators import ValidationError

from core import clock
from core.i18n import lazy_gettext as _l


def not_future(form, field):
    """A date that has happened: "today" is the Paris day, so just after midnight in Paris
    today's document is not refused as future (UTC is still on yesterday)."""
    if field.data and field.data > clock.paris_today():
        raise ValidationError(_l("This date is in the future."))
    if field.data and field.data < date(1900, 1, 1):
        raise ValidationError(_l("Check this date."))


def options(pairs: Iterable[tuple]) -> list[SelectChoice]:
    """A select's or radio's choices from (value, label) pairs, as WTForms takes them (it reads
    bare tuples no longer from 3.4)."""
    return [SelectChoice(value, label) for value, label in pairs]
