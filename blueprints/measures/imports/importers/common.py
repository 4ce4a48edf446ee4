"""What the three importers share: the collector every value goes through (plausibility,
dedup key, rejection reasons, batches), the error that refuses a whole file, and a
file-like view over the decrypted chunks of a blob.

Importers never touch the database: they hand rows to a `Collector`, whose `flush`
callback (the job's batch writer) writes them. A row is a plain tuple, so a million of
them cost no ORM objects:
    (kind key, taken_at UTC seconds, utc offset minutes, value, value2, context, source_name, dedup)
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta, timezone

from blueprints.measures import kinds
from blueprints.measures.kinds import Implausible, Kind, UnknownUnit
from core.clock import PARIS

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
BATCH_ROWS = 20000  # about 0.1 s of SQLite write lock; fewer fsyncs than small batches
EXAMPLES = 5  # examples kept per rejection reason
IGNORED_NAMED = 40  # record types not kept, named one by one in the summary (the rest are counted)

# Why a whole file is refused (the job's `error`, shown translated by the templates).
REFUSALS = (
    "entities",
    "xml",
    "json",
    "not_fhir",
    "csv_columns",
    "encoding",
    "no_export",
    "zip",
    "too_large",
    "inflates",
    "empty",
    "internal",
)
# Why one value is rejected (keys of MeasureImport.reasons).
REASONS = ("implausible", "unknown_unit", "bad_value", "bad_date", "unknown_kind", "incomplete", "bad_context")


class Refused(Exception):
    """The whole file is refused; `reason` is one of REFUSALS."""

    def __init__(self, reason: str, detail: str | None = None):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class Collector:
    """Checks each value, keeps counts and a few examples per rejection reason, and hands
    full batches to `flush(rows, collector)`."""

    def __init__(self, flush: Callable[[list, Collector], None] | None = None, batch: int = BATCH_ROWS):
        self._flush = flush
        self.batch = batch
        self.rows: list[tuple] = []
        self.valid = self.rejected = self.ignored = 0
        self.reasons: dict[str, dict] = {}
        self.ignored_types: dict[str, int] = {}
        self.done_bytes = 0

    def add(
        self,
        kind: Kind,
        taken_at: int,
        offset: int,
        value: float,
        value2: float | None = None,
        context: str | None = None,
        source_name: str | None = None,
        where=None,
    ) -> bool:
        try:
            kinds.check(kind, value, value2)
        except Implausible:
            self.reject("implausible", where, kind.key)
            return False
        value = round(value, 3)
        if value2 is not None:
            value2 = round(value2, 3)
        self.rows.append(
            (
                kind.key,
                taken_at,
                offset,
                value,
                value2,
                context,
                source_name,
                kinds.dedup_key(kind, value, value2, context),
            )
        )
        self.valid += 1
        if len(self.rows) >= self.batch:
            self.flush()
        return True

    def extend(self, rows: list[tuple]) -> None:
        """Rows an importer has already checked, rounded and keyed as `add` would: counted
        and batched (the Apple importer's path for the bulk of an export)."""
        if rows:
            self.valid += len(rows)
            self.rows.extend(rows)
            if len(self.rows) >= self.batch:
                self.flush()

    def reject(self, reason: str, where=None, kind: str | None = None) -> None:
        self.rejected += 1
        entry = self.reasons.get(reason)
        if entry is None:
            entry = self.reasons[reason] = {"count": 0, "examples": []}
        entry["count"] += 1
        if len(entry["examples"]) < EXAMPLES:
            entry["examples"].append({"where": where, "kind": kind})

    def ignore(self, what: str, n: int = 1) -> None:
        self.ignored += n
        self.ignored_types[what] = self.ignored_types.get(what, 0) + n

    def flush(self) -> None:
        rows, self.rows = self.rows, []
        if self._flush is not None:
            self._flush(rows, self)

    def state(self) -> dict:
        """The counters and reasons, as plain data (from a parse process to the job)."""
        return {
            "valid": self.valid,
            "rejected": self.rejected,
            "ignored": self.ignored,
            "reasons": self.reasons,
            "ignored_types": self.ignored_types,
            "done_bytes": self.done_bytes,
        }

    def restore(self, state: dict) -> None:
        self.valid, self.rejected, self.ignored = state["valid"], state["rejected"], state["ignored"]
        self.reasons, self.ignored_types, self.done_bytes = (
            state["reasons"],
            state["ignored_types"],
            state["done_bytes"],
        )

    def summary(self) -> dict:
        """What the import row keeps: counts per reason with examples, and ignored types."""
        out = dict(self.reasons)
        if self.ignored_types:
            ranked = sorted(self.ignored_types.items(), key=lambda kv: (-kv[1], kv[0]))
            out["_ignored"] = dict(ranked[:IGNORED_NAMED])
            rest = ranked[IGNORED_NAMED:]
            if rest:  # named as a count, never dropped in silence
                out["_ignored_more"] = {"types": len(rest), "count": sum(n for _, n in rest)}
        return out


def canonical(kind: Kind, value: float, unit: str | None) -> float:
    """Value in the kind's storage unit; accepts the UCUM code, the label a person reads, or
    any unit the kind knows. Raises UnknownUnit."""
    if not unit or unit == kind.unit or unit == kind.unit_label:
        return value
    try:
        return kind.convert(value, unit)
    except UnknownUnit:
        for known in (kind.unit, kind.unit_label, *kind.units):
            if known.lower() == unit.lower():
                return kind.convert(value, known) if known in kind.units else value
        raise


def number(text: str) -> float:
    """'72,4', '72.4', ' 1 234,5 ' → float; ValueError otherwise (NaN and inf refused)."""
    text = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "") if text.count(",") == 1 and "." in text else text
        text = text.replace(",", ".")
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def instant(moment: datetime) -> tuple[int, int]:
    """Aware or naive (Europe/Paris) datetime → (UTC epoch seconds, offset minutes)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    offset = moment.utcoffset()
    return int(moment.timestamp()), int(offset.total_seconds() // 60) if offset is not None else 0


def day_start(day: str, offset: int) -> int:
    """Local midnight of 'YYYY-MM-DD' at `offset` minutes east of UTC, as UTC seconds."""
    d = date(int(day[:4]), int(day[5:7]), int(day[8:10]))
    return (d.toordinal() - EPOCH_ORDINAL) * 86400 - offset * 60


def local_iso(taken_at: int, offset: int) -> str:
    """UTC seconds and offset minutes → '2026-03-02T08:30+01:00', the time the device wrote."""
    return datetime.fromtimestamp(taken_at, timezone(timedelta(minutes=offset))).isoformat(timespec="minutes")


class ChunkReader(io.RawIOBase):
    """A readable binary file over an iterator of byte chunks (a decrypted blob), counting
    the bytes handed out so the job can show its progress."""

    def __init__(self, chunks: Iterable[bytes]):
        self._it: Iterator[bytes] = iter(chunks)
        self._buf = b""
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf:
            try:
                self._buf = next(self._it)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self.consumed += n
        return n
