"""Charts of health measures: an SVG drawn on the server, its summary and its data table.

    chart(viewer, kind, "1y")        -> {"svg", "count", "empty", "summary", "table", "ranges", ...}
    chart(viewer, kind, "1y", size="compact", svg=False)

Why pygal: it draws a clean XY line chart with axes, guides, labels we format ourselves
(French dates and decimal commas through Babel) and a CSS-styled SVG with a viewBox, in pure
Python. What it lacks is done around it, not against it: reference bands and thresholds are
drawn behind the lines from a subclass hook that has pygal's own value-to-pixel view, so they
line up with the axis exactly; the legend (line and dash styles for the series, swatches for
the bands) is ours, because pygal's cannot show bands; an xml filter removes what an `<img>`
needs no part of (the config <script> pygal always writes, comments with URLs, tooltip nodes)
and adds <title> and <desc>. matplotlib's SVG backend would also do, but it is a much heavier
dependency and writes text as paths by default (larger files, text neither selectable nor read).

Two sizes, both responsive (viewBox, width 100%): "wide" (760 x 340) and "compact" (360 x
300) for phones, so that text stays readable without scaling down; a template picks one with
<picture>/<source media>. Lines differ by dash, not only by colour, and bands carry their
name, so a black-and-white print still reads.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from math import floor, log10
from xml.etree import ElementTree as ET

import pygal
from flask_babel import format_date, format_datetime, get_timezone, gettext as _, ngettext
from pygal.style import Style

from blueprints.measures import series as data
from blueprints.measures.downsample import downsample
from blueprints.measures.kinds import MEAL_CONTEXTS, Kind
from core.formatting import clock_time, elsewhere, number

RANGES = data.RANGES
DEFAULT_RANGE = data.DEFAULT_RANGE
TABLE_MEASURES = 40   # up to this many measures, the table lists each one

# Colours from static/css/app.css (the SVG is its own document: it cannot read the page's CSS).
TEXT, MUTED, BORDER, SURFACE = "#1b2528", "#4f5d62", "#d5dfe0", "#ffffff"
PRIMARY, INFO = "#0b6e75", "#1f5b99"
TONES = {"ok": ("#1b6e3a", "#e7f4ec"), "watch": ("#8a4b00", "#fdf1e0"), "alert": ("#b3261e", "#fbeaea")}
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Ubuntu, Cantarell, "Helvetica Neue", Arial, sans-serif'
DIASTOLIC_THRESHOLDS = ((80, "watch"), (90, "alert"))  # ESH: diastolic 80-89 high normal, >= 90 high

SIZES = {
    # width, height, font, points drawn, most x labels, most y labels
    "wide": (760, 340, 13, 500, 8, 7),
    "compact": (360, 300, 12, 240, 4, 6),
}


def buckets_for(size: str, svg: bool = True) -> int:
    """Time buckets to ask series.load for: each gives two points (its min and max), so half
    the points the drawing shows; without a drawing, one per table period is enough."""
    return SIZES.get(size, SIZES["wide"])[3] // 2 if svg else 1


def chart(viewer, kind: Kind, range_key: str = DEFAULT_RANGE, *, size: str = "wide", svg: bool = True) -> dict:
    """Plain data for the measure page and for the SVG response (no request needed, but an app
    context: Babel formats in the current locale)."""
    if range_key not in RANGES:
        range_key = DEFAULT_RANGE
    s = data.load(viewer, kind, range_key, buckets=buckets_for(size, svg))
    return {
        "kind": kind.key,
        "range": range_key,
        "size": size,
        "count": s.count,
        "empty": s.count == 0,
        "ranges": [{"key": r.key, "label": str(r.label), "active": r.key == range_key} for r in RANGES.values()],
        "summary": summary(s),
        "table": table(s),
        "description": describe(s),
        "svg": render(s, size) if svg else None,
    }


# --------------------------------------------------------------------------- words and numbers


def _num(kind: Kind, value: float | None, extra: int = 0) -> str:
    return number(value, kind.decimals + extra) if value is not None else ""


def _pair(kind: Kind, value, value2, extra: int = 0) -> str:
    text = _num(kind, value, extra)
    if kind.pair and value2 is not None:
        text += "/" + _num(kind, value2, extra)
    return text


def _with_unit(kind: Kind, text: str) -> str:
    return f"{text}\u00a0{kind.unit_label}" if text else ""


def _local(taken_at: int, offset: int | None) -> datetime:
    """The instant with the offset it was taken at (what the clock read there)."""
    from datetime import timedelta

    return datetime.fromtimestamp(taken_at, timezone(timedelta(minutes=offset or 0)))


def _when(kind: Kind, taken_at: int, offset: int | None) -> str:
    """Paris time, as everywhere, with the local time once when taken in another offset; a
    daily total by its day (series places it inside its own day)."""
    if kind.daily:
        return format_date(_day(taken_at), "d MMM y")
    at = datetime.fromtimestamp(taken_at, timezone.utc)
    text = _("%(date)s at %(time)s", date=format_datetime(at, "d MMM y"), time=clock_time(at))
    note = elsewhere(_local(taken_at, offset))
    return f"{text} ({note})" if note else text


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
    return {"latest": latest, "min": item(s.low, s.low2), "max": item(s.high, s.high2),
            "mean": item(s.mean, s.mean2, 1 if k.decimals == 0 else 0), "unit": k.unit_label}


def _context(ctx: str | None) -> str:
    return str(MEAL_CONTEXTS[ctx][0]) if ctx in MEAL_CONTEXTS else ""


def _period_label(start: date, period: str) -> str:
    if period == "day":
        return format_date(start, "EEE d MMM y")
    if period == "week":
        return _("Week of %(date)s", date=format_date(start, "d MMM y"))  # Semaine du 3 mars 2026
    if period == "month":
        return format_date(start, "LLLL y")
    return format_date(start, "y")


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
        for t, off, v, v2, ctx in reversed(s.raw):
            row = [_when(k, t, off), _num(k, v)] + ([_num(k, v2)] if k.pair else [])
            if has_context:
                row.append(_context(ctx))
            rows.append(row)
        return {"per": "measure", "caption": _("%(kind)s: each measure, newest first", kind=k.label),
                "columns": columns, "rows": rows}
    names = {"day": _("Day"), "week": _("Week"), "month": _("Month"), "year": _("Year")}  # Jour, Semaine...
    columns = [names[s.period], _("Measures")]  # Mesures
    if k.pair:
        columns += [_("Systolic min / mean / max (%(unit)s)", unit=unit),
                    _("Diastolic min / mean / max (%(unit)s)", unit=unit)]
    else:
        columns += [_("Min (%(unit)s)", unit=unit), _("Mean (%(unit)s)", unit=unit), _("Max (%(unit)s)", unit=unit)]
    rows = []
    extra = 1 if k.decimals == 0 else 0
    for p in reversed(s.periods):
        row = [_period_label(p.start, s.period), number(p.count, 0)]
        if k.pair:
            row.append(" / ".join((_num(k, p.low), _num(k, p.total / p.count, extra), _num(k, p.high))))
            row.append(" / ".join((_num(k, p.low2), _num(k, p.total2 / p.count2, extra), _num(k, p.high2)))
                       if p.count2 else "")
        else:
            row += [_num(k, p.low), _num(k, p.total / p.count, extra), _num(k, p.high)]
        rows.append(row)
    captions = {"day": _("%(kind)s: per day, newest first", kind=k.label),
                "week": _("%(kind)s: per week, newest first", kind=k.label),
                "month": _("%(kind)s: per month, newest first", kind=k.label),
                "year": _("%(kind)s: per year, newest first", kind=k.label)}
    return {"per": s.period, "caption": captions[s.period], "columns": columns, "rows": rows}


def describe(s: data.Series) -> str:
    """One sentence for <desc> and for whoever cannot see the chart."""
    k = s.kind
    if not s.count:
        return _("%(kind)s, %(range)s: no measure.", kind=k.label, range=s.range.label)
    first = format_date(_day(s.start), "d MMM y")
    last = format_date(_day(s.end - 1), "d MMM y")
    return ngettext("%(kind)s, %(range)s (%(first)s – %(last)s): %(count)s measure; lowest %(low)s, highest %(high)s, "
                    "mean %(mean)s.",
                    "%(kind)s, %(range)s (%(first)s – %(last)s): %(count)s measures; lowest %(low)s, highest %(high)s, "
                    "mean %(mean)s.", s.count, kind=k.label, range=s.range.label, first=first, last=last,
                    count=number(s.count, 0),
             low=_with_unit(k, _pair(k, s.low, s.low2)), high=_with_unit(k, _pair(k, s.high, s.high2)),
             mean=_with_unit(k, _pair(k, s.mean, s.mean2, 1 if k.decimals == 0 else 0)))


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, get_timezone()).date()


# --------------------------------------------------------------------------- axes


def x_ticks(lo: int, hi: int, most: int) -> list[dict]:
    """Calendar-aligned ticks (days, weeks, months, years) in local time, at most `most`,
    labelled the French way: "3 mars", "janv. 2026", "avr.", "2025"."""
    tz = get_timezone()
    first, last = datetime.fromtimestamp(lo, tz).date(), datetime.fromtimestamp(hi, tz).date()
    days = (last - first).days + 1
    steps = [("day", 1), ("day", 2), ("week", 1), ("week", 2), ("month", 1), ("month", 2), ("month", 3),
             ("month", 6), ("year", 1), ("year", 2), ("year", 5), ("year", 10), ("year", 20)]
    for unit, n in steps:
        approx = days / {"day": 1, "week": 7, "month": 30.44, "year": 365.25}[unit] / n
        if approx <= most + 0.5:
            break
    ticks, prev_year = [], None
    day = _tick_start(first, unit, n)
    while day <= last:
        at = data._local_midnight(day, tz)
        if lo <= at <= hi:
            if unit in ("day", "week"):
                label = format_date(day, "d MMM")
            elif unit == "month":
                label = format_date(day, "MMM y" if prev_year != day.year else "MMM")
            else:
                label = format_date(day, "y")
            prev_year = day.year
            ticks.append({"value": at, "label": label})
        day = _tick_next(day, unit, n)
    return ticks


def _tick_start(first: date, unit: str, n: int) -> date:
    from datetime import timedelta

    if unit == "day":
        return first
    if unit == "week":
        return first + timedelta(days=(7 - first.weekday()) % 7)  # next Monday
    if unit == "month":
        m = ((first.month - 1 + n - 1) // n) * n if first.day == 1 else ((first.month - 1) // n + 1) * n
        return date(first.year + m // 12, m % 12 + 1, 1)
    year = first.year if (first.month, first.day) == (1, 1) else first.year + 1
    return date(year + (-year) % n, 1, 1)


def _tick_next(day: date, unit: str, n: int) -> date:
    from datetime import timedelta

    if unit == "day":
        return day + timedelta(days=n)
    if unit == "week":
        return day + timedelta(days=7 * n)
    if unit == "month":
        m = day.month - 1 + n
        return date(day.year + m // 12, m % 12 + 1, 1)
    return date(day.year + n, 1, 1)


def y_scale(low: float, high: float, most: int) -> tuple[float, float, list[float], int]:
    """A padded, rounded value range, its ticks, and the decimals they need."""
    span = high - low
    if span <= 0:
        span = max(abs(high) * 0.1, 1.0)
        low, high = low - span / 2, high + span / 2
    raw = span / max(most - 1, 1)
    mag = 10 ** floor(log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    lo = floor(low / step) * step
    hi = -floor(-high / step) * step
    if hi - lo < step * 2:
        hi = lo + step * 2
    ticks, t = [], lo
    while t <= hi + step / 1000:
        ticks.append(round(t, 10))
        t += step
    decimals = max(0, -floor(log10(step))) if step < 1 else (1 if step % 1 else 0)
    return lo, hi, ticks, decimals


def _value_range(s: data.Series) -> tuple[float, float]:
    """Data range, stretched to show a band threshold lying just beyond it."""
    low = s.low if s.low2 is None else min(s.low, s.low2)
    high = s.high
    span = max(high - low, abs(high) * 0.05, 1.0)
    marks = [b.low for b in s.kind.bands if b.low is not None]
    if s.kind.pair:
        marks += [v for v, _tone in DIASTOLIC_THRESHOLDS]
    for m in marks:
        if high < m <= high + span * 0.4:
            high = m
        if low - span * 0.4 <= m < low:
            low = m
    pad = (high - low) * 0.06 or span * 0.06
    return low - pad, high + pad


# --------------------------------------------------------------------------- drawing


class _Plot(pygal.XY):
    """pygal's XY line chart, with reference bands drawn behind the data and our legend."""

    extras: dict = {}

    def _plot(self):
        plot = self.nodes["plot"]
        view = self.view
        e = self.extras
        layer = self.svg.node(plot, "g", class_="bands")
        plot.remove(layer)
        plot.insert(1, layer)  # after pygal's background rect, before guides and lines
        ymin, ymax = self._box.ymin, self._box.ymax
        width = view.width
        for band in e.get("bands", ()):
            low = ymin if band.low is None else max(band.low, ymin)
            high = ymax if band.high is None else min(band.high, ymax)
            if high <= low:
                continue
            y0, y1 = view.y(high), view.y(low)
            stroke, fill = TONES[band.tone]
            self.svg.node(layer, "rect", x=0, y=round(y0, 1), width=round(width, 1), height=round(y1 - y0, 1),
                          fill=fill, class_="band")
            if band.low is not None and ymin < band.low < ymax:
                yy = round(view.y(band.low), 1)
                self.svg.node(layer, "path", d=f"M0 {yy}H{round(width, 1)}", stroke=stroke, class_="edge")
            if e["labels"] and y1 - y0 >= e["font"] + 4:  # printed in black and white, names still read
                label = self.svg.node(layer, "text", x=round(width - 4, 1), y=round(y0 + e["font"] + 1, 1),
                                      fill=stroke, class_="band-label")
                label.text = str(band.label)
        for value, tone in e.get("thresholds", ()):
            if ymin < value < ymax:
                yy = round(view.y(value), 1)
                self.svg.node(layer, "path", d=f"M0 {yy}H{round(width, 1)}", stroke=TONES[tone][0],
                              class_="threshold")
        super()._plot()
        unit = self.svg.node(self.nodes["graph"], "text", x=4, y=e["font"] + 4, class_="unit")
        unit.text = e["unit"]
        self._our_legend()

    def _our_legend(self):
        e = self.extras
        g = self.svg.node(self.nodes["graph"], "g", class_="key")
        fs = e["font"]
        for item in e["legend"]:
            x, y = item["x"], item["y"]
            if item["type"] == "line":
                self.svg.node(g, "path", d=f"M{x} {y - fs / 3:.1f}h22", stroke=item["colour"], class_="key-line",
                              **({"stroke-dasharray": item["dash"]} if item.get("dash") else {}))
            elif item["type"] == "dash":
                self.svg.node(g, "path", d=f"M{x} {y - fs / 3:.1f}h22", stroke=item["colour"], class_="threshold")
            else:
                stroke, fill = TONES[item["tone"]]
                self.svg.node(g, "rect", x=x, y=round(y - fs + 2, 1), width=16, height=fs - 1, fill=fill,
                              stroke=stroke, class_="key-box")
            text = self.svg.node(g, "text", x=x + 28, y=y)
            text.text = item["label"]


