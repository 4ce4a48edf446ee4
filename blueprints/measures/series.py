"""The points of one kind of measure, for one viewer and one period, read through the gate.

Heavy device data (200,000 heart-rate readings in two years) never crosses into Python row by
row: the database returns each small time bucket's count, min, max and sum, and the chart
draws each bucket's min and max (MinMax pre-aggregation, then LTTB in `downsample`). A series
light enough to be read measure by measure (up to RAW_LIMIT, which the chart draws as they
are) is read once, and its buckets are worked out from those rows in Python: asking the
database for 720 buckets of a few hundred measures cost more than the rows themselves. The
buckets are cut inside calendar periods in Europe/Paris (day, week, month, year), so the same
answer also gives the summary and the per-period table that screen readers get.

How many buckets is the caller's choice: a chart asks for about half the points it can draw
(each bucket gives its min and max), a page that shows only the table and summary asks for
one per period; the per-row cost in the database is the same, the Python after it is not.

SQLite: one correlated sub-select per bucket walks the unique index (patient, kind, instant,
dedup) range by range, with no sort. For kinds with one value per dedup key, the value is
read back from `dedup` itself (the value as shown, see kinds.dedup_key), so the scan never
leaves the index: three times faster than visiting the table, and exact to the displayed
precision; the mean is of displayed values. The value is worked out once per row (a derived
table SQLite does not flatten) for count, min, max and total; a bucket's first and last
instants are two index seeks rather than two more aggregates over every row. PostgreSQL:
width_bucket() over the same edges and a plain GROUP BY on the stored values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from flask_babel import get_timezone
from sqlalchemy import ARRAY, BigInteger, Float, Integer, String, bindparam, cast, func, literal, select

from blueprints.measures.kinds import Kind, get
from blueprints.measures.models import Measure
from core import access, clock
from core.compiled import Fixed
from core.db import db
from core.i18n import lazy_gettext as _l

RAW_LIMIT = 3000  # up to this many measures in range, they are read one by one
BUCKETS = 720  # time buckets for heavier ranges, by default (about one per pixel column)


@dataclass(frozen=True)
class Range:
    key: str
    label: object
    months: int | None  # None: everything
    period: str  # table rows per day | week | month (all: month or year)


RANGES: dict[str, Range] = {
    r.key: r
    for r in (
        Range("1m", _l("1 month"), 1, "day"),  # 1 mois
        Range("3m", _l("3 months"), 3, "week"),  # 3 mois
        Range("1y", _l("1 year"), 12, "month"),  # 1 an
        Range("all", _l("All"), None, "month"),  # Tout
    )
}
DEFAULT_RANGE = "3m"


@dataclass
class Period:
    start: date
    count: int = 0
    low: float | None = None
    high: float | None = None
    total: float = 0.0
    low2: float | None = None
    high2: float | None = None
    total2: float = 0.0
    count2: int = 0


@dataclass
class Series:
    kind: Kind
    range: Range
    start: int  # x domain, UTC epoch seconds
    end: int
    count: int = 0
    points: list = field(default_factory=list)  # (taken_at, value, value2), time order, not yet thinned
    raw: list | None = None  # (taken_at, utc_offset, value, value2, context) when count <= RAW_LIMIT
    periods: list[Period] = field(default_factory=list)
    period: str = "day"
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    low2: float | None = None
    high2: float | None = None
    mean2: float | None = None
    latest: tuple | None = None  # (taken_at, utc_offset, value, value2, context)


def months_ago(now: datetime, months: int) -> datetime:
    """The same day `months` earlier (clamped to the month's length: 31 March - 1 = 28/29 Feb)."""
    y, m = divmod(now.month - 1 - months, 12)
    year, month = now.year + y, m + 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return now.replace(year=year, month=month, day=min(now.day, (nxt - timedelta(days=1)).day))


DAILY_AT = 11 * 3600  # a daily total sits at 11:00 UTC of its own date: 12:00 or 13:00 in Paris


def _instant(kind: Kind):
    """Where a measure sits on the time axis. A daily total (steps) belongs to the day its
    device counted it, wherever that was: it is placed inside that same date in Paris (a total
    of Tokyo's 2 December, stored at Tokyo's midnight, would otherwise fall on 1 December)."""
    if kind.daily:
        return ((Measure.taken_at + cast(Measure.utc_offset, BigInteger) * 60) // 86400) * 86400 + DAILY_AT
    return Measure.taken_at


NEAR = 2 * 86400  # a daily total's place is at most 37 h from its stored instant (offsets are under a day)


def _within(kind: Kind, lo: int | None, hi: int | None = None) -> list:
    """Conditions for instants in [lo, hi). A daily total's place is an expression no index
    knows, so the stored instant is bounded too: the index seeks to the range instead of the
    whole kind being read once per bucket."""
    at = _instant(kind)
    out = []
    if lo is not None:
        out.append(at >= lo)
    if hi is not None:
        out.append(at < hi)
    if kind.daily:
        if lo is not None:
            out.append(Measure.taken_at >= lo - NEAR)
        if hi is not None:
            out.append(Measure.taken_at < hi + NEAR)
    return out


def load(viewer, kind: Kind, range_key: str, buckets: int = BUCKETS, raw_limit: int | None = None) -> Series:
    """Everything a chart of `kind` over `range_key` shows, for what `viewer` may see.

    Above `raw_limit` measures, `points` holds the min and max of about `buckets` time buckets
    (never fewer than one per table period) and `raw` is None; counts, extremes, means and the
    table are exact whatever `buckets` is. `raw_limit` is RAW_LIMIT unless given: a page without
    the drawing needs each measure only for a short table (docs/performance.md, 56)."""
    raw_limit = RAW_LIMIT if raw_limit is None else raw_limit
    if kind.key == "bmi":
        return _bmi(viewer, kind, range_key, buckets, raw_limit)
    rng = RANGES[range_key]
    now = int(clock.utcnow().timestamp())
    start = int(months_ago(clock.utcnow(), rng.months).timestamp()) if rng.months else None
    first, last, count = _span(viewer, kind, start, raw_limit + 1)
    if first is None:
        lo = start if start is not None else now - 86400 * 30
        return Series(kind, rng, lo, now, period=rng.period)
    lo = start if start is not None else first
    hi = max(now, last + 1) if start is not None else last + 1
    if hi - lo < 86400:  # a lone measure: a day around it
        lo, hi = lo - 43200, hi + 43200
    tz = get_timezone()
    period = rng.period
    if rng.months is None and (hi - lo) > 6 * 366 * 86400:
        period = "year"
    edges, owners, starts = _grid(lo, hi, period, tz, buckets)
    series = Series(kind, rng, lo, hi, period=period)
    series.periods = [Period(s) for s in starts]
    if count <= raw_limit:  # each measure is read anyway: the buckets are worked out from them
        series.raw = _raw(viewer, kind, edges[0], edges[-1])
        buckets = _buckets_of(series.raw, edges, kind)
        series.points = [(r[0], r[2], r[3]) for r in series.raw]
        series.latest = series.raw[-1] if series.raw else None
    else:
        buckets = _buckets(viewer, kind, edges)
        series.points = _envelope(buckets, kind.pair)
        series.latest = _latest(viewer, kind, edges[0], edges[-1])
    series.count = sum(b[1] for b in buckets)
    _fold(series, buckets, owners)
    return series


def _bmi(viewer, kind: Kind, range_key: str, buckets: int, raw_limit: int) -> Series:
    """BMI has no rows of its own: it is the weight curve divided by the latest height squared
    (an adult's height does not change; a child's chart is read by weight and height)."""
    height = _fixed(viewer, "height", get("height")).scalar({"patient_id": viewer.patient_id})
    weight = load(viewer, get("weight"), range_key, buckets, raw_limit)
    if not height:
        return Series(kind, weight.range, weight.start, weight.end, period=weight.period)
    f = 1 / (height / 100) ** 2

    def scale(v):
        return None if v is None else v * f

    weight.kind = kind
    weight.points = [(t, v * f, None) for t, v, _v2 in weight.points]
    if weight.raw is not None:
        weight.raw = [(t, off, v * f, None, ctx) for t, off, v, _v2, ctx in weight.raw]
    if weight.latest:
        t, off, v, _v2, ctx = weight.latest
        weight.latest = (t, off, v * f, None, ctx)
    weight.low, weight.high, weight.mean = scale(weight.low), scale(weight.high), scale(weight.mean)
    for p in weight.periods:
        p.low, p.high, p.total = scale(p.low), scale(p.high), p.total * f
    return weight


def _span(viewer, kind: Kind, start: int | None, cap: int) -> tuple[int | None, int | None, int]:
    """First and last instants in range (two index seeks, not a scan) and how many measures
    it holds, counted up to `cap` only (a heavy series is not walked to be counted)."""
    params = {"patient_id": viewer.patient_id, "cap": cap}
    if start is None:
        return tuple(_fixed(viewer, "span", kind).one(params))
    return tuple(_fixed(viewer, "span from", kind).one({**params, "lo": start}))


def _local_midnight(day: date, tz) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC).timestamp())


