"""One source of "now", so tests can move time (session timeouts, code expiry)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

_offset = timedelta(0)
_frozen: datetime | None = None


def utcnow() -> datetime:
    """Aware UTC now, shifted by the test clock when one is set."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc) + _offset


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
    return dt.replace(tzinfo=timezone.utc)
