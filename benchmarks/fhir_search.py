"""FHIR Observation search over 200,000 measures: the first page and a deep page, as an app
calls them (bearer token, through the WSGI stack: gate, scope, keyset page, JSON).

    .venv/bin/python -m benchmarks.run fhir_search

A temporary SQLite instance, one holder with 200,000 heart-rate readings over two years (the
measures_chart data), one connected app with `patient/Observation.rs`. Timed in process with
the Flask test client, 20 runs after 2 warm-ups per case (median, p95): the first page of 50,
the same with a code filter, and a page 150,000 rows deep (its cursor taken from the data, as
following `next` links would reach it). The ratio deep / first says whether depth costs.
Target: median <= 100 ms per page, ratio <= 2.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks import instance
from benchmarks.measures_chart import POINTS, _rows
from benchmarks.report import Row, SectionResult, percentile

TITLE = "FHIR Observation search: 200,000 measures, first and deep pages"
RUNS = 20
WARMUP = 2
DEPTH = 150_000
MEDIAN_MS_TARGET = 100.0


def run(opts) -> SectionResult:
    import secrets

    from sqlalchemy import select

    from app import create_app
    from blueprints.apps import services as apps, tokens
    from blueprints.apps.models import Token
    from blueprints.fhir.search import encode_cursor
    from blueprints.measures.models import Measure
    from core import access, clock
    from core.db import db

    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-fhir-"))
    try:
        app = create_app({"DEMO": False, "SERVER_NAME": "localhost", **instance.IN_PROCESS}, instance_path=str(folder))
        with app.app_context():
            db.create_all()
            with app.test_request_context():
                patient = instance.pending_space()
                db.session.commit()
                pid = patient.id
            now = int(clock.utcnow().timestamp())
            started = time.perf_counter()
            with db.engine.begin() as conn:
                conn.execute(Measure.__table__.insert(), _rows(pid, now))
            insert_s = time.perf_counter() - started
            with app.test_request_context():
                holder = access.Viewer("holder", None, pid, rights=access.HOLDER_RIGHTS)
                referenced, _secret = apps.register(
                    name="Bench",
                    publisher="Bench",
                    description="",
                    purpose_keys=["measures_read"],
                    redirect_uris=["http://localhost:9/cb"],
                    referenced_on=date(2026, 1, 1),
                )
                conn_row = apps.connect(holder, referenced, ["measures_read"], "1y")
                raw = secrets.token_urlsafe(32)
                db.session.add(
                    Token(
                        access_hash=tokens.digest(raw),
                        app_id=referenced.id,
                        connection_id=conn_row.id,
                        patient_id=pid,
                        scope=conn_row.scope,
                        issued_at=clock.utcnow(),
                        expires_in=10**6,
                    )
                )
                db.session.commit()
                deep = db.session.execute(
                    select(Measure.taken_at, Measure.id)
                    .where(Measure.patient_id == pid)
                    .order_by(Measure.taken_at.desc(), Measure.id.desc())
                    .offset(DEPTH - 1)
                    .limit(1)
                ).one()
            db.session.remove()

        client = app.test_client()
        auth = {"Authorization": f"Bearer {raw}"}
        cases = {
            "first page": "/fhir/Observation?_count=50",
            "first page, code=8867-4": "/fhir/Observation?code=http://loinc.org|8867-4&_count=50",
            f"page {DEPTH:,} rows deep": f"/fhir/Observation?_count=50&_cursor={encode_cursor(deep[0], deep[1])}",
        }
        results = {}
        for label, url in cases.items():
            times = []
            for i in range(WARMUP + RUNS):
                t0 = time.perf_counter()
                r = client.get(url, headers=auth)
                elapsed = (time.perf_counter() - t0) * 1000
                assert r.status_code == 200 and len(r.json["entry"]) == 50, (label, r.status_code)
                if i >= WARMUP:
                    times.append(elapsed)
            results[label] = {
                "median_ms": statistics.median(times),
                "p95_ms": percentile(times, 95),
                "bytes": len(r.data),
            }
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        if not getattr(opts, "keep", False):
            shutil.rmtree(folder, ignore_errors=True)

    first = results["first page"]["median_ms"]
    table = []
    for label, r in results.items():
        table.append(
            Row(
                f"{label}: median",
                r["median_ms"],
                "ms",
                target=f"<= {MEDIAN_MS_TARGET:.0f} ms",
                ok=r["median_ms"] <= MEDIAN_MS_TARGET,
                detail=f"{r['bytes'] / 1024:.0f} KB of JSON",
            )
        )
        table.append(Row(f"{label}: p95", r["p95_ms"], "ms"))
    deep_label = f"page {DEPTH:,} rows deep"
    ratio = results[deep_label]["median_ms"] / first
    table.append(Row("deep / first (median)", ratio, "x", target="<= 2", ok=ratio <= 2))
    lines = [
        f"{POINTS:,} readings inserted in {insert_s:.1f} s (SQLite, Core executemany).",
        f"{RUNS} timed requests per case after {WARMUP} warm-ups, through the test client (no network); "
        "each request traced (one audit event per call), as in production.",
    ]
    data = {"points": POINTS, "runs": RUNS, "cases": results, "ratio_deep_first": ratio}
    return SectionResult("fhir_search", TITLE, table, lines, data)
