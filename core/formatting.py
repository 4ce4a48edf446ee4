"""Dates, numbers and money the way a French reader expects them ("12 mars 2026",
"aujourd'hui à 9 h 30", "72,4 kg", "23,50 €"), through Babel, in Europe/Paris."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import lru_cache

from babel import Locale, dates as babel_dates, numbers as babel_numbers
from flask import Flask

from core import clock
from core.i18n import current_locale, gettext as _


def clock_time(value: datetime | None) -> str:
    """ "9 h 30": the time of day alone, in Europe/Paris."""
    return _time(value) if value is not None else ""


def _clock_pattern(locale) -> str:
    return "H'\u00a0h\u00a0'mm" if locale.language == "fr" else "h:mm a"  # no line break in "9 h 30"


def _time(dt: datetime) -> str:
    local = clock.paris(dt)
    return _time_of_day(local.hour, local.minute, current_locale())


@lru_cache(maxsize=4096)
def _time_of_day(hour: int, minute: int, locale) -> str:
    """A wall-clock time in this language: the patterns above read the hour and minute alone,
    and a day has 1,440 of them (docs/performance.md, 49)."""
    return babel_dates.format_time(time(hour, minute), _clock_pattern(locale), locale=locale)


def when(value: datetime, pattern: str) -> str:
    """flask_babel.format_datetime(value, pattern): in Paris time, in the reader's language,
    without Flask-Babel's lookups of both per call (a chart's table writes one per row). A
    pattern of the date alone is written once per local day."""
    locale = current_locale()
    if _date_only(pattern):
        return _date_text(clock.paris(value).date(), pattern, locale)
    return babel_dates.format_datetime(value, pattern, tzinfo=clock.PARIS, locale=locale)


_DATE_FIELDS = frozenset("GyYuUrQqMLlwWdDFgE")


@lru_cache(maxsize=64)
def _date_only(pattern: str) -> bool:
    """Whether a Babel pattern reads nothing but the date (no hour, minute, zone...)."""
    fields = [value[0] for kind, value in babel_dates.tokenize_pattern(pattern) if kind == "field"]
    return all(f in _DATE_FIELDS for f in fields)


def date_text(value: date, pattern: str) -> str:
    """flask_babel.format_date(value, pattern) for a date (which it never moves to another zone):
    in the reader's language, Babel asked once per date and pattern (a chart's ticks, its table's
    periods and description: a dozen a chart)."""
    return _date_text(value, pattern, current_locale())


@lru_cache(maxsize=4096)
def _date_text(value: date, pattern: str, locale) -> str:
    return babel_dates.format_date(value, pattern, locale=locale)


# Babel formatting is slow and pages show the same few dates again and again: the filters
# below remember their answers, keyed on everything the answer depends on (the value, the
# language and, for "today"/"yesterday", the local date of today). Every date is shown in
# Paris time (core.clock); the application's Babel zone is that one (tested).


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _date_text(clock.paris(value).date(), "d MMMM y", current_locale())
    return _day(value, current_locale())


@lru_cache(maxsize=2048)
def _day(value: date, locale) -> str:
    return babel_dates.format_date(value, "long", locale=locale)


def moment(value: datetime | None) -> str:
    """Today / yesterday / a date, with the local time."""
    if value is None:
        return ""
    local = clock.paris(value)
    return _moment(local.date(), local.hour, local.minute, clock.paris_today(), current_locale())


def moments() -> Callable[[datetime], str]:
    """moment() for a page of rows (history's fifty): today's date and the language asked once."""
    today, locale = clock.paris_today(), current_locale()

    def write(value: datetime) -> str:
        local = clock.paris(value)
        return _moment(local.date(), local.hour, local.minute, today, locale)

    return write


@lru_cache(maxsize=4096)
def _moment(day: date, hour: int, minute: int, today: date, locale) -> str:
    at = _time_of_day(hour, minute, locale)
    if day == today:
        return _("today at %(time)s", time=at)
    if (today - day).days == 1:
        return _("yesterday at %(time)s", time=at)
    return _("%(date)s at %(time)s", date=_date_text(day, "d MMMM y", locale), time=at)


def utc_offset(minutes: int) -> str:
    """ "UTC−5", "UTC+5:30", "UTC" (a true minus sign)."""
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "\u2212"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def elsewhere(value: datetime | None) -> str:
    """For a time recorded in another offset than Paris's at that instant (a measure taken
    abroad): "8 h 05 local time, UTC−5"; "" when it was Paris time anyway. Every time is shown
    in Paris time; this says once what the clock read where it was taken."""
    if value is None or value.tzinfo is None:
        return ""
    here = value.utcoffset()
    paris = clock.paris(value).utcoffset()
    if here == paris:
        return ""
    local = _time_of_day(value.hour, value.minute, current_locale())  # the clock where it was taken
    return _("%(time)s local time, %(offset)s", time=local, offset=utc_offset(int(here.total_seconds() // 60)))


def instants(pattern: str) -> Callable[[int, int | None], str]:
    """when() and elsewhere() for the rows of a measures table, each given as its Unix time and
    the UTC offset (minutes) it was taken at: "12 mars 2026 à 9 h 30 (8 h 30 heure locale, UTC)".
    The language and both sentences are asked once per table, each instant converted once."""
    if not _date_only(pattern):
        raise ValueError(f"a date's pattern, not {pattern!r}")
    locale = current_locale()
    at_words = _("%(date)s at %(time)s")  # without values: the sentence itself, filled in per row
    local_words = _("%(time)s local time, %(offset)s")

    def write(taken_at: int, offset: int | None) -> str:
        here = datetime.fromtimestamp(taken_at, clock.PARIS)
        text = at_words % {
            "date": _date_text(here.date(), pattern, locale),
            "time": _time_of_day(here.hour, here.minute, locale),
        }
        minutes = offset or 0
        if here.utcoffset() == timedelta(minutes=minutes):
            return text
        there = datetime.fromtimestamp(taken_at, timezone(timedelta(minutes=minutes)))
        note = local_words % {"time": _time_of_day(there.hour, there.minute, locale), "offset": utc_offset(minutes)}
        return f"{text} ({note})"

    return write


def measure_moment(value: datetime | None) -> str:
    """When a measure was taken, in Paris time, and the local time too if it was elsewhere."""
    note = elsewhere(value)
    return moment(value) + (f" ({note})" if note else "")


@lru_cache(maxsize=64)
def _pattern(pattern: str) -> babel_numbers.NumberPattern:
    return babel_numbers.parse_pattern(pattern)


def decimal(value, pattern: str) -> str:
    """flask_babel.format_decimal(value, format=pattern): a measures page writes some forty
    numbers. For a plain pattern ("#,##0.#": groups of three, no padding, scale or exponent),
    Babel's own steps with the pattern and the language's signs read once: the value as a
    Decimal of its text, rounded as Babel rounds it (the context's half-even), trailing zeros
    dropped down to the pattern's minimum; any other pattern or value is Babel's."""
    locale = current_locale()
    plan = _decimal_plan(pattern, locale)
    if plan is not None:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        if number.is_finite():
            return _planned(number, plan)
    return babel_numbers.format_decimal(value, format=_pattern(pattern), locale=locale)


@lru_cache(maxsize=64)
def _decimal_plan(pattern: str, locale) -> tuple | None:
    parsed = _pattern(pattern)
    if parsed.grouping != (3, 3) or parsed.int_prec[0] != 1 or parsed.scale or parsed.exp_prec or "@" in pattern:
        return None
    plan = (
        parsed.prefix,
        parsed.suffix,
        babel_numbers.get_group_symbol(locale, numbering_system="latn"),
        babel_numbers.get_decimal_symbol(locale, numbering_system="latn"),
        Decimal(1).scaleb(-parsed.frac_prec[1]),
        parsed.frac_prec[0],
    )
    for sample in (1234567.891, -1234.5, 0.05, -0.04, 7):  # a language whose rules differ keeps Babel's
        if _planned(Decimal(str(sample)), plan) != babel_numbers.format_decimal(sample, format=parsed, locale=locale):
            return None
    return plan


def _planned(number: Decimal, plan: tuple) -> str:
    prefix, suffix, group, point, quantum, min_frac = plan
    negative = int(number.is_signed())
    whole, _, frac = f"{abs(number).quantize(quantum):,f}".partition(".")
    frac = frac.rstrip("0").ljust(min_frac, "0")
    return prefix[negative] + whole.replace(",", group) + (point + frac if frac else "") + suffix[negative]


def number(value, digits: int = 1) -> str:
    if value is None:
        return ""
    return decimal(value, f"#,##0.{'#' * digits}" if digits else "#,##0")


def money(cents: int | None) -> str:
    if cents is None:
        return ""
    if type(cents) is not int:  # a sum read as a Decimal; a fraction of a cent is Babel's to round
        if cents != int(cents):
            return babel_numbers.format_currency(cents / 100, "EUR", locale=current_locale())
        cents = int(cents)
    return euros(cents, euro_pattern(str(current_locale())))


@lru_cache(maxsize=16)
def euro_pattern(locale: str) -> tuple[str, str, str, str, bool]:
    """(group separator, decimal sign, minus, text around the number, symbol first?) of the
    euro in a locale, from Babel's own data: once per language, never per amount (Babel's
    format_currency also looks up the currency's plural name at every call)."""
    loc = Locale.parse(locale)
    symbols = loc.number_symbols.get("latn", loc.number_symbols) if hasattr(loc.number_symbols, "get") else {}
    sample = babel_numbers.format_currency(1.0, "EUR", locale=loc)
    group = symbols.get("group", ",")
    decimal = symbols.get("decimal", ".")
    minus = symbols.get("minusSign", "-")
    first = sample.index("€") < sample.index("1")
    gap = (
        sample[sample.index("€") + 1 : sample.index("1")]
        if first
        else sample[sample.rindex("0") + 1 : sample.index("€")]
    )
    return group, decimal, minus, gap, first


def euros(cents: int, pattern: tuple[str, str, str, str, bool]) -> str:
    """An amount in cents as Babel writes euros in the language of `pattern` (euro_pattern())."""
    group, decimal, minus, gap, first = pattern
    whole, rest = divmod(abs(cents), 100)
    digits = f"{whole:,}".replace(",", group) + f"{decimal}{rest:02d}"
    text = f"€{gap}{digits}" if first else f"{digits}{gap}€"
    return f"{minus}{text}" if cents < 0 else text


def filesize(size: int | None) -> str:
    """ "850 Ko", "2,4 Mo": a size as a French reader expects it (1 Ko = 1024 bytes)."""
    if size is None:
        return ""
    if size < 1024 * 1024:
        return _("%(size)s KB", size=decimal(max(1, round(size / 1024)), "#,##0"))
    return _("%(size)s MB", size=decimal(size / (1024 * 1024), "#,##0.#"))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        day=day,
        moment=moment,
        clock_time=clock_time,
        number=number,
        money=money,
        filesize=filesize,
        measure_moment=measure_moment,
    )
