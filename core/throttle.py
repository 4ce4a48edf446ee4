"""Failed-attempt counters kept in the database, so every worker and host sees the same count."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, db, write_intent


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
    return db.session.scalar(
        select(func.count()).select_from(Attempt)
        .where(Attempt.scope == scope, Attempt.key == _key(key), Attempt.at > since)
    ) or 0


def exceeded(scope: str, key: str, limit: int, window: timedelta = timedelta(hours=1)) -> bool:
    return count(scope, key, window) >= limit


def fail(scope: str, key: str) -> None:
    write_intent()
    db.session.add(Attempt(scope=scope, key=_key(key), at=clock.utcnow()))
    db.session.flush()


def clear(scope: str, key: str) -> None:
    db.session.execute(delete(Attempt).where(Attempt.scope == scope, Attempt.key == _key(key)))


def purge(older_than: timedelta = timedelta(days=2)) -> int:
    cut = clock.utcnow() - older_than
    return db.session.execute(delete(Attempt).where(Attempt.at < cut)).rowcount or 0
