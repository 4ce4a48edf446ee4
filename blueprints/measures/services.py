"""Health measures entered by the holder: record, correct, remove, read back, export.

Imports write through blueprints.measures.imports; charts read through charts.py. Traces
name the kind of measure, never its value: the trail cannot be erased.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from flask import abort
from sqlalchemy import bindparam, select, union_all

from blueprints.measures import kinds
from blueprints.measures.kinds import Kind
from blueprints.measures.models import Measure
from core import access, audit, formatting
from core.access import Viewer
from core.clock import PARIS
from core.compiled import Fixed, in_sql
from core.db import db
from core.i18n import current_locale, gettext as _, lazy_gettext as _l

PAGE = 20
SOURCES = {
    "manual": _l("Entered by you"),
    "apple": _l("Apple Health"),
    "fhir": _l("FHIR file"),
    "csv": _l("CSV file"),
    "app": _l("Connected app"),
}


class Duplicate(ValueError):
    """The same measure (kind, instant, value) is already in the space."""


def kind_or_404(slug: str, entered: bool = False) -> Kind:
    kind = kinds.BY_SLUG.get(slug)
    if kind is None or (entered and not kind.entered):
        abort(404)
    return kind


# --------------------------------------------------------------------------- showing values


def _num(value: float, decimals: int) -> str:
    return formatting.decimal(value, "#,##0." + "#" * decimals if decimals else "#,##0")


def show_value(kind: Kind, value: float, value2: float | None = None) -> str:
    """ "72,4 kg", "128/82 mmHg", "0,95 g/L (95 mg/dL)", "8 452 pas": as a French reader writes them."""
    if kind.pair:
        return f"{_num(value, 0)}/{_num(value2 or 0, 0)}\u00a0{kind.unit_label}"
    if kind.key == "glucose":
        return f"{_num(value / 100, 2)}\u00a0g/L ({_num(value, 0)}\u00a0mg/dL)"
    if kind.key == "steps":
        return _("%(num)s steps", num=_num(value, 0))
    if kind.key == "pain":
        return f"{_num(value, 0)}/10"
    return f"{_num(value, kind.decimals)}\u00a0{kind.unit_label}"


def context_label(context: str | None) -> str:
    return str(kinds.MEAL_CONTEXTS[context][0]) if context in kinds.MEAL_CONTEXTS else ""


def source_label(source: str, name: str | None) -> str:
    label = str(SOURCES.get(source, source))
    return f"{label} · {name}" if name and source != "manual" else label


def local_time(taken_at: int, offset: int) -> datetime:
    return datetime.fromtimestamp(taken_at, timezone(timedelta(minutes=offset)))


def when_text(kind: Kind, taken_at: int, offset: int) -> str:
    """One rule for every screen: a time in Paris time (with the local time once, when taken
    in another offset); a daily total on its own day, as the device counted it."""
    at = local_time(taken_at, offset)
    return formatting.day(at.date()) if kind.daily else formatting.measure_moment(at)


def row_view(kind: Kind, m) -> dict:
    return {
        "id": m.id,
        "value": show_value(kind, m.value, m.value2),
        "context": context_label(m.context),
        "when": local_time(m.taken_at, m.utc_offset),
        "when_text": when_text(kind, m.taken_at, m.utc_offset),
        "source": source_label(m.source, m.source_name),
        "manual": m.source == "manual",
    }


# --------------------------------------------------------------------------- reading


def latest_per_kind(viewer: Viewer) -> dict:
    """The newest measure of every kind: index seeks only, in one statement, however many
    measures a watch has sent (no scan, no count). Each kind gives its two newest in the
    index's order; should they share their instant, the kind's newest is read on its own as
    every list orders them (taken_at, then id)."""
    if viewer.patient_id is None:
        return {}
    latest: dict = {}
    tied = set()
    for row in _latest_statement(viewer.kind).all({"patient_id": viewer.patient_id}):
        first = latest.get(row.kind)
        if first is None or row.taken_at > first.taken_at:
            latest[row.kind] = row
        if first is not None and row.taken_at == first.taken_at:
            tied.add(row.kind)
    for kind in tied:
        latest[kind] = _newest_statement(viewer.kind).first({"patient_id": viewer.patient_id, "kind": kind})
    return latest


_LATEST_COLUMNS = (Measure.kind, Measure.taken_at, Measure.utc_offset, Measure.value, Measure.value2, Measure.context)


@lru_cache(maxsize=8)
def _latest_statement(viewer_kind: str) -> Fixed:
    """Built and compiled once per kind of viewer: building the 14 sub-selects and their cache key cost
    more than running them (see docs/performance.md). The gate still writes the filter,
    for a viewer of this kind whose patient is the :patient_id parameter. Each sub-select
    follows the index (patient, kind, time) alone: ordering ties by id as well made SQLite
    sort each one in a temporary tree, five times the statement's cost (docs/performance.md, 44)."""
    gate = access.kind_gate(viewer_kind)
    parts = [
        access.scope(gate, select(*_LATEST_COLUMNS).where(Measure.kind == key))
        .order_by(Measure.taken_at.desc())
        .limit(in_sql(2))
        .subquery()
        for key in kinds.KINDS
        if kinds.KINDS[key].entered
    ]
    return Fixed(union_all(*(select(*p.c) for p in parts)))


