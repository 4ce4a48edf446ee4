"""Agenda forms: an appointment (the holder's own, or a professional's proposal), another time
asked for, the reminder, and an item of the prevention calendar marked done."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from core import clock
from core.forms import options
from core.i18n import lazy_gettext as _l

# Reminder delays offered, in minutes before the appointment ("" : no reminder).
REMINDERS = (
    ("", _l("No reminder")),
    ("60", _l("1 hour before")),
    ("180", _l("3 hours before")),
    ("1440", _l("The day before")),
    ("2880", _l("2 days before")),
    ("10080", _l("1 week before")),
)


def _max(n: int):
    return Length(max=n, message=_l("%(num)d characters at most.", num=n))


def _not_past(form, field):
    if field.data and field.data < clock.paris_today():
        raise ValidationError(_l("This date has passed: choose a day from today on."))
    if field.data and field.data.year > clock.paris_today().year + 5:
        raise ValidationError(_l("Check this date."))


def _reminder(value):
    return int(value) if value not in (None, "", "None") else None


class _When(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired(_l("Enter the date, for example 14/03/2027.")), _not_past])
    at = TimeField(_l("Time"), validators=[DataRequired(_l("Enter the time, for example 09:30."))])

    def starts_at(self) -> datetime:
        """The Paris wall-clock time the person typed, in UTC (as stored)."""
        return datetime.combine(self.day.data, self.at.data or time(0), tzinfo=clock.PARIS).astimezone(UTC)

    def validate_at(self, field):
        if self.day.data and field.data and self.starts_at() <= clock.utcnow():
            raise ValidationError(_l("This time has passed: choose a later one."))


class AppointmentForm(_When):
    """The holder's own appointment, or a professional's proposal (without `with_name`, `notes`
    and the reminder, which are the holder's)."""

    with_name = StringField(
        _l("With"),
        validators=[DataRequired(_l("Say whom you will see, for example Dr Martin, dentist.")), _max(200)],
    )
    duration = IntegerField(
        _l("Duration (minutes)"),
        default=30,
        validators=[
            DataRequired(_l("Enter a duration in minutes.")),
            NumberRange(5, 600, message=_l("Between 5 minutes and 10 hours.")),
        ],
    )
    place = StringField(
        _l("Place"), validators=[Optional(), _max(300)], description=_l("An address, a clinic, a video call…")
    )
    reason = StringField(_l("Reason"), validators=[Optional(), _max(300)])
    notes = TextAreaField(
        _l("Notes"),
        validators=[Optional(), _max(2000)],
        description=_l("Documents to bring, fasting, questions to ask…"),
    )
    reminder = SelectField(_l("Reminder"), choices=options(REMINDERS), default="1440", coerce=str)

    def reminder_minutes(self) -> int | None:
        return _reminder(self.reminder.data)

    def appointment(self) -> dict:
        """What the holder entered, as appointments.add() and update() take it (a ProposalForm has
        no `with_name` nor reminder: a proposal is made by `appointments.propose`)."""
        return {
            "with_name": self.with_name.data,
            "starts_at": self.starts_at(),
            "duration": self.duration.data,
            "place": self.place.data,
            "reason": self.reason.data,
            "notes": self.notes.data,
            "reminder": self.reminder_minutes(),
        }


class ProposalForm(AppointmentForm):
    """What a professional proposes: they are the `with`; the reminder is the holder's choice."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.with_name
        del self.reminder


class AnswerForm(FlaskForm):
    """Accepting a proposal: the reminder the holder wants."""

    reminder = SelectField(_l("Reminder"), choices=options(REMINDERS), default="1440", coerce=str)

    def reminder_minutes(self) -> int | None:
        return _reminder(self.reminder.data)


class CounterForm(_When):
    """Another time the holder would prefer."""


class MarkForm(FlaskForm):
    """An item of the prevention calendar marked done: when, and what proves it, if anything."""

    item = HiddenField(validators=[DataRequired()])
    done_on = DateField(_l("Done on"), validators=[Optional()])
    link = SelectField(_l("Linked to"), choices=options([("", _l("Nothing"))]), coerce=str, validate_choice=True)

    def validate_done_on(self, field):
        if field.data and field.data > clock.paris_today():
            raise ValidationError(_l("This date is in the future."))
        if field.data and field.data < date(1900, 1, 1):
            raise ValidationError(_l("Check this date."))


class ItemForm(FlaskForm):
    """Dismissing an item, or bringing it back."""

    item = HiddenField(validators=[DataRequired()])


class SettingsForm(FlaskForm):
    prevention = BooleanField(_l("Show my prevention calendar"))


class FeedForm(FlaskForm):
    details = BooleanField(
        _l("Include reasons and notes"),
        description=_l("Off: your calendar app only sees when, where and with whom."),
    )
