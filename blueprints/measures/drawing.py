"""The chart's drawing: an SVG document from templates/measures/chart.svg, laid out here.

Carnet already computes what a chart shows: calendar ticks in local time (x_ticks), a rounded
value scale (y_scale), the kind's reference bands, and at most a few hundred points (MinMax +
LTTB in `downsample`). What is left is arithmetic: values to pixels, and a legend that wraps.
The template writes it as plain SVG elements with an inline <style>: no script, no external
reference, a <title> and a <desc> for assistive technology, a viewBox and width 100%.

Two sizes, both responsive: "wide" (760 x 340) and "compact" (360 x 300) for phones, so that
text stays readable without scaling down; a page picks one with <picture>/<source media>.
Lines differ by dash, not only by colour, and bands carry their name, so a black-and-white
print still reads.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from math import floor, log10

from flask import current_app
from flask_babel import get_timezone
from markupsafe import Markup, escape

from blueprints.measures import series as data
from blueprints.measures.downsample import downsample
from core.formatting import date_text, number
from core.i18n import gettext as _

# Colours from static/css/app.css (the SVG is its own document: it cannot read the page's CSS).
TEXT, MUTED, BORDER, SURFACE = "#1b2528", "#4f5d62", "#d5dfe0", "#ffffff"
PRIMARY, INFO = "#0b6e75", "#1f5b99"
TONES = {"ok": ("#1b6e3a", "#e7f4ec"), "watch": ("#8a4b00", "#fdf1e0"), "alert": ("#b3261e", "#fbeaea")}
FONT = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Ubuntu, Cantarell, "Helvetica Neue", Arial, sans-serif'
)
DIASTOLIC_THRESHOLDS = ((80, "watch"), (90, "alert"))  # ESH: diastolic 80-89 high normal, >= 90 high
DOTS = 60  # up to this many points, each is marked

SIZES = {
    # width, height, font, points drawn, most x labels, most y labels
    "wide": (760, 340, 13, 500, 8, 7),
    "compact": (360, 300, 12, 240, 4, 6),
    "small": (360, 170, 11, 80, 3, 3),  # printed, two abreast on A4 ("Ma synthèse")
}


def render(s: data.Series, description: str, size: str = "wide", ids: str = "chart", css: bool = True) -> str:
    """The chart as a standalone SVG document; `ids` prefixes its element ids, unique when
    several charts sit inline in one page. `css=False`: styled by presentation attributes
    instead of a <style> sheet, the same drawing for WeasyPrint, which parses and matches each
    chart's sheet anew (a fifth of its work on a chart; docs/performance.md, 14)."""
    width, height, fs, target, most_x, most_y = SIZES.get(size, SIZES["wide"])
    k = s.kind
    page = {
        "css": css,
        "a": NO_ATTRIBUTES if css else _attributes(fs),
        "width": width,
        "height": height,
        "fs": fs,
        "font": FONT,
        "title": str(k.label),
        "desc": description,
        "ids": ids,
        "colours": {
            "text": TEXT,
            "muted": MUTED,
            "border": BORDER,
            "surface": SURFACE,
            "primary": PRIMARY,
            "info": INFO,
        },
        "unit": k.unit_label,
        "plot": None,
        "legend": [],
    }
    points = downsample(s.points, target, x=0, y=1, y2=2 if k.pair else None)
    if not points:  # axes without data would mean nothing
        page["no_data"] = _("No measure in this period")  # Aucune mesure sur cette période
        return _svg(page)
    names = [_("Systolic"), _("Diastolic")] if k.pair else [str(k.label)]  # Systolique, Diastolique
    legend = [
        {"type": "line", "label": n, "colour": c, "dash": "7 4" if i else None}
        for i, (n, c) in enumerate(zip(names, (PRIMARY, INFO)))
    ]
    thresholds = DIASTOLIC_THRESHOLDS if k.pair else ()
    if size != "small":  # printed small, a chart keeps its lines' names only: its caption says the rest
        legend += [{"type": "band", "label": str(b.label), "tone": TONES[b.tone]} for b in k.bands]
        if thresholds:
            legend.append({"type": "dash", "label": _("Diastolic thresholds 80 and 90"), "colour": TONES["alert"][0]})
    legend_h = _legend_layout(legend, width, fs, height) if k.pair or (k.bands and size != "small") else 0
    ylo, yhi, yticks, ydec = y_scale(*_value_range(s), most_y)
    ylabels = [number(v, ydec) for v in yticks]
    left = 6 + max(_text_width(t, fs) for t in ylabels) + 8
    top = fs + 14
    plot_w, plot_h = width - left - 10, height - top - (legend_h + 6 if legend_h else 6) - (fs + 10)

    def x(t: float) -> float:
        return round((t - s.start) / ((s.end - s.start) or 1) * plot_w, 1)

    inset = (yhi - ylo) * 0.02  # the top and bottom ticks clear the plot's edges
    vlo, vhi = ylo - inset, yhi + inset

    def y(v: float) -> float:
        return round(plot_h - (v - vlo) / (vhi - vlo) * plot_h, 1)

    lines = [[(x(p[0]), y(p[1])) for p in points]]
    if k.pair:
        lines.append([(x(p[0]), y(p[2])) for p in points if p[2] is not None])
    page["plot"] = {
        "x": round(left, 1),
        "y": top,
        "width": round(plot_w, 1),
        "height": round(plot_h, 1),
        "bands": _bands(k.bands, vlo, vhi, y, plot_w, fs, size == "wide"),
        "thresholds": [{"y": y(v), "colour": TONES[tone][0]} for v, tone in thresholds if vlo < v < vhi],
        "yticks": [
            {"y": y(v), "label": label, "label_y": round(y(v) + fs * 0.35, 1)} for v, label in zip(yticks, ylabels)
        ],
        "label_y": round(plot_h + fs + 3.5, 1),
        "xticks": [{"x": x(t["value"]), "label": t["label"]} for t in x_ticks(s.start, s.end, most_x)],
        "series": [{"d": _path(line), "dots": line if len(points) <= DOTS else []} for line in lines if line],
    }
    page["legend"] = legend if legend_h else []
    return _svg(page)