@lru_cache(maxsize=8)
def _newest_statement(viewer_kind: str) -> Fixed:
    """The newest measure of one kind, as the lists order them (taken_at, then id)."""
    gate = access.kind_gate(viewer_kind)
    return Fixed(
        access.scope(gate, select(*_LATEST_COLUMNS).where(Measure.kind == bindparam("kind")))
        .order_by(Measure.taken_at.desc(), Measure.id.desc())
        .limit(1)
    )


def bmi_from(latest: dict) -> dict | None:
    """BMI = weight (kg) / height (m)²: from the latest weight and the latest height."""
    if "weight" not in latest or "height" not in latest:
        return None
    weight, height = latest["weight"], latest["height"]
    value = weight.value / (height.value / 100) ** 2
    kind = kinds.get("bmi")
    band = next(
        (b for b in kind.bands if (b.low is None or value >= b.low) and (b.high is None or value < b.high)), None
    )
    return {
        "value": show_value(kind, value),
        "raw": value,
        "band": str(band.label) if band else "",
        "tone": band.tone if band else "neutral",
        "when": max(local_time(weight.taken_at, weight.utc_offset), local_time(height.taken_at, height.utc_offset)),
    }


def overview(viewer: Viewer) -> dict:
    latest = latest_per_kind(viewer)
    cards = []
    for kind in kinds.KINDS.values():
        if kind.key == "bmi":
            bmi = bmi_from(latest)
            if bmi:
                cards.append(
                    {
                        "kind": kind,
                        "label": str(kind.label),
                        "latest": bmi["value"],
                        "when": bmi["when"],
                        "badge": (bmi["band"], bmi["tone"]),
                        "derived": True,
                    }
                )
        elif kind.key in latest:
            m = latest[kind.key]
            cards.append(
                {
                    "kind": kind,
                    "label": str(kind.label),
                    "latest": show_value(kind, m.value, m.value2),
                    "when": local_time(m.taken_at, m.utc_offset),
                    "when_text": when_text(kind, m.taken_at, m.utc_offset),
                    "badge": (context_label(m.context), "neutral") if m.context else None,
                    "derived": False,
                }
            )
    missing = [{"kind": k, "label": str(k.label)} for k in kinds.KINDS.values() if k.entered and k.key not in latest]
    return {"cards": cards, "missing": missing}


def dashboard_card(viewer: Viewer, limit: int = 3) -> list[dict]:
    """The latest value of the kinds measured most recently, for the home screen. Labels and
    values come from per-locale memos: the home shows the same few values visit after visit."""
    latest = sorted(latest_per_kind(viewer).values(), key=lambda m: m.taken_at, reverse=True)[:limit]
    locale = str(current_locale())
    cards = []
    for m in latest:
        kind = kinds.get(m.kind)
        cards.append(
            {
                "label": _kind_label(m.kind, locale),
                "slug": kind.slug,
                "value": show_value(kind, m.value, m.value2),
                "when": local_time(m.taken_at, m.utc_offset),
                "when_text": when_text(kind, m.taken_at, m.utc_offset),
            }
        )
    return cards


@lru_cache(maxsize=64)
def _kind_label(key: str, _locale: str) -> str:
    return str(kinds.get(key).label)


def recent(viewer: Viewer, kind: Kind, before: tuple[int, str] | None = None, limit: int = PAGE) -> dict:
    """Newest first, a page at a time (keyset on instant, id)."""
    params = {"patient_id": viewer.patient_id, "kind": kind.key}
    if before:
        params.update(before_at=before[0], before_id=before[1])
    found = _recent_statement(viewer.kind, bool(before), limit + 1).all(params)
    more = found[limit:] and found[limit - 1]
    return {"rows": [row_view(kind, m) for m in found[:limit]], "next": f"{more.taken_at}.{more.id}" if more else None}


_ROW_COLUMNS = (*_LATEST_COLUMNS, Measure.id, Measure.source, Measure.source_name)


