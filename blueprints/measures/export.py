"""Every measure of the space as CSV: the app's own import reads it back unchanged.

Columns: kind;loinc;label;date;value;value2;unit;context;source — date in ISO 8601 with
the offset the measure was taken at, decimal comma, canonical UCUM unit.
"""

from __future__ import annotations

from collections.abc import Iterator

from babel.numbers import format_decimal
from sqlalchemy import select

from blueprints.measures import kinds, services
from blueprints.measures.models import Measure
from core import access, audit, clock, csvout
from core.access import Viewer
from core.db import db

BATCH = 5000
HEADER = ["kind", "loinc", "label", "date", "value", "value2", "unit", "context", "source"]


def filename() -> str:
    return f"carnet-mesures-{clock.paris_today().isoformat()}.csv"


def traced(viewer: Viewer) -> None:
    audit.record(viewer, audit.Action.MEASURES_EXPORTED)


def _decimal(value: float | None) -> str:
    return "" if value is None else format_decimal(value, format="0.######", locale="fr_FR")


class _Words:
    """What repeats from one line to the next, worded once per export: a kind's columns, a
    source's label, a value's decimal writing (a file of 50,000 lines holds a few hundred
    distinct values; Babel's formatting and the catalogue lookups were most of its time)."""

    def __init__(self):
        self.kinds: dict[str, tuple] = {}
        self.sources: dict[tuple, str] = {}
        self.numbers: dict[float | None, str] = {}

    def kind(self, key: str) -> tuple:
        if key not in self.kinds:
            kind = kinds.get(key)
            self.kinds[key] = (kind.key, kind.loinc, str(kind.label), kind.unit)
        return self.kinds[key]

    def source(self, source: str, name: str | None) -> str:
        if (source, name) not in self.sources:
            self.sources[source, name] = services.source_label(source, name)
        return self.sources[source, name]

    def number(self, value: float | None) -> str:
        if value not in self.numbers:
            self.numbers[value] = _decimal(value)
        return self.numbers[value]


def _line(m, words: _Words) -> list:
    key, loinc, label, unit = words.kind(m.kind)
    when = services.local_time(m.taken_at, m.utc_offset).isoformat(timespec="seconds")
    return [
        key,
        loinc,
        label,
        when,
        words.number(m.value),
        words.number(m.value2),
        unit,
        m.context or "",
        words.source(m.source, m.source_name),
    ]


def rows(viewer: Viewer) -> Iterator[str]:
    """Kind by kind, oldest first, read in keyset batches, each its own short transaction."""

    def batches():
        words = _Words()
        after = None
        while True:
            stmt = access.scope(
                viewer,
                select(
                    Measure.kind,
                    Measure.taken_at,
                    Measure.utc_offset,
                    Measure.value,
                    Measure.value2,
                    Measure.context,
                    Measure.source,
                    Measure.source_name,
                    Measure.id,
                ),
            )
            if after is not None:
                k, t, i = after
                stmt = stmt.where(
                    (Measure.kind > k)
                    | ((Measure.kind == k) & (Measure.taken_at > t))
                    | ((Measure.kind == k) & (Measure.taken_at == t) & (Measure.id > i))
                )
            found = db.session.execute(stmt.order_by(Measure.kind, Measure.taken_at, Measure.id).limit(BATCH)).all()
            db.session.rollback()  # never hold a read transaction while the download is sent
            yield [_line(m, words) for m in found]
            if len(found) < BATCH:
                return
            last = found[-1]
            after = (last.kind, last.taken_at, last.id)

    return csvout.stream(HEADER, batches(), safe=(4, 5))
