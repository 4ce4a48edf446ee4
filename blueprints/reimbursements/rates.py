"""The deductibles in force on a date, read from rates.json (one dated file, not code): the
amounts change by decree, and a line from 2023 is explained with 2023's figures."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

_FILE = Path(__file__).with_name("rates.json")


@cache
def _periods() -> tuple[tuple[date, dict], ...]:
    data = json.loads(_FILE.read_text(encoding="utf-8"))
    return tuple(sorted((date.fromisoformat(p["from"]), p) for p in data["periods"]))


def on(day: date) -> dict:
    """The figures in force on `day` (the earliest period for older days)."""
    found = _periods()[0][1]
    for start, figures in _periods():
        if start <= day:
            found = figures
    return found


def year_caps(year: int) -> dict:
    """The annual caps of a calendar year (those in force on its last day)."""
    figures = on(date(year, 12, 31))
    return {"participation": figures["participation_year_cap"], "franchise": figures["franchise_year_cap"]}