def _text_width(text: str, size: float) -> float:
    """Rough width of a label in a sans-serif system font (for layout only)."""
    return sum(0.32 if c in "il.,:;'ıj|!" else 0.62 if c.isupper() or c in "mw" else 0.54 for c in text) * size


def _legend_layout(items: list[dict], width: int, font: int, top: float) -> float:
    """Place legend items left to right, wrapping; returns the height used."""
    x, y, gap = 8.0, top + font, 16
    for it in items:
        w = 28 + _text_width(it["label"], font)
        if x > 8 and x + w > width - 8:
            x, y = 8.0, y + font * 1.5
        it["x"], it["y"] = round(x, 1), round(y, 1)
        x += w + gap
    return y - top + font * 0.5


CSS = """
text{font-family:%(font)s;fill:%(muted)s}
.background{fill:%(surface)s}
.axis text{font-size:%(fs)spx;fill:%(muted)s}
.axis .guide.line{stroke:%(border)s;stroke-dasharray:none}
.axis .line{stroke:%(muted)s}
.band{fill-opacity:.85}
.edge{stroke-width:1;stroke-opacity:.55;stroke-dasharray:2 3;fill:none}
.threshold{stroke-width:1.5;stroke-dasharray:6 4;fill:none}
.band-label{font-size:%(small)spx;text-anchor:end;font-weight:600;paint-order:stroke;stroke:%(surface)s;stroke-width:3px;stroke-linejoin:round}
.unit{font-size:%(fs)spx;font-weight:600;fill:%(text)s}
.key text{font-size:%(fs)spx;fill:%(text)s}
.key-line{stroke-width:2.5;fill:none}
.nofill,.line{fill:none}
text.no_data{text-anchor:middle;font-size:%(fs)spx;fill:%(text)s}
.axis.x text{text-anchor:middle}
.axis.y text{text-anchor:end}
.series .line{stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}
.serie-0 .line{stroke:%(primary)s}
.serie-1 .line{stroke:%(info)s;stroke-dasharray:7 4}
.serie-0 .dot{fill:%(primary)s}
.serie-1 .dot{fill:%(info)s}
.dot{stroke:%(surface)s;stroke-width:1}
"""