@lru_cache(maxsize=32)
def _recent_statement(viewer_kind: str, after_cursor: bool, limit: int) -> Fixed:
    """A page of one kind's measures, built once per kind of viewer (docs/performance.md, 45);
    a viewer without a space (:patient_id None) matches no row."""
    gate = access.kind_gate(viewer_kind)
    stmt = access.scope(gate, select(*_ROW_COLUMNS).where(Measure.kind == bindparam("kind")))
    if after_cursor:
        at, ident = bindparam("before_at"), bindparam("before_id")
        stmt = stmt.where((Measure.taken_at < at) | ((Measure.taken_at == at) & (Measure.id < ident)))
    return Fixed(stmt.order_by(Measure.taken_at.desc(), Measure.id.desc()).limit(in_sql(limit)))


def parse_cursor(text: str | None) -> tuple[int, str] | None:
    try:
        when, ident = (text or "").split(".", 1)
        return int(when), ident
    except ValueError:
        return None


def measure(viewer: Viewer, kind: Kind, measure_id: str) -> Measure:
    m = access.get_or_404(viewer, Measure, measure_id)
    if m.kind != kind.key:
        abort(404)
    return m


# --------------------------------------------------------------------------- writing


@dataclass
class Entry:
    """A measure as typed in the form, before it is checked."""

    value: float
    value2: float | None
    context: str | None
    day: date
    at: time


def instant(day: date, at: time) -> tuple[int, int]:
    """Local (Europe/Paris) date and time → (UTC epoch seconds, offset in minutes)."""
    local = datetime.combine(day, at.replace(second=0, microsecond=0), PARIS)
    offset = int(local.utcoffset().total_seconds() // 60)
    return int(local.timestamp()), offset


def _taken(viewer: Viewer, kind: Kind, taken_at: int, dedup: str, exclude: str | None = None) -> bool:
    stmt = access.scope(
        viewer, select(Measure.id).where(Measure.kind == kind.key, Measure.taken_at == taken_at, Measure.dedup == dedup)
    )
    if exclude:
        stmt = stmt.where(Measure.id != exclude)
    return db.session.scalar(stmt.limit(1)) is not None


def record(viewer: Viewer, kind: Kind, entry: Entry) -> Measure:
    kinds.check(kind, entry.value, entry.value2)
    taken_at, offset = instant(entry.day, entry.at)
    dedup = kinds.dedup_key(kind, entry.value, entry.value2, entry.context)
    if _taken(viewer, kind, taken_at, dedup):
        raise Duplicate(kind.key)
    m = Measure(
        patient_id=viewer.patient_id,
        kind=kind.key,
        taken_at=taken_at,
        utc_offset=offset,
        value=entry.value,
        value2=entry.value2,
        context=entry.context,
        source="manual",
        dedup=dedup,
    )
    db.session.add(m)
    db.session.flush()
    audit.record(viewer, audit.Action.MEASURE_ADDED, m, detail={"kind": kind.key})
    return m


def record_checked(viewer: Viewer, row: tuple, source: str, source_name: str | None) -> tuple[Measure, bool]:
    """A measure an importer's Collector checked and keyed (kind, taken_at, offset, value, value2,
    context, source name, dedup), written for a device or an app: (the measure, True) when new,
    (the one already there, False) when the same measure was sent again. The caller traces it."""
    key, taken_at, offset, value, value2, context, _name, dedup = row
    existing = db.session.scalar(
        access.scope(
            viewer, select(Measure).where(Measure.kind == key, Measure.taken_at == taken_at, Measure.dedup == dedup)
        ).limit(1)
    )
    if existing is not None:
        return existing, False
    m = Measure(
        patient_id=viewer.patient_id,
        kind=key,
        taken_at=taken_at,
        utc_offset=offset,
        value=value,
        value2=value2,
        context=context,
        source=source,
        source_name=(source_name or "")[:120] or None,
        dedup=dedup,
    )
    db.session.add(m)
    db.session.flush()
    return m, True


def correct(viewer: Viewer, kind: Kind, m: Measure, entry: Entry) -> Measure:
    kinds.check(kind, entry.value, entry.value2)
    taken_at, offset = instant(entry.day, entry.at)
    dedup = kinds.dedup_key(kind, entry.value, entry.value2, entry.context)
    if _taken(viewer, kind, taken_at, dedup, exclude=m.id):
        raise Duplicate(kind.key)
    m.taken_at, m.utc_offset, m.value, m.value2, m.context, m.dedup = (
        taken_at,
        offset,
        entry.value,
        entry.value2,
        entry.context,
        dedup,
    )
    db.session.flush()
    audit.record(viewer, audit.Action.MEASURE_CORRECTED, m, detail={"kind": kind.key})
    return m


def remove(viewer: Viewer, kind: Kind, m: Measure) -> None:
    audit.record(viewer, audit.Action.MEASURE_DELETED, m, detail={"kind": kind.key})
    db.session.delete(m)
    db.session.flush()