def _attributes(fs: int) -> dict[str, Markup]:
    """What each rule of the chart's <style> sets, as presentation attributes: set on the
    element, or on its group where SVG inherits them (fonts, text fill, text-anchor)."""
    out = {
        "svg": f'font-family="{escape(FONT)}" font-size="{fs}"',
        "background": f'fill="{SURFACE}"',
        "guide": f'stroke="{BORDER}" fill="none"',
        "axis_line": f'stroke="{MUTED}" fill="none"',
        "axis_x": f'fill="{MUTED}" text-anchor="middle"',
        "axis_y": f'fill="{MUTED}" text-anchor="end"',
        "band": 'fill-opacity=".85"',
        "edge": 'stroke-width="1" stroke-opacity=".55" stroke-dasharray="2 3" fill="none"',
        "threshold": 'stroke-width="1.5" stroke-dasharray="6 4" fill="none"',
        "band_label": f'font-size="{fs - 1}" text-anchor="end" font-weight="600" paint-order="stroke" '
        f'stroke="{SURFACE}" stroke-width="3" stroke-linejoin="round"',
        "unit": f'font-weight="600" fill="{TEXT}"',
        "key": f'fill="{TEXT}"',
        "key_line": 'stroke-width="2.5" fill="none"',
        "no_data": f'text-anchor="middle" fill="{TEXT}"',
        "line_0": f'fill="none" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round" stroke="{PRIMARY}"',
        "line_1": f'fill="none" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round" stroke="{INFO}" '
        'stroke-dasharray="7 4"',
        "dots_0": f'fill="{PRIMARY}" stroke="{SURFACE}" stroke-width="1"',
        "dots_1": f'fill="{INFO}" stroke="{SURFACE}" stroke-width="1"',
    }
    return {key: Markup(" " + value) for key, value in out.items()}