def render(s: data.Series, size: str = "wide") -> str:
    """The chart as a standalone SVG document: no script, no external reference."""
    width, height, fs, target, most_x, most_y = SIZES.get(size, SIZES["wide"])
    k = s.kind
    colours = (PRIMARY, INFO)
    names = [_("Systolic"), _("Diastolic")] if k.pair else [str(k.label)]  # Systolique, Diastolique
    legend = [{"type": "line", "label": n, "colour": c, "dash": "7 4" if i else None}
              for i, (n, c) in enumerate(zip(names, colours))]
    for band in k.bands:
        legend.append({"type": "band", "label": str(band.label), "tone": band.tone})
    thresholds = DIASTOLIC_THRESHOLDS if k.pair else ()
    if thresholds:
        legend.append({"type": "dash", "label": _("Diastolic thresholds 80 and 90"), "colour": TONES["alert"][0]})
    show_legend = k.pair or bool(k.bands)
    legend_h = _legend_layout(legend, width, fs, 0) if show_legend and s.count else 0
    ticks = x_ticks(s.start, s.end, most_x)
    if s.count:
        low, high = _value_range(s)
        ylo, yhi, yticks, ydec = y_scale(low, high, most_y)
    else:
        ylo, yhi, yticks, ydec = 0, 1, [], 0
    points = downsample(s.points, target, x=0, y=1, y2=2 if k.pair else None)
    dots = len(points) <= 60
    style = Style(background=SURFACE, plot_background=SURFACE, foreground=MUTED, foreground_strong=TEXT,
                  foreground_subtle=BORDER, colors=colours, font_family=FONT, label_font_size=fs,
                  major_label_font_size=fs, legend_font_size=fs, value_font_size=fs, tooltip_font_size=fs,
                  no_data_font_size=fs + 2, opacity="1", opacity_hover="1", transition="none",
                  guide_stroke_color=BORDER, major_guide_stroke_color=BORDER)
    css = CSS % {"font": FONT, "muted": MUTED, "text": TEXT, "surface": SURFACE, "border": BORDER, "fs": fs, "primary": PRIMARY, "info": INFO,
                 "small": fs - 1}
    config = dict(
        width=width, height=height, style=style, css=["inline:" + css], js=[], no_prefix=True,
        explicit_size=False, disable_xml_declaration=True, show_legend=False, show_dots=dots, dots_size=3,
        allow_interruptions=False, show_x_guides=False, show_y_guides=True, tooltip_border_radius=0,
        print_values=False, margin_top=fs + 14, margin_right=10, margin_left=6,
        margin_bottom=int(legend_h) + 6 if legend_h else 6, spacing=8,
        xrange=(s.start, s.end), range=(ylo, yhi), y_labels=yticks,
        x_labels=ticks, truncate_label=-1, no_data_text=_("No measure in this period"),  # Aucune mesure sur cette période
        value_formatter=lambda v: number(v, ydec), x_value_formatter=lambda v: "",
    )
    if not points:  # pygal writes its "no data" text; axes without data would mean nothing
        config.update(x_labels=None, xrange=None, y_labels=None, range=None, show_x_labels=False,
                      show_y_labels=False, show_y_guides=False)
    plot = _Plot(**config)
    plot.extras = {"labels": size != "compact", "bands": k.bands, "thresholds": thresholds, "font": fs, "unit": k.unit_label,
                   "legend": [dict(it, y=it["y"] + height - legend_h) for it in legend] if legend_h else []}
    if points:
        plot.add(names[0], [(p[0], p[1]) for p in points])
        if k.pair:
            plot.add(names[1], [(p[0], p[2]) for p in points if p[2] is not None])
    plot.add_xml_filter(lambda root: _clean(root, str(k.label), describe(s)))
    return plot.render(is_unicode=True)


def _clean(root, title: str, desc: str):
    """What an <img> needs: no script, no comments carrying URLs, no tooltips; a title and a
    description for assistive technology; width 100% for any container."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            if child.tag is ET.Comment or tag.endswith("script") or tag.endswith("desc") \
                    or (tag.endswith("title") and not child.text) \
                    or (child.get("class") or "").split()[-1:] in (["tooltip"], ["tooltip-overlay"]):
                parent.remove(child)
    root.attrib.pop("id", None)
    root.set("width", "100%")
    root.set("role", "img")
    root.set("aria-labelledby", "chart-title chart-desc")
    t = next(c for c in root if isinstance(c.tag, str) and c.tag.endswith("title"))
    t.text = title
    t.set("id", "chart-title")
    d = ET.Element("desc", id="chart-desc")
    d.text = desc
    root.insert(list(root).index(t) + 1, d)
    return root
