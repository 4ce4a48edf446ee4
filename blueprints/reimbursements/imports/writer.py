"""The job's writer for statement lines: each batch in one short transaction, with the
counters that describe it. A line whose reference is new goes in; one already there with the
same content is counted as present; one with other content replaces the stored version (a
correction), unless it is older than it (a stale re-send)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select, update

from blueprints.measures.models import MeasureImport
from blueprints.reimbursements.imports.rows import FIELDS, digest
from blueprints.reimbursements.models import Reimbursement, search_text
from core import clock
from core.clock import aware
from core.db import db, new_id

LOOKUP = 500  # references per IN (...) when reading what is stored


def values(row: tuple, folded: dict | None = None) -> dict:
    """A row tuple → the columns it sets. `folded`: the search words of (act, provider) made
    earlier in the same batch (a statement repeats a few acts and names thousands of times)."""
    v = dict(zip(FIELDS, row))
    v["care_date"] = date.fromisoformat(v["care_date"])
    v["paid_on"] = date.fromisoformat(v["paid_on"]) if v["paid_on"] else None
    v["issued_at"] = datetime.fromisoformat(v["issued_at"]).replace(tzinfo=UTC) if v["issued_at"] else None
    v["unmapped"] = json.loads(v["unmapped"]) if v["unmapped"] else None
    key = (v["act"], v["provider"])
    words = folded.get(key) if folded is not None else None
    if words is None:
        words = search_text(v["act"], v["provider"], None)
        if folded is not None:
            folded[key] = words
    v["search_text"] = f"{words} {search_text(None, None, v['reference'])}".strip()
    return v


class Writer:
    """Writes the lines of one holder's import; `replaced` counts the corrections."""

    def __init__(self, imp: MeasureImport, source: str | None = None):
        self.imp_id, self.patient_id = imp.id, imp.patient_id
        self.source = source or imp.format
        options = imp.options or {}
        self.added, self.present, self.replaced = imp.added or 0, imp.present or 0, options.get("replaced", 0)
        self.done_bytes = imp.done_bytes or 0
        self._sql: str | None = None  # the INSERT, built on first use

    def _stored(self, references: list[str]) -> dict[str, tuple]:
        R = Reimbursement
        found: dict[str, tuple] = {}
        for at in range(0, len(references), LOOKUP):
            part = references[at : at + LOOKUP]
            rows = db.session.execute(
                select(R.reference, R.id, R.digest, R.issued_at, R.revision).where(
                    R.patient_id == self.patient_id, R.reference.in_(part)
                )
            )
            found.update({r.reference: (r.id, r.digest, r.issued_at, r.revision) for r in rows})
        return found

    def apply(self, rows: list[tuple]) -> None:
        """Insert, recognise or replace each line (the last of a reference in the batch wins)."""
        latest = {row[0]: row for row in rows}
        self.present += len(rows) - len(latest)
        stored = self._stored(list(latest))
        now = clock.utcnow()
        new: list[dict] = []
        folded: dict = {}  # this batch's only: never outlives it
        for reference, row in latest.items():
            v = values(row, folded)
            v["digest"] = digest(row)
            was = stored.get(reference)
            if was is None:
                v.update(id=new_id(), patient_id=self.patient_id, source=self.source, import_id=self.imp_id)
                v.update(revision=1, created_at=now, updated_at=now)
                new.append(v)
            elif was[1] == v["digest"] or (was[2] and v["issued_at"] and v["issued_at"] < aware(was[2])):
                self.present += 1
            else:
                v.update(source=self.source, import_id=self.imp_id, revision=was[3] + 1, updated_at=now)
                db.session.execute(update(Reimbursement).where(Reimbursement.id == was[0]).values(**v))
                self.replaced += 1
        if new:
            self._insert(new)
            self.added += len(new)

    def _insert(self, new: list[dict]) -> None:
        """SQLite: one executemany of plain tuples, each column's bind processor (dates, the
        UTC datetime type, JSON) applied here once per value, without SQLAlchemy's per-row
        parameter building, which cost more than SQLite's own work."""
        conn = db.session.connection()
        if conn.dialect.name != "sqlite":  # PostgreSQL casts its JSON parameters: SQLAlchemy writes them
            conn.execute(insert(Reimbursement.__table__), new)
            return
        if self._sql is None:
            table = Reimbursement.__table__
            dialect = conn.dialect
            self._columns = [c.name for c in table.columns]
            self._processors = [c.type.bind_processor(dialect) for c in table.columns]
            mark = "?" if dialect.paramstyle == "qmark" else "%s"
            names = ", ".join(self._columns)
            self._sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join([mark] * len(self._columns))})"
        columns, processors = self._columns, self._processors
        params = [
            tuple(
                p(v.get(c)) if p is not None and v.get(c) is not None else v.get(c) for c, p in zip(columns, processors)
            )
            for v in new
        ]
        conn.exec_driver_sql(self._sql, params)

    def write(self, rows: list, done_bytes: int, rejected: int, ignored: int) -> None:
        if rows:
            self.apply(rows)
        self.done_bytes = max(done_bytes, self.done_bytes)
        imp = db.session.get(MeasureImport, self.imp_id)
        imp.done_bytes, imp.added, imp.present = self.done_bytes, self.added, self.present
        imp.rejected, imp.ignored, imp.heartbeat_at = rejected, ignored, clock.utcnow()
        imp.options = {**(imp.options or {}), "replaced": self.replaced}
        db.session.commit()

    def __call__(self, rows: list, col) -> None:
        self.write(rows, col.done_bytes, col.rejected, col.ignored)


def stored(import_id: str) -> int:
    """Lines an import brought in (new ones; corrections are counted apart)."""
    R = Reimbursement
    return db.session.scalar(select(func.count()).where(R.import_id == import_id, R.revision == 1)) or 0
