"""The out-of-pocket chart of a year: twelve bars, laid out here and written as SVG by
templates/reimbursements/chart.svg (drawn on the server: it prints and needs no script)."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from core.formatting import date_text, money
from core.i18n import gettext as _

WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 360, 220, 56, 12, 28


def _step(top: int) -> int:
    """A round step (in cents) for about four guide lines."""
    for step in (500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000, 200000, 500000):
        if top / step <= 4:
            return step
    return 1000000


def year_chart(months: list[dict], year: int) -> Markup:
    top = max((m["remainder"] for m in months), default=0)
    step = _step(max(top, 1))
    scale_top = max(step, -(-top // step) * step)
    base = HEIGHT - BOTTOM
    span = base - TOP
    slot = (WIDTH - LEFT - 6) / len(months)
    bars = []
    for i, m in enumerate(months):
        value = max(0, m["remainder"])
        h = round(span * value / scale_top, 1)
        bars.append(
            {
                "x": round(LEFT + i * slot + slot * 0.15, 1),
                "w": round(slot * 0.7, 1),
                "y": round(base - h, 1),
                "h": h,
                "label": date_text(m["month"], "MMMMM"),
                "title": f"{date_text(m['month'], 'MMMM yyyy')} : {money(m['remainder'])}",
            }
        )
    yticks = [
        {"y": round(base - span * v / scale_top, 1), "label": money(v).replace(",00", "")}
        for v in range(0, scale_top + 1, step)
    ]
    return Markup(
        render_template(
            "reimbursements/chart.svg",
            width=WIDTH,
            height=HEIGHT,
            left=LEFT,
            base=base,
            bars=bars,
            yticks=yticks,
            title=_("What was left to pay each month of %(year)s", year=year),
        )
    )