def _next(day: date, period: str) -> date:
    if period == "day":
        return day + timedelta(days=1)
    if period == "week":
        return day + timedelta(days=7)
    if period == "month":
        return date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date(day.year + 1, 1, 1)


def _floor(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return date(day.year, 1, 1)
    return day


def _grid(lo: int, hi: int, period: str, tz, buckets: int = BUCKETS) -> tuple[list[int], list[int], list[date]]:
    """Bucket edges covering [lo, hi): calendar periods in local time, each cut into equal
    sub-buckets (at most `buckets` in all, at least one per period); with the period index
    of each bucket and each period's first day."""
    day = _floor(datetime.fromtimestamp(lo, tz).date(), period)
    bounds, starts = [], []
    while True:
        edge = _local_midnight(day, tz)
        if edge >= hi:
            bounds.append(edge)
            break
        bounds.append(edge)
        starts.append(day)
        day = _next(day, period)
    per = max(1, buckets // len(starts))
    edges, owners = [], []
    for p, (a, b) in enumerate(zip(bounds, bounds[1:])):
        a, b = max(a, lo), min(b, hi)
        step = (b - a) / per
        for j in range(per):
            e = a + int(j * step)
            if not edges or e > edges[-1]:
                edges.append(e)
                owners.append(p)
    edges.append(hi)
    return edges, owners, starts


def _value_columns(kind: Kind):
    """What to aggregate: on SQLite the value as written in the covering index's dedup key
    (number first, "/diastolic" next, "|context" last), else the stored columns."""
    if db.is_sqlite and not kind.daily:
        value = cast(Measure.dedup, Float)  # SQLite reads the leading number: "120/80|x" -> 120
        second = cast(func.substr(Measure.dedup, func.instr(Measure.dedup, "/") + 1), Float) if kind.pair else None
        return value, second
    return Measure.value, (Measure.value2 if kind.pair else None)


def _aggregates(kind: Kind):
    value, second = _value_columns(kind)
    at = _instant(kind)
    cols = [func.count(), func.min(value), func.max(value), func.sum(value), func.min(at), func.max(at)]
    if second is not None:
        cols += [func.min(second), func.max(second), func.sum(second), func.count(second)]
    return cols


def _buckets(viewer, kind: Kind, edges: list[int]) -> list[tuple]:
    """(bucket, count, min, max, sum, first instant, last instant[, min2, max2, sum2, count2])
    for each bucket holding measures, in time order."""
    if db.is_sqlite:
        out = []
        for i, packed, t0, t1 in _fixed(viewer, "buckets", kind).all(
            {"patient_id": viewer.patient_id, "edges": json.dumps(edges)}
        ):
            if t0 is not None:  # the bucket holds measures
                agg = json.loads(packed)
                out.append((i, agg[0], agg[1], agg[2], agg[3], t0, t1, *agg[4:]))
        return out
    width = 10 if kind.pair else 6
    params = {"patient_id": viewer.patient_id, "edges": edges, "lo": edges[0], "hi": edges[-1]}
    return [tuple(r)[: width + 1] for r in _fixed(viewer, "buckets", kind).all(params)]


def _buckets_of(raw: list[tuple], edges: list[int], kind: Kind) -> list[tuple]:
    """What _buckets() answers, from the measures themselves (time order): the same values
    (on SQLite as the index holds them, rounded as shown), so a series reads the same whichever
    way its buckets were made."""
    digits = kind.decimals if db.is_sqlite and not kind.daily else None
    pair = kind.pair
    out = []
    i, nxt = -1, edges[0]  # the bucket being filled, and where the next one begins
    n = n2 = t0 = t1 = 0
    low = high = low2 = high2 = None
    total = total2 = 0.0
    for at, _offset, v, v2, _context in raw:
        if digits is not None:
            v = round(v, digits)
            if v2 is not None:
                v2 = round(v2, digits)
        if at >= nxt:  # the first measure of a later bucket
            if n:
                out.append((i, n, low, high, total, t0, t1, *((low2, high2, total2, n2) if pair else ())))
            while i < len(edges) - 2 and at >= edges[i + 1]:
                i += 1
            nxt = edges[i + 1] if i < len(edges) - 2 else float("inf")
            n, low, high, total, t0 = 0, v, v, 0.0, at
            low2 = high2 = None
            total2, n2 = 0.0, 0
        n += 1
        total += v
        t1 = at
        if v < low:
            low = v
        elif v > high:
            high = v
        if pair and v2 is not None:
            low2 = v2 if low2 is None or v2 < low2 else low2
            high2 = v2 if high2 is None or v2 > high2 else high2
            total2 += v2
            n2 += 1
    if n:
        out.append((i, n, low, high, total, t0, t1, *((low2, high2, total2, n2) if pair else ())))
    return out


def _raw(viewer, kind: Kind, lo: int, hi: int) -> list[tuple]:
    return _fixed(viewer, "raw", kind).tuples({"patient_id": viewer.patient_id, "lo": lo, "hi": hi})


def _latest(viewer, kind: Kind, lo: int, hi: int) -> tuple | None:
    row = _fixed(viewer, "latest", kind).first({"patient_id": viewer.patient_id, "lo": lo, "hi": hi})
    return tuple(row) if row else None


# --------------------------------------------------------------------------- the statements


def _fixed(viewer, shape: str, kind: Kind) -> Fixed:
    """The statement of this shape for this viewer and kind of measure; its parameters are the
    space (:patient_id, a viewer without one matches no row) and the range (:lo, :hi, :edges)."""
    return _statement(shape, viewer.kind, kind.key, db.is_sqlite)


@lru_cache(maxsize=1024)
def _statement(shape: str, viewer_kind: str, key: str, sqlite: bool) -> Fixed:
    """Built and compiled once per shape, kind of viewer, kind of measure and engine (SQLite's
    buckets are another statement): building the expressions cost more than running them
    (docs/performance.md, 45). The gate writes the filter, for a viewer of this kind whose
    space is the :patient_id parameter."""
    gate = access.kind_gate(viewer_kind)
    kind = get(key)
    at = _instant(kind)
    lo, hi = bindparam("lo", type_=BigInteger), bindparam("hi", type_=BigInteger)
    columns = (at, Measure.utc_offset, Measure.value, Measure.value2, Measure.context)

    def gated(stmt, low=None, high=None):
        return access.scope(gate, stmt.where(Measure.kind == key, *_within(kind, low, high)))

    if shape == "height":
        return Fixed(gated(select(Measure.value)).order_by(Measure.taken_at.desc()).limit(1))
    if shape in ("span", "span from"):
        low = lo if shape == "span from" else None
        first = gated(select(func.min(at)), low).scalar_subquery()
        last = gated(select(func.max(at)), low).scalar_subquery()
        capped = gated(select(literal(1)), low).limit(bindparam("cap", type_=Integer)).subquery()
        count = select(func.count()).select_from(capped).scalar_subquery()
        return Fixed(select(first.label("first"), last.label("last"), count.label("count")))
    if shape == "raw":
        return Fixed(gated(select(*columns), lo, hi).order_by(at))
    if shape == "latest":
        return Fixed(gated(select(*columns), lo, hi).order_by(at.desc()).limit(1))
    if shape != "buckets":
        raise ValueError(shape)
    if not sqlite:
        bucket = func.width_bucket(at, bindparam("edges", type_=ARRAY(BigInteger)))
        return Fixed(gated(select(bucket - 1, *_aggregates(kind)), lo, hi).group_by(bucket).order_by(bucket))
    cells = func.json_each(bindparam("edges", type_=String)).table_valued("key", "value")
    b = select(
        cells.c.key.label("i"),
        cells.c.value.label("lo"),
        func.lead(cells.c.value).over(order_by=cells.c.key).label("hi"),
    ).cte("b")
    value, second = _value_columns(kind)
    cols = [value.label("v")] + ([second.label("v2")] if second is not None else [])
    # LIMIT -1: SQLite keeps the derived table as is, so each row's value is cast once
    rows = gated(select(*cols), b.c.lo, b.c.hi).limit(-1).correlate(b).subquery("m")
    aggs = [func.count(), func.min(rows.c.v), func.max(rows.c.v), func.total(rows.c.v)]
    if second is not None:
        aggs += [func.min(rows.c.v2), func.max(rows.c.v2), func.total(rows.c.v2), func.count(rows.c.v2)]
    first = gated(select(at), b.c.lo, b.c.hi).order_by(at).limit(1)
    last = gated(select(at), b.c.lo, b.c.hi).order_by(at.desc()).limit(1)
    stmt = select(
        b.c.i, select(func.json_array(*aggs)).scalar_subquery(), first.scalar_subquery(), last.scalar_subquery()
    ).where(b.c.hi.is_not(None))
    return Fixed(stmt)


def _fold(series: Series, buckets: list[tuple], owners: list[int]) -> None:
    """Summary and per-period rows from the buckets."""
    total = total2 = 0.0
    n2 = 0
    for b in buckets:
        p = series.periods[owners[b[0]]]
        count, low, high, s = b[1], b[2], b[3], b[4]
        p.count += count
        p.total += s
        p.low = low if p.low is None else min(p.low, low)
        p.high = high if p.high is None else max(p.high, high)
        total += s
        series.low = low if series.low is None else min(series.low, low)
        series.high = high if series.high is None else max(series.high, high)
        if len(b) > 7 and b[10]:
            p.low2 = b[7] if p.low2 is None else min(p.low2, b[7])
            p.high2 = b[8] if p.high2 is None else max(p.high2, b[8])
            p.total2 += b[9]
            p.count2 += b[10]
            total2 += b[9]
            n2 += b[10]
            series.low2 = b[7] if series.low2 is None else min(series.low2, b[7])
            series.high2 = b[8] if series.high2 is None else max(series.high2, b[8])
    if series.count:
        series.mean = total / series.count
    if n2:
        series.mean2 = total2 / n2
    series.periods = [p for p in series.periods if p.count]


def _envelope(buckets: list[tuple], pair: bool) -> list[tuple]:
    """Each bucket's extremes as points, low-high or high-low so the line does not zigzag
    more than the data does; a bucket of one measure gives one point."""
    points = []
    prev = None
    for b in buckets:
        count, low, high, t0, t1 = b[1], b[2], b[3], b[5], b[6]
        low2 = high2 = None
        if pair and len(b) > 7:
            low2, high2 = b[7], b[8]
        if count == 1 or t0 == t1:
            points.append((t0, low, low2))
            prev = low
            continue
        if prev is not None and prev > (low + high) / 2:
            points.append((t0, high, high2))
            points.append((t1, low, low2))
            prev = low
        else:
            points.append((t0, low, low2))
            points.append((t1, high, high2))
            prev = high
    return points
