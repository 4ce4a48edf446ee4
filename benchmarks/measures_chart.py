"""Measure charts: server time and SVG size of one chart over 200,000 heart-rate readings.

    .venv/bin/python -m benchmarks.run measures_chart           # about a minute, most of it inserting
    .venv/bin/python -m benchmarks.run --runs 1 measures_chart   # 20 timed charts per case either way

A temporary SQLite instance (schema from the models), one holder, 200,000 heart-rate readings
spread over two years (one every ~5 minutes, a daily rhythm plus noise, a few spikes) inserted
with SQLAlchemy Core. Then, in process, in a French request context, `charts.chart()` for
ranges "all" and "1y" at both sizes: fetch through the gate + downsampling + SVG rendering,
timed together (median and p95 of 20 runs after 2 warm-ups), with the database part (`series.load`,
with the bucket count chart() asks for at that size) timed apart, and the SVG size.
Targets: median <= 100 ms, SVG <= 150 KB.
"""

from __future__ import annotations

import math
import random
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks import instance
from benchmarks.report import Row, SectionResult, percentile

TITLE = "Measure charts: 200,000 heart-rate points, fetch + downsample + SVG"
POINTS = 200_000
YEARS = 2
RUNS = 20
WARMUP = 2
MEDIAN_MS_TARGET = 100.0
SVG_KB_TARGET = 150.0


def _rows(patient_id: str, now: int, seed: int = 11) -> list[dict]:
    from blueprints.measures import kinds

    k = kinds.KINDS["heart_rate"]
    rnd = random.Random(seed)
    span = YEARS * 365 * 86400
    rows = []
    for i in range(POINTS):
        t = now - span + int(i * span / POINTS)
        hour = (t // 3600) % 24
        value = 62 + 18 * math.sin((hour - 9) / 24 * 2 * math.pi) + rnd.gauss(0, 7)
        if rnd.random() < 0.0005:
            value += rnd.choice((60, -25))
        value = float(round(min(max(value, 30), 220)))
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "patient_id": patient_id,
                "kind": k.key,
                "taken_at": t,
                "utc_offset": 60,
                "value": value,
                "value2": None,
                "context": None,
                "source": "apple",
                "source_name": "Apple Watch",
                "dedup": kinds.dedup_key(k, value),
            }
        )
    return rows


def run(opts) -> SectionResult:
    from app import create_app
    from blueprints.measures import charts, drawing, kinds, series
    from blueprints.measures.models import Measure
    from core import access, clock
    from core.db import db

    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-charts-"))
    try:
        app = create_app({"DEMO": False, **instance.IN_PROCESS}, instance_path=str(folder))
        with app.app_context():
            db.create_all()
            with app.test_request_context():
                patient = instance.pending_space()
                db.session.commit()
                pid = patient.id
            now = int(clock.utcnow().timestamp())
            rows = _rows(pid, now)
            started = time.perf_counter()
            with db.engine.begin() as conn:
                conn.execute(Measure.__table__.insert(), rows)
            insert_s = time.perf_counter() - started
            del rows
            db.session.remove()

        kind = kinds.KINDS["heart_rate"]
        viewer = access.Viewer("holder", None, pid, rights=access.HOLDER_RIGHTS)
        cases = [("all", "wide"), ("1y", "wide"), ("all", "compact"), ("1y", "compact")]
        results = {}
        with app.test_request_context():  # French locale, Europe/Paris, as a page request
            for range_key, size in cases:
                total, fetch, render = [], [], []
                for i in range(WARMUP + RUNS):
                    t0 = time.perf_counter()
                    out = charts.chart(viewer, kind, range_key, size=size)
                    t1 = time.perf_counter()
                    s = series.load(viewer, kind, range_key, charts.buckets_for(size))  # as chart() does
                    t2 = time.perf_counter()
                    drawing.render(s, charts.describe(s), size)
                    t3 = time.perf_counter()
                    db.session.rollback()  # each chart in its own read transaction, as a request would
                    if i >= WARMUP:
                        total.append((t1 - t0) * 1000)
                        fetch.append((t2 - t1) * 1000)
                        render.append((t3 - t2) * 1000)
                results[(range_key, size)] = {
                    "count": out["count"],
                    "svg_bytes": len(out["svg"].encode()),
                    "median_ms": statistics.median(total),
                    "p95_ms": percentile(total, 95),
                    "fetch_median_ms": statistics.median(fetch),
                    "render_median_ms": statistics.median(render),
                }
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        if not getattr(opts, "keep", False):
            shutil.rmtree(folder, ignore_errors=True)

    table_rows = []
    for (range_key, size), r in results.items():
        label = f'"{range_key}" {size} ({r["count"]:,} points)'
        table_rows.append(
            Row(
                f"{label}: median",
                r["median_ms"],
                "ms",
                target=f"<= {MEDIAN_MS_TARGET:.0f} ms",
                ok=r["median_ms"] <= MEDIAN_MS_TARGET,
                detail=f"fetch {r['fetch_median_ms']:.1f} ms + svg {r['render_median_ms']:.1f} ms",
            )
        )
        table_rows.append(Row(f"{label}: p95", r["p95_ms"], "ms"))
        table_rows.append(
            Row(
                f"{label}: SVG",
                r["svg_bytes"] / 1024,
                "KB",
                target=f"<= {SVG_KB_TARGET:.0f} KB",
                ok=r["svg_bytes"] / 1024 <= SVG_KB_TARGET,
            )
        )
    lines = [
        f"{POINTS:,} readings over {YEARS} years inserted in {insert_s:.1f} s (SQLite, Core executemany).",
        f"{RUNS} timed charts per case after {WARMUP} warm-ups; the whole chart() call is timed, fetch "
        "(series.load) and rendering (drawing.render) are timed again apart.",
    ]
    data = {
        "points": POINTS,
        "runs": RUNS,
        "insert_s": insert_s,
        "cases": {f"{k[0]}/{k[1]}": v for k, v in results.items()},
        "targets": {"median_ms": MEDIAN_MS_TARGET, "svg_kb": SVG_KB_TARGET},
    }
    return SectionResult("measures_chart", TITLE, table_rows, lines, data)
