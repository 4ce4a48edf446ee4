"""The form for one measure, shaped by its kind (two values for blood pressure, the meal
context for glucose). Numbers are typed the French way ("72,4") or the English way."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, Optional, ValidationError

from blueprints.measures import kinds, services
from core import clock
from core.forms import options
from core.i18n import lazy_gettext as _l

GLUCOSE_UNITS = {"g/L": "g/L", "mg/dL": "mg/dL", "mmol/L": "mmol/L"}


def _decimal(text) -> float | None:
    if text is None or str(text).strip() == "":
        return None
    cleaned = str(text).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _number(form, field):
    if field.data and _decimal(field.data) is None:
        raise ValidationError(_l("Enter a number, for example 72,4."))


class MeasureForm(FlaskForm):
    value = StringField(
        _l("Value"),
        validators=[DataRequired(_l("Enter the value you measured.")), _number],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    value2 = StringField(
        _l("Diastolic (low number)"),
        validators=[Optional(), _number],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    unit = SelectField(_l("Unit"), choices=options(GLUCOSE_UNITS.items()), default="g/L")
    context = SelectField(_l("When was it measured?"), validators=[Optional()])
    day = DateField(_l("Date"), validators=[DataRequired(_l("Enter the date, for example 14/03/2026."))])
    at = TimeField(_l("Time"), validators=[DataRequired(_l("Enter the time, for example 08:30."))])

    def __init__(self, kind: kinds.Kind, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.context.choices = options(
            [("", _l("Not said"))] + [(k, label) for k, (label, _c) in kinds.MEAL_CONTEXTS.items()]
        )
        if kind.pair:
            self.value.label.text = _l("Systolic (high number)")
            self.value2.validators = [DataRequired(_l("Enter the low number (diastolic).")), _number]
            self.value2.flags.required = True
            self.value2.description = _l(
                "Between %(low)s and %(high)s %(unit)s.",
                low=kinds.DIASTOLIC_RANGE[0],
                high=kinds.DIASTOLIC_RANGE[1],
                unit=kind.unit_label,
            )
        self.value.description = self.expected(kind)
        if not kind.pair:
            del self.value2
        if kind.key != "glucose":
            del self.unit
            del self.context
        if kind.daily:
            del self.at  # a total for the day: kept at local midnight, as imports do

    @staticmethod
    def expected(kind: kinds.Kind) -> str:
        if kind.key == "glucose":
            low, high, unit = services._num(kind.low / 100, 2), services._num(kind.high / 100, 2), "g/L"
        else:
            low, high, unit = (
                services._num(kind.low, kind.decimals),
                services._num(kind.high, kind.decimals),
                kind.unit_label,
            )
        return _l("Between %(low)s and %(high)s %(unit)s.", low=low, high=high, unit=unit)

    def prefill(self, m=None) -> None:
        """Now, in local time, for a new measure; the stored values to correct one."""
        if m is None:
            now = clock.paris_now()
            self.day.data = now.date()
            if self.at is not None:
                self.at.data = now.time().replace(second=0, microsecond=0)
            return
        when = services.local_time(m.taken_at, m.utc_offset)
        self.day.data = when.date()
        if self.at is not None:
            self.at.data = when.time()
        if self.kind.key == "glucose":
            self.unit.data = "g/L"
            self.value.data = services._num(m.value / 100, 2)
            self.context.data = m.context or ""
        else:
            self.value.data = services._num(m.value, self.kind.decimals).replace("\u202f", "").replace("\u00a0", "")
        if self.kind.pair:
            self.value2.data = services._num(m.value2 or 0, 0)

    def validate_day(self, field):
        if field.data and field.data.year < 1900:
            raise ValidationError(_l("Check this date."))
        if field.data and self.at is None and field.data > clock.paris_now().date():
            raise ValidationError(_l("This date is in the future."))

    def validate_at(self, field):
        if self.day.data and field.data:
            local = datetime.combine(self.day.data, field.data, clock.PARIS)
            if local > clock.paris_now() + timedelta(minutes=5):
                raise ValidationError(_l("This moment is in the future."))

    def entry(self) -> services.Entry:
        value = _decimal(self.value.data)
        if self.kind.key == "glucose":
            value = self.kind.convert(value, self.unit.data)
        value2 = _decimal(self.value2.data) if self.kind.pair else None
        context = (self.context.data or None) if self.kind.key == "glucose" else None
        return services.Entry(
            value, value2, context, self.day.data, self.at.data if self.at is not None else time(0, 0)
        )

    def implausible(self, error: kinds.Implausible) -> None:
        """Tie the message to the field that holds the typo, naming the expected range."""
        kind = self.kind
        if error.part == "diastolic":
            low, high = kinds.DIASTOLIC_RANGE
            self.value2.errors = [_l("Enter a low number between %(low)s and %(high)s mmHg.", low=low, high=high)]
        elif error.part == "order":
            self.value2.errors = [_l("The low number (diastolic) must be smaller than the high number (systolic).")]
        elif kind.key == "glucose":
            self.value.errors = [
                _l(
                    "This value is unlikely: enter a blood glucose between %(low)s and %(high)s g/L.",
                    low=services._num(kind.low / 100, 2),
                    high=services._num(kind.high / 100, 2),
                )
            ]
        else:
            self.value.errors = [
                _l(
                    "This value is unlikely: enter a value between %(low)s and %(high)s %(unit)s.",
                    low=services._num(kind.low, kind.decimals),
                    high=services._num(kind.high, kind.decimals),
                    unit=kind.unit_label,
                )
            ]
