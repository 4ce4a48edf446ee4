"""Attempt counters kept in the database, so every worker and host sees the same count.

`Attempt` rows count failures in a sliding window (logins). `hit()` counts in fixed windows
with one atomic upsert, exact under parallel requests on SQLite and PostgreSQL alike: the
count a request gets back includes itself and every request before it (share codes)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, and_, delete, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, db, insert_for, write_intent


class Attempt(Base):
    __tablename__ = "auth_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(24), index=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=clock.utcnow, index=True)


def _key(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def count(scope: str, key: str, window: timedelta = timedelta(hours=1)) -> int:
    since = clock.utcnow() - window
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.scope == scope, Attempt.key == _key(key), Attempt.at > since)
        )
        or 0
    )


def exceeded(scope: str, key: str, limit: int, window: timedelta = timedelta(hours=1)) -> bool:
    return count(scope, key, window) >= limit


def retry_after(scope: str, key: str, limit: int, window: timedelta = timedelta(hours=1)) -> timedelta | None:
    """None while fewer than `limit` attempts sit in the window; else how long until the
    oldest of the newest `limit` leaves it (then one more attempt is allowed)."""
    now = clock.utcnow()
    ats = list(
        db.session.scalars(
            select(Attempt.at)
            .where(Attempt.scope == scope, Attempt.key == _key(key), Attempt.at > now - window)
            .order_by(Attempt.at.desc())
            .limit(limit)
        )
    )
    if len(ats) < limit:
        return None
    return max(ats[-1] + window - now, timedelta(seconds=1))


def recent(scope: str, key: str, window: timedelta) -> tuple[int, datetime | None]:
    """How many attempts in the window, and when the last one was."""
    since = clock.utcnow() - window
    row = db.session.execute(
        select(func.count(), func.max(Attempt.at))
        .select_from(Attempt)
        .where(Attempt.scope == scope, Attempt.key == _key(key), Attempt.at > since)
    ).one()
    return row[0] or 0, clock.aware(row[1]) if row[1] is not None else None


def fail(scope: str, key: str) -> None:
    """Count one attempt (a failure, or a code sent) in a sliding window."""
    write_intent()
    db.session.add(Attempt(scope=scope, key=_key(key), at=clock.utcnow()))
    db.session.flush()


def clear(*counters: tuple[str, str]) -> None:
    """Forget the attempts of these (scope, key) counters, in one statement on the table (the
    ORM's bulk delete would look for loaded Attempt objects to update first: none ever are)."""
    write_intent()
    t = Attempt.__table__
    db.session.execute(
        delete(t).where(or_(*(and_(t.c.scope == scope, t.c.key == _key(key)) for scope, key in counters)))
    )


def purge(older_than: timedelta = timedelta(days=2)) -> int:
    cut = clock.utcnow() - older_than
    return db.session.execute(delete(Attempt).where(Attempt.at < cut)).rowcount or 0


class Counter(Base):
    __tablename__ = "attempt_counters"

    scope: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)  # start of the window, epoch seconds
    n: Mapped[int] = mapped_column(Integer, default=0)


def hit(scope: str, key: str, window: timedelta = timedelta(hours=1)) -> int:
    """Count one attempt and return the count of this window, this one included."""
    write_intent()
    seconds = int(window.total_seconds())
    start = int(clock.utcnow().timestamp()) // seconds * seconds
    stmt = insert_for(Counter).values(scope=scope, key=_key(key), window=start, n=1)
    stmt = stmt.on_conflict_do_update(index_elements=["scope", "key", "window"], set_={"n": Counter.n + 1}).returning(
        Counter.n
    )
    return db.session.execute(stmt).scalar_one()


def seconds_left(window: timedelta = timedelta(hours=1)) -> int:
    """Seconds until the fixed window hit() counts in ends (at least 1)."""
    seconds = int(window.total_seconds())
    return max(1, seconds - int(clock.utcnow().timestamp()) % seconds)


def current(scope: str, key: str, window: timedelta = timedelta(hours=1)) -> int:
    """The count of this window so far, without counting anything."""
    seconds = int(window.total_seconds())
    start = int(clock.utcnow().timestamp()) // seconds * seconds
    return (
        db.session.scalar(
            select(Counter.n).where(Counter.scope == scope, Counter.key == _key(key), Counter.window == start)
        )
        or 0
    )


def purge_counters(older_than: timedelta = timedelta(days=2)) -> int:
    cut = int((clock.utcnow() - older_than).timestamp())
    return db.session.execute(delete(Counter).where(Counter.window < cut)).rowcount or 0