NO_ATTRIBUTES = defaultdict(Markup)  # styled by the chart's <style>: no attribute anywhere


def _svg(page: dict) -> str:
    """The template alone: a drawing needs nothing from the request (no context processors)."""
    return current_app.jinja_env.get_template("measures/chart.svg").render(page)


def _path(line: list[tuple[float, float]]) -> str:
    head, rest = line[0], line[1:]
    return f"M{head[0]} {head[1]}" + (" L" + " ".join(f"{px} {py}" for px, py in rest) if rest else "")


def _bands(bands, ylo: float, yhi: float, y, plot_w: float, fs: int, labels: bool) -> list[dict]:
    """The reference bands clipped to the scale, each with its edge line and, when there is
    room, its name (a black-and-white print still tells them apart)."""
    out = []
    for band in bands:
        low = ylo if band.low is None else max(band.low, ylo)
        high = yhi if band.high is None else min(band.high, yhi)
        if high <= low:
            continue
        y0, y1 = y(high), y(low)
        stroke, fill = TONES[band.tone]
        out.append(
            {
                "y": y0,
                "height": round(y1 - y0, 1),
                "fill": fill,
                "stroke": stroke,
                "edge": y(band.low) if band.low is not None and ylo < band.low < yhi else None,
                "label": str(band.label) if labels and y1 - y0 >= fs + 4 else None,
                "label_x": round(plot_w - 4, 1),
                "label_y": round(y0 + fs + 1, 1),
            }
        )
    return out


def _text_width(text: str, size: float) -> float:
    """Rough width of a label in a sans-serif system font (for layout only)."""
    return sum(0.32 if c in "il.,:;'ıj|!" else 0.62 if c.isupper() or c in "mw" else 0.54 for c in text) * size


def _legend_layout(items: list[dict], width: int, font: int, height: int) -> float:
    """Place legend items left to right under the plot, wrapping; returns the height used."""
    x, y, gap = 8.0, font, 16
    for it in items:
        w = 28 + _text_width(it["label"], font)
        if x > 8 and x + w > width - 8:
            x, y = 8.0, y + font * 1.5
        it["x"], it["y"] = round(x, 1), y
        x += w + gap
    used = y + font * 0.5
    for it in items:
        it["y"] = round(it["y"] + height - used, 1)
        it["mark_y"] = round(it["y"] - font / 3, 1)
        it["box_y"] = round(it["y"] - font + 2, 1)
    return used


# --------------------------------------------------------------------------- axes


def x_ticks(lo: int, hi: int, most: int) -> list[dict]:
    """Calendar-aligned ticks (days, weeks, months, years) in local time, at most `most`,
    labelled the French way: "3 mars", "janv. 2026", "avr.", "2025"."""
    tz = get_timezone()
    first, last = datetime.fromtimestamp(lo, tz).date(), datetime.fromtimestamp(hi, tz).date()
    days = (last - first).days + 1
    steps = [
        ("day", 1),
        ("day", 2),
        ("week", 1),
        ("week", 2),
        ("month", 1),
        ("month", 2),
        ("month", 3),
        ("month", 6),
        ("year", 1),
        ("year", 2),
        ("year", 5),
        ("year", 10),
        ("year", 20),
    ]
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
                label = date_text(day, "d MMM")
            elif unit == "month":
                label = date_text(day, "MMM y" if prev_year != day.year else "MMM")
            else:
                label = date_text(day, "y")
            prev_year = day.year
            ticks.append({"value": at, "label": label})
        day = _tick_next(day, unit, n)
    return ticks


def _tick_start(first: date, unit: str, n: int) -> date:
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
