"""The job's writer: each batch of rows and the counters that describe it, in one short
transaction; rows go in with INSERT ... ON CONFLICT DO NOTHING, so a re-run adds only what
is missing."""

from __future__ import annotations

import os
import sqlite3
import time
from itertools import chain

from sqlalchemy import update

from blueprints.measures.imports.importers.common import Collector
from blueprints.measures.models import Measure, MeasureImport
from core import clock
from core.db import db


def _ids(n: int, head: str | None = None) -> list[str]:
    """n random UUIDs of version 7: a millisecond timestamp, then 74 random bits from one
    urandom call. Still unguessable in a URL, and a batch lands at one end of the primary-key
    index instead of all over it (uuid4() per row showed in profiles, random keys in the index)."""
    h = os.urandom(10 * n).hex()
    head = head or _id_head()
    return [
        f"{head}{h[i : i + 3]}-{'89ab'[int(h[i + 3], 16) & 3]}{h[i + 4 : i + 7]}-{h[i + 7 : i + 19]}"
        for i in range(0, 20 * n, 20)
    ]


def _id_head() -> str:
    """What the UUIDs of one batch share: the millisecond timestamp and the version digit."""
    ms = f"{time.time_ns() // 1_000_000:012x}"
    return f"{ms[:8]}-{ms[8:12]}-7"


_COLUMNS = (
    "id",
    "patient_id",
    "kind",
    "taken_at",
    "utc_offset",
    "value",
    "value2",
    "context",
    "source",
    "source_name",
    "import_id",
    "dedup",
    "created_at",
)
_CONFLICT = "ON CONFLICT (patient_id, kind, taken_at, dedup) DO NOTHING"
# SQLite: the random part of a version-7 UUID (74 bits of its PRNG, seeded from the OS), made
# by SQLite per row with one printf (the timestamp part is bound): a third of the cost of
# building it from hex(randomblob()) pieces.
_SQLITE_ID = (
    "printf('%03x-%x%03x-%012x', random() & 4095, 8 + (random() & 3), random() & 4095, random() & 281474976710655)"
)


class Writer:
    """Writes one batch and the counters that describe it in one short transaction.

    A batch goes in as a few multi-row INSERT ... ON CONFLICT DO NOTHING statements (thousands
    of rows each) with plain positional parameters, never executemany: the driver lets go of
    the GIL once per statement instead of once per row, which matters when the parser runs
    in another thread (with executemany, each row waited for the parser thread to hand the
    GIL back, 5 ms at a time). On SQLite, the rows of a statement are a VALUES list read by
    an INSERT ... SELECT that binds the columns every row shares once and makes the ids;
    elsewhere (PostgreSQL) every row carries its 13 values."""

    def __init__(self, imp: MeasureImport):
        self.imp_id, self.patient_id, self.source = imp.id, imp.patient_id, imp.format
        dialect = db.engine.dialect
        self.created = Measure.__table__.c.created_at.type.bind_processor(dialect) or (lambda v: v)
        self.sqlite = dialect.name == "sqlite"
        self.mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.per = 0  # rows per statement, from the driver's limit on bound parameters
        self.statements: dict[int, str] = {}
        # The job's counters so far (earlier attempts included): a resumed attempt parses the
        # file again from its start, finding the rows earlier attempts stored already there.
        self.base = {
            "added": imp.added or 0,
            "present": imp.present or 0,
            "done_bytes": imp.done_bytes or 0,
            "rejected": imp.rejected or 0,
            "ignored": imp.ignored or 0,
        }
        self.added = self.base["added"]
        self.conflicts = 0  # rows of this attempt already there (earlier attempts' rows among them)

    @property
    def present(self) -> int:
        """Rows already there before the job (a lower bound while re-reading what an earlier
        attempt stored; exact at the end, see run)."""
        return max(self.base["present"], self.conflicts - self.base["added"])

    @present.setter
    def present(self, value: int) -> None:
        """The exact figure, counted at the end of a resumed job."""
        self.base["present"], self.base["added"], self.conflicts = value, 0, value

    def _rows_per_statement(self, conn) -> int:
        if not self.sqlite:
            return 65535 // len(_COLUMNS)  # PostgreSQL's protocol: 65535 parameters at most
        try:
            limit = conn.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        except (AttributeError, sqlite3.Error):
            limit = 999  # SQLite before 3.32
        return max(1, (min(limit, 32766) - 5) // 8)

    def _sql(self, n: int) -> str:
        """The statement for n rows (built once per size: SQLite's statement cache keeps it)."""
        sql = self.statements.get(n)
        if sql is None:
            if self.sqlite:
                sql = (
                    f"INSERT INTO measures ({', '.join(_COLUMNS)}) "  # ?1-?5 first: the rows' ? count on from 6
                    f"SELECT ?1 || {_SQLITE_ID}, ?2, column1, column2, column3, column4, column5, column6, ?3, "
                    f"column7, ?4, column8, ?5 FROM (VALUES {', '.join(['(?, ?, ?, ?, ?, ?, ?, ?)'] * n)}) "
                    f"WHERE true {_CONFLICT}"
                )
            else:
                row = "(" + ", ".join([self.mark] * len(_COLUMNS)) + ")"
                sql = f"INSERT INTO measures ({', '.join(_COLUMNS)}) VALUES {', '.join([row] * n)} {_CONFLICT}"
            if len(self.statements) > 8:
                self.statements.clear()
            self.statements[n] = sql
        return sql

    def _insert(self, rows: list) -> int:
        """Insert the rows (8-tuples, see importers); how many were new."""
        now = self.created(clock.utcnow())
        if self.sqlite and not isinstance(now, str):
            now = str(now)  # what sqlite3's adapter would write, once per batch instead of per row
        conn = db.session.connection()
        if not self.per:
            self.per = self._rows_per_statement(conn)
        pid, src, iid = self.patient_id, self.source, self.imp_id
        shared = (_id_head(), pid, src, iid, now)  # ?1-?5 of SQLite's statement
        added = 0
        for at in range(0, len(rows), self.per):
            part = rows[at : at + self.per]
            if self.sqlite:
                params = tuple(chain(shared, chain.from_iterable(part)))
            else:
                params = tuple(
                    chain.from_iterable(
                        (i, pid, r[0], r[1], r[2], r[3], r[4], r[5], src, r[6], iid, r[7], now)
                        for i, r in zip(_ids(len(part), shared[0]), part)
                    )
                )
            added += conn.exec_driver_sql(self._sql(len(part)), params).rowcount
        return added

    def write(self, rows: list, done_bytes: int, rejected: int, ignored: int) -> None:
        if rows:
            added = self._insert(rows)
            self.added += added
            self.conflicts += len(rows) - added
        base = self.base  # a resumed attempt re-reads the start of the file: never go backwards
        db.session.execute(
            update(MeasureImport)
            .where(MeasureImport.id == self.imp_id)
            .values(
                done_bytes=max(done_bytes, base["done_bytes"]),
                added=self.added,
                present=self.present,
                rejected=max(rejected, base["rejected"]),
                ignored=max(ignored, base["ignored"]),
                heartbeat_at=clock.utcnow(),
            )
        )
        db.session.commit()

    def __call__(self, rows: list, col: Collector) -> None:
        """As a collector's flush: the batch with the collector's counters."""
        self.write(rows, col.done_bytes, col.rejected, col.ignored)
