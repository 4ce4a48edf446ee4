"""The job's writer for statement lines: each batch in one short transaction, with the
counters that describe it. A line whose reference is new goes in; one already there with the
same content is counted as present; one with other content replaces the stored version (a
correction), unless it is older than it (a stale re-send).

A complementary insurer's EOB (its row's `related` set, see imports/eob.py) adds no line of its
own when the AMO's line of the same act is there: it fills that line's AMC share and lowers its
reste à charge (`amc_reference` remembers which EOB did, so sending it again changes nothing
and a corrected one replaces the share). The AMO's line is the one naming the same claim, or
else the one of the same day, provider and nature. When the AMC's EOB comes first, it is kept
as a line of its own (reference = amc_reference), shown as what the mutuelle paid; the AMO's
line, when it comes, takes its share over and that waiting line is removed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, insert, or_, select, update

from blueprints.measures.models import MeasureImport
from blueprints.reimbursements.imports.rows import FIELDS, INDEX, digest
from blueprints.reimbursements.models import Reimbursement, search_text
from core import clock
from core.clock import aware
from core.db import db, new_id

LOOKUP = 500  # references per IN (...) when reading what is stored
RELATED = INDEX["related"]


def values(row: tuple, folded: dict | None = None) -> dict:
    """A row tuple → the columns it sets. `folded`: the search words of (act, provider) made
    earlier in the same batch (a statement repeats a few acts and names thousands of times)."""
    v = dict(zip(FIELDS, row))
    v["care_date"] = date.fromisoformat(v["care_date"])
    v["paid_on"] = date.fromisoformat(v["paid_on"]) if v["paid_on"] else None
    v["issued_at"] = datetime.fromisoformat(v["issued_at"]).replace(tzinfo=UTC) if v["issued_at"] else None
    v["unmapped"] = json.loads(v["unmapped"]) if v["unmapped"] else None
    v.pop("related", None)  # how the row is applied, not a column
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
        self.completed = options.get("completed", 0)  # AMO lines an AMC's EOB filled
        self._waiting: bool | None = None  # whether AMC-only lines wait in this space (asked once)
        self.done_bytes = imp.done_bytes or 0
        self._sql: str | None = None  # the INSERT, built on first use

    def _stored(self, references: list[str]) -> dict[str, tuple]:
        R = Reimbursement
        found: dict[str, tuple] = {}
        for at in range(0, len(references), LOOKUP):
            part = references[at : at + LOOKUP]
            rows = db.session.execute(
                select(R.reference, R.id, R.digest, R.issued_at, R.revision, R.amc, R.amc_reference).where(
                    R.patient_id == self.patient_id, R.reference.in_(part)
                )
            )
            found.update({r.reference: tuple(r)[1:] for r in rows})
        return found

    def apply(self, rows: list[tuple]) -> None:
        """The AMO's lines (and statement lines) first, then what complementary insurers paid."""
        primary = [row for row in rows if row[RELATED] is None]
        if primary:
            self._apply_primary(primary)
        for row in rows:
            if row[RELATED] is not None:
                self._apply_complementary(row)

    def _apply_primary(self, rows: list[tuple]) -> None:
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
                if was[5] and was[5] != reference and not v["amc"]:  # a mutuelle's share stays
                    v.update(amc=was[4], amc_reference=was[5], remainder=v["remainder"] - was[4])
                v.update(source=self.source, import_id=self.imp_id, revision=was[3] + 1, updated_at=now)
                db.session.execute(update(Reimbursement).where(Reimbursement.id == was[0]).values(**v))
                self.replaced += 1
        if new:
            self._take_waiting(new)
            self._insert(new)
            self.added += len(new)

    def _take_waiting(self, new: list[dict]) -> None:
        """New AMO lines take over the share of AMC's EOBs that came before them."""
        R = Reimbursement
        waits = select(R).where(
            R.patient_id == self.patient_id, R.amc_reference.is_not(None), R.amc_reference == R.reference
        )
        if self._waiting is None:  # once per import: a statement's every batch need not ask again
            self._waiting = db.session.scalar(select(waits.exists())) or False
        if not self._waiting:
            return
        waiting = list(db.session.scalars(waits.order_by(R.created_at)))
        self._waiting = bool(waiting)
        for w in waiting:
            for v in new:
                same_claim = w.claim_ref is not None and w.claim_ref in (v["claim_ref"], v["reference"])
                same_act = (w.care_date, w.provider, w.nature) == (v["care_date"], v["provider"], v["nature"])
                if not v["amc"] and not v.get("amc_reference") and (same_claim or same_act):
                    v.update(amc=w.amc, amc_reference=w.reference, remainder=v["remainder"] - w.amc)
                    db.session.execute(delete(R).where(R.id == w.id))
                    self.completed += 1
                    break

    def _target(self, v: dict, claims: set[str]) -> Reimbursement | None:
        """The AMO's line an AMC's EOB completes: the one naming the same claim, else the one
        of the same day, provider and nature that no other AMC's EOB filled yet."""
        R = Reimbursement
        lines = select(R).where(R.patient_id == self.patient_id)
        if claims:
            by_claim = lines.where(
                or_(R.claim_ref.in_(claims), R.reference.in_(claims)),
                or_(R.amc_reference.is_(None), R.amc_reference != R.reference),
            )
            found = db.session.scalar(by_claim.order_by(R.created_at).limit(1))
            if found is not None:
                return found
        same_act = lines.where(
            R.care_date == v["care_date"],
            R.provider == v["provider"],
            R.nature == v["nature"],
            R.amc_reference.is_(None),
        )
        return db.session.scalar(same_act.order_by(R.created_at, R.id).limit(1))

    def _apply_complementary(self, row: tuple) -> None:
        R = Reimbursement
        v = values(row)
        reference, share = v["reference"], v["amc"]
        related = json.loads(row[RELATED])
        filled = db.session.scalar(select(R).where(R.patient_id == self.patient_id, R.amc_reference == reference))
        if filled is not None and filled.reference != reference:  # it completed an AMO line
            if filled.amc == share:
                self.present += 1
            else:
                filled.remainder, filled.amc = filled.remainder + filled.amc - share, share
                self.replaced += 1
            return
        if filled is None:
            claims = set(related) | ({v["claim_ref"]} if v["claim_ref"] else set())
            target = self._target(v, claims)
            if target is not None:
                target.remainder, target.amc = target.remainder + target.amc - share, share
                target.amc_reference = reference
                self.completed += 1
                return
        v["claim_ref"] = related[0] if related else v["claim_ref"]
        v.update(amc_reference=reference, digest=digest(row), source=self.source, import_id=self.imp_id)
        if filled is None:  # the AMO's line is not there yet: this one waits for it
            v.update(id=new_id(), patient_id=self.patient_id, revision=1, created_at=clock.utcnow())
            v["updated_at"] = v["created_at"]
            self._insert([v])
            self.added += 1
            self._waiting = True
        elif filled.digest == v["digest"]:
            self.present += 1
        else:
            v.update(revision=filled.revision + 1, updated_at=clock.utcnow())
            db.session.execute(update(R).where(R.id == filled.id).values(**v))
            self.replaced += 1

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
        imp.options = {**(imp.options or {}), "replaced": self.replaced, "completed": self.completed}
        db.session.commit()

    def __call__(self, rows: list, col) -> None:
        self.write(rows, col.done_bytes, col.rejected, col.ignored)


def stored(import_id: str) -> int:
    """Lines an import brought in (new ones; corrections are counted apart)."""
    R = Reimbursement
    return db.session.scalar(select(func.count()).where(R.import_id == import_id, R.revision == 1)) or 0
