"""Charts of health measures: the drawing, its summary and its data table.

    chart(viewer, kind, "1y")        -> {"svg", "count", "empty", "summary", "table", "ranges", ...}
    chart(viewer, kind, "1y", size="compact", svg=False)

The numbers come from `series` (through the gate), the SVG from `drawing`; here are the
words: the summary (latest, min, max, mean), the one-sentence description, and the table a
screen reader gets beside the chart, each measure when there are few, else one row per period.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from flask_babel import get_timezone

from blueprints.measures import series as data
from blueprints.measures.drawing import SIZES, render
from blueprints.measures.kinds import MEAL_CONTEXTS, Kind
from core.formatting import date_text, instants, number
from core.i18n import gettext as _, ngettext

# The chart is an image of its own (an <img>): its inline style is allowed, nothing else is.
CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"

RANGES = data.RANGES
DEFAULT_RANGE = data.DEFAULT_RANGE
TABLE_MEASURES = 40  # up to this many measures, the table lists each one


def buckets_for(size: str, svg: bool = True) -> int:
    """Time buckets to ask series.load for: each gives two points (its min and max), so half
    the points the drawing shows; without a drawing, one per table period is enough."""
    return SIZES.get(size, SIZES["wide"])[3] // 2 if svg else 1


def chart(viewer, kind: Kind, range_key: str = DEFAULT_RANGE, *, size: str = "wide", svg: bool = True) -> dict:
    """Plain data for the measure page and for the SVG response (no request needed, but an app
    context: Babel formats in the current locale)."""
    if range_key not in RANGES:
        range_key = DEFAULT_RANGE
    s = data.load(viewer, kind, range_key, buckets_for(size, svg), None if svg else TABLE_MEASURES)
    description = describe(s)
    return {
        "kind": kind.key,
        "range": range_key,
        "size": size,
        "count": s.count,
        "empty": s.count == 0,
        "ranges": [{"key": r.key, "label": str(r.label), "active": r.key == range_key} for r in RANGES.values()],
        "summary": summary(s),
        "table": table(s),
        "description": description,
        "svg": render(s, description, size) if svg else None,
    }


def svg(viewer, kind: Kind, range_key: str = DEFAULT_RANGE, *, size: str = "wide") -> str:
    """The drawing alone, for the <img>: its sentence, without the summary and table the page
    already showed (the table alone is most of a chart's formatting)."""
    if range_key not in RANGES:
        range_key = DEFAULT_RANGE
    s = data.load(viewer, kind, range_key, buckets=buckets_for(size))
    return render(s, describe(s), size)


# --------------------------------------------------------------------------- words and numbers


def _num(kind: Kind, value: float | None, extra: int = 0) -> str:
    return number(value, kind.decimals + extra) if value is not None else ""


def _memo_num():
    """_num for one table: the same few values come back row after row, and Babel's
    formatting is most of a table's time."""
    seen = {}

    def num(kind: Kind, value: float | None, extra: int = 0) -> str:
        key = (value, extra)
        text = seen.get(key)
        if text is None:
            text = seen[key] = _num(kind, value, extra)
        return text

    return num


def _pair(kind: Kind, value, value2, extra: int = 0) -> str:
    text = _num(kind, value, extra)
    if kind.pair and value2 is not None:
        text += "/" + _num(kind, value2, extra)
    return text


def _with_unit(kind: Kind, text: str) -> str:
    return f"{text}\u00a0{kind.unit_label}" if text else ""


def _whens(kind: Kind) -> Callable[[int, int | None], str]:
    """When each measure of a table was taken: Paris time, as everywhere, with the local time once
    when taken in another offset; a daily total by its day (series places it inside its own day)."""
    if kind.daily:
        return lambda taken_at, _offset: date_text(_day(taken_at), "d MMM y")
    return instants("d MMM y")


def _when(kind: Kind, taken_at: int, offset: int | None) -> str:
    return _whens(kind)(taken_at, offset)


def summary(s: data.Series) -> dict:
    """Latest, min, max and mean, as numbers and as text ("72,4 kg", "128/82 mmHg")."""
    k = s.kind
    if not s.count:
        return {"latest": None, "min": None, "max": None, "mean": None, "unit": k.unit_label}

    def item(v, v2, extra=0):
        return {"value": v, "value2": v2, "text": _with_unit(k, _pair(k, v, v2, extra))}

    latest = None
    if s.latest:
        t, off, v, v2, ctx = s.latest
        latest = {**item(v, v2), "when": _when(k, t, off), "taken_at": t, "context": _context(ctx)}
    return {
        "latest": latest,
        "min": item(s.low, s.low2),
        "max": item(s.high, s.high2),
        "mean": item(s.mean, s.mean2, 1 if k.decimals == 0 else 0),
        "unit": k.unit_label,
    }


def _context(ctx: str | None) -> str:
    return str(MEAL_CONTEXTS[ctx][0]) if ctx in MEAL_CONTEXTS else ""


def _period_label(start: date, period: str) -> str:
    if period == "day":
        return date_text(start, "EEE d MMM y")
    if period == "week":
        return _("Week of %(date)s", date=date_text(start, "d MMM y"))  # Semaine du 3 mars 2026
    if period == "month":
        return date_text(start, "LLLL y")
    return date_text(start, "y")


def table(s: data.Series) -> dict:
    """Rows for the screen-reader table beside the chart: each measure when there are few,
    else one row per day, week, month or year, newest first."""
    k = s.kind
    unit = k.unit_label
    if s.raw is not None and s.count <= TABLE_MEASURES:
        columns = [_("Date")]  # Date
        if k.pair:
            columns += [_("Systolic (%(unit)s)", unit=unit), _("Diastolic (%(unit)s)", unit=unit)]
        else:
            columns.append(_("Value (%(unit)s)", unit=unit))  # Valeur (kg)
        has_context = any(r[4] for r in s.raw)
        if has_context:
            columns.append(_("Context"))  # Contexte
        rows = []
        _num, when_taken = _memo_num(), _whens(k)
        for t, off, v, v2, ctx in reversed(s.raw):
            row = [when_taken(t, off), _num(k, v)] + ([_num(k, v2)] if k.pair else [])
            if has_context:
                row.append(_context(ctx))
            rows.append(row)
        return {
            "per": "measure",
            "caption": _("%(kind)s: each measure, newest first", kind=k.label),
            "columns": columns,
            "rows": rows,
        }
    names = {"day": _("Day"), "week": _("Week"), "month": _("Month"), "year": _("Year")}  # Jour, Semaine...
    columns = [names[s.period], _("Measures")]  # Mesures
    if k.pair:
        columns += [
            _("Systolic min / mean / max (%(unit)s)", unit=unit),
            _("Diastolic min / mean / max (%(unit)s)", unit=unit),
        ]
    else:
        columns += [_("Min (%(unit)s)", unit=unit), _("Mean (%(unit)s)", unit=unit), _("Max (%(unit)s)", unit=unit)]
    rows = []
    extra = 1 if k.decimals == 0 else 0
    _num = _memo_num()
    for p in reversed(s.periods):
        row = [_period_label(p.start, s.period), number(p.count, 0)]
        if k.pair:
            row.append(" / ".join((_num(k, p.low), _num(k, p.total / p.count, extra), _num(k, p.high))))
            row.append(
                " / ".join((_num(k, p.low2), _num(k, p.total2 / p.count2, extra), _num(k, p.high2))) if p.count2 else ""
            )
        else:
            row += [_num(k, p.low), _num(k, p.total / p.count, extra), _num(k, p.high)]
        rows.append(row)
    captions = {
        "day": _("%(kind)s: per day, newest first", kind=k.label),
        "week": _("%(kind)s: per week, newest first", kind=k.label),
        "month": _("%(kind)s: per month, newest first", kind=k.label),
        "year": _("%(kind)s: per year, newest first", kind=k.label),
    }
    return {"per": s.period, "caption": captions[s.period], "columns": columns, "rows": rows}


def describe(s: data.Series) -> str:
    """One sentence for <desc> and for whoever cannot see the chart."""
    k = s.kind
    if not s.count:
        return _("%(kind)s, %(range)s: no measure.", kind=k.label, range=s.range.label)
    first = date_text(_day(s.start), "d MMM y")
    last = date_text(_day(s.end - 1), "d MMM y")
    return ngettext(
        "%(kind)s, %(range)s (%(first)s – %(last)s): %(count)s measure; lowest %(low)s, highest %(high)s, "
        "mean %(mean)s.",
        "%(kind)s, %(range)s (%(first)s – %(last)s): %(count)s measures; lowest %(low)s, highest %(high)s, "
        "mean %(mean)s.",
        s.count,
        kind=k.label,
        range=s.range.label,
        first=first,
        last=last,
        count=number(s.count, 0),
        low=_with_unit(k, _pair(k, s.low, s.low2)),
        high=_with_unit(k, _pair(k, s.high, s.high2)),
        mean=_with_unit(k, _pair(k, s.mean, s.mean2, 1 if k.decimals == 0 else 0)),
    )


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, get_timezone()).date()
