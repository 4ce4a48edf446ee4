"""What a benchmark section returns, and how it is printed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of `values` by nearest rank (the smallest value with at least
    q % of them at or below it), 0.0 for none."""
    values = sorted(values)
    return values[max(0, math.ceil(q * len(values) / 100) - 1)] if values else 0.0


@dataclass
class Row:
    label: str
    value: float
    unit: str = ""
    fmt: str = "{:.1f}"
    target: str | None = None
    ok: bool | None = None  # None: a figure without a target
    detail: str = ""


@dataclass
class SectionResult:
    name: str
    title: str
    rows: list[Row]
    lines: list[str] = field(default_factory=list)  # context printed under the table
    data: dict = field(default_factory=dict)  # written to benchmarks/out/<name>.json


def table(rows: list[Row]) -> str:
    width = max(len(r.label) for r in rows) + 2
    values = [r.fmt.format(r.value) + (f" {r.unit}" if r.unit else "") for r in rows]
    vwidth = max(len(v) for v in values)
    out = []
    for r, v in zip(rows, values):
        line = f"{r.label:<{width}}{v:>{vwidth}}"
        if r.target:
            line += f"   (target {r.target})"
        if r.ok is not None:
            line += "  OK" if r.ok else "  MISSED"
        if r.detail:
            line += f"   [{r.detail}]"
        out.append(line)
    return "\n".join(out)


def show(result: SectionResult) -> str:
    bar = "=" * len(result.title)
    parts = [result.title, bar, table(result.rows)]
    if result.lines:
        parts += [""] + result.lines
    return "\n".join(parts)
