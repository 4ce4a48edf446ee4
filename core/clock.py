"""One source of "now", so tests can move time (session timeouts, code expiry), and the one
local zone: times are stored in UTC and read in Europe/Paris, whatever zone a measure or a
device came from."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
D = TypeVar("D", date, datetime)

_offset = timedelta(0)
_frozen: datetime | None = None


def utcnow() -> datetime:
    """Aware UTC now, shifted by the test clock when one is set."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def freeze(at: datetime | None) -> None:
    """Stop the clock at `at` (aware); None lets it run again."""
    global _frozen
    _frozen = at


def advance(delta: timedelta) -> None:
    """Move the clock forward, frozen or not."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen = _frozen + delta
    else:
        _offset = _offset + delta


def reset() -> None:
    global _frozen, _offset
    _frozen, _offset = None, timedelta(0)


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive: they are stored in UTC."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=UTC)


def paris(dt: datetime) -> datetime:
    """The same instant in Europe/Paris (naive datetimes are UTC, as stored)."""
    return aware(dt).astimezone(PARIS)


def paris_now() -> datetime:
    """Now on a Paris wall clock: what "today" and "in the future" mean to a person here."""
    return utcnow().astimezone(PARIS)


def paris_today() -> date:
    return paris_now().date()


def paris_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a Paris calendar day, in UTC (23 or 25 hours on the days clocks change)."""
    start = datetime.combine(day, time(0), tzinfo=PARIS)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)
    return start.astimezone(UTC), end.astimezone(UTC)


def years_after(day: D, years: int) -> D:
    """The same calendar day `years` later (earlier if negative); 29 February becomes the 28th in a
    year that has none (`date.replace` would raise: a 500 one day in four years)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def age(born: date, on: date | None = None) -> int:
    """Full years on `on` (today in Paris by default); one born on 29 February has a year more
    on 1 March in the years without a 29th, as `years_after` counts."""
    on = on or paris_today()
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
