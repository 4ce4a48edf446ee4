"""Reimbursements: the list of a holder with ten years of lines (about 3,000), and a
100,000-line statement imported through the job.

    .venv/bin/python -m benchmarks.run reimbursements        # about a minute

1. List. A temporary SQLite instance (schema from the models), two holders: one with about
   3,000 lines over ten years, one with about 300 over one year (the demo's generator, denser).
   In a French request context, the index view itself (gate, filters, the page of lines and its
   months' totals, the deductible caps, the template) is called 30 times after 3 warm-ups,
   then a filtered fragment (htmx, one nature), the year view, and the documents page of the
   same holder (no document: a page of the app as it stood, for the machine's pace). The SQL statements of one
   call are counted for both holders: they must be the same number whatever the lines.
   Target: median <= 20 ms.
2. Import. A 100,000-line statement (CSV, ';', decimal comma; several holders' years of care
   for one holder) written to a temporary file, then, in a subprocess so its peak RSS is its
   own: the upload step (stored encrypted) and the job (decrypt, parse in a thread or its own
   process, write in batches with corrections applied), then the same file again (nothing
   added). Lines/s counts every line of the file.
3. Batch. The operator's command on a statement of 100,000 lines across 1,000 holders, their
   lines interleaved, then on a quarter of it (benchmarks/remb_batch.py): peak RSS of each
   process, which must not grow with the file (the split per holder is an external sort).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks import instance, remb_batch
from benchmarks.memory import proc_kb
from benchmarks.report import Row, SectionResult
from benchmarks.server import ROOT

TITLE = "Reimbursements: a 10-year list (~3,000 lines), a 100,000-line statement import, a 1,000-holder batch"
RUNS, WARMUP = 30, 3
MEDIAN_MS_TARGET = 20.0
IMPORT_LINES = int(os.environ.get("BENCH_REMB_LINES", 100_000))


def _holder(nir_prefix: str, email: str):
    return instance.pending_space(nir_prefix, email).id


def _timed(call, runs=RUNS) -> list[float]:
    from core.db import db

    out = []
    for i in range(WARMUP + runs):
        t0 = time.perf_counter()
        call()
        t1 = time.perf_counter()
        db.session.rollback()
        if i >= WARMUP:
            out.append((t1 - t0) * 1000)
    return out


def _list_figures() -> dict:
    from flask import g
    from sqlalchemy import event, insert

    from app import create_app
    from blueprints.demo.reimbursements import lines, rows_for
    from blueprints.reimbursements.models import Reimbursement
    from core import access
    from core.clock import paris_today
    from core.db import db

    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-remb-"))
    try:
        app = create_app({"DEMO": False, **instance.IN_PROCESS}, instance_path=str(folder))
        today = paris_today()
        with app.app_context():
            db.create_all()
            with app.test_request_context():
                big = _holder("2870375100001", "big@example.fr")
                small = _holder("2870375100002", "small@example.fr")
                empty = _holder("2870375100003", "empty@example.fr")
                db.session.commit()
            heavy = rows_for(big, lines(today, years=10, visits_per_year=130))
            light = rows_for(small, lines(today, years=1, visits_per_year=130, seed=7))
            with db.engine.begin() as conn:
                conn.execute(insert(Reimbursement), heavy)
                conn.execute(insert(Reimbursement), light)
            db.session.remove()
        counts = {"heavy": len(heavy), "light": len(light)}
        view = app.view_functions["reimbursements.index"]
        year_view = app.view_functions["reimbursements.year"]
        documents = app.view_functions["documents.index"]  # a page of the app as it stood: the machine's pace
        statements = {"n": 0}

        def count(*_a, **_k):
            statements["n"] += 1

        results = {}
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", count)
            for who, pid in (("heavy", big), ("light", small), ("empty", empty)):
                viewer = access.Viewer("holder", None, pid, rights=access.HOLDER_RIGHTS, name="Camille")
                figures = {}
                for label, path, headers, call in (
                    ("page", "/remboursements", {}, lambda: view()),
                    ("fragment", "/remboursements?nature=pharmacie", {"HX-Request": "true"}, lambda: view()),
                    ("year", f"/remboursements/annee/{today.year}", {}, lambda: year_view(year=today.year)),
                    ("documents", "/documents", {}, lambda: documents()),
                ):
                    with app.test_request_context(path, headers=headers):
                        g.viewer = viewer
                        statements["n"] = 0
                        call()
                        db.session.rollback()
                        queries = statements["n"]
                        timings = _timed(call)
                    figures[label] = {
                        "median_ms": statistics.median(timings),
                        "max_ms": max(timings),
                        "queries": queries,
                    }
                results[who] = figures
            event.remove(db.engine, "before_cursor_execute", count)
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"counts": counts, "results": results}


def _statement(path: Path, n: int) -> int:
    """n statement lines for one holder, from the demo's generator repeated over the years."""
    from blueprints.demo.reimbursements import lines

    status = {"paid": "payé", "pending": "en attente", "rejected": "rejeté"}
    header = (
        "reference;date_soins;date_paiement;nature;acte;professionnel;montant_paye;base_remboursement;taux;"
        "montant_amo;participation_forfaitaire;franchise;montant_amc;reste_a_charge;statut;motif_rejet;date_traitement\n"
    )

    def eur(c):
        return f"{'-' if c < 0 else ''}{abs(c) // 100},{abs(c) % 100:02d}"

    written = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(header)
        seed = 0
        end = date(2026, 11, 30)
        while written < n:
            for x in lines(end, years=10, visits_per_year=125, seed=seed):
                if written >= n:
                    break
                paid = x["paid_on"].strftime("%d/%m/%Y") if x["paid_on"] else ""
                fh.write(
                    f"S{seed:03d}-{written:07d};{x['care_date'].strftime('%d/%m/%Y')};{paid};{x['nature']};{x['act']};"
                    f"{x['provider']};{eur(x['charged'])};{eur(x['base'])};{x['rate']};{eur(x['amo'])};"
                    f"{eur(x['participation'])};{eur(x['franchise'])};{eur(x['amc'])};{eur(x['remainder'])};"
                    f"{status[x['status']]};{x['rejection'] or ''};{paid}\n"
                )
                written += 1
            seed += 1
            end -= timedelta(days=1)
    return written


def child(csv_path: str, folder: str) -> None:
    """In a fresh process: an instance and a holder, the upload step and the job, twice."""
    from blueprints.measures.imports import jobs
    from blueprints.reimbursements.imports import services
    from core.access import viewer_for
    from core.db import db
    from core.people import Account

    app = instance.child_app(folder)
    result = {}
    with app.test_request_context():
        pid = _holder("2870375100001", "bench@example.fr")
        account = db.session.query(Account).filter_by(patient_id=pid).one()
        db.session.commit()
        viewer = viewer_for(account)
        for attempt in ("first", "again"):
            t0 = time.perf_counter()
            with open(csv_path, "rb") as fh:
                imp = services.send(viewer, "releve.csv", fh)
            db.session.commit()
            t1 = time.perf_counter()
            import_id = imp.id
            with app.app_context():
                done = jobs.run(import_id)
                t2 = time.perf_counter()
                result[attempt] = {
                    "status": done.status,
                    "error": done.error,
                    "added": done.added,
                    "present": done.present,
                    "rejected": done.rejected,
                    "upload_s": t1 - t0,
                    "job_s": t2 - t1,
                }
    result["peak_rss_mb"] = proc_kb("self", "VmHWM") / 1024
    print(json.dumps(result))


def run(opts) -> SectionResult:
    listing = _list_figures()
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-remb-import-"))
    try:
        csv_path = folder / "releve.csv"
        written = _statement(csv_path, IMPORT_LINES)
        size_mb = csv_path.stat().st_size / (1024 * 1024)
        instance_dir = folder / "instance"
        instance_dir.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_") and k != "DATABASE_URL"}
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.reimbursements", str(csv_path), str(instance_dir)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        res = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if not getattr(opts, "keep", False):
            shutil.rmtree(folder, ignore_errors=True)

    rows = []
    heavy, light, empty = (listing["results"][k] for k in ("heavy", "light", "empty"))
    for label in ("page", "fragment", "year"):
        h, lt = heavy[label], light[label]
        target = f"<= {MEDIAN_MS_TARGET:.0f} ms" if label == "page" else None
        ok = h["median_ms"] <= MEDIAN_MS_TARGET if label == "page" else None
        rows.append(
            Row(
                f"list {label}, {listing['counts']['heavy']:,} lines: median",
                h["median_ms"],
                "ms",
                target=target,
                ok=ok,
                detail=f"max {h['max_ms']:.1f} ms; {listing['counts']['light']:,} lines: {lt['median_ms']:.1f} ms",
            )
        )
        rows.append(
            Row(
                f"list {label}: SQL statements, {listing['counts']['heavy']:,} vs {listing['counts']['light']:,} lines",
                h["queries"],
                "",
                "{:.0f}",
                target="constant",
                ok=h["queries"] == lt["queries"],
                detail=f"{lt['queries']} with {listing['counts']['light']:,} lines",
            )
        )
    rows.append(
        Row(
            "list page: time / the same page with no line (floor)",
            heavy["page"]["median_ms"] / empty["page"]["median_ms"],
            "x",
            "{:.2f}",
            detail=f"floor {empty['page']['median_ms']:.1f} ms: the shell, caps, filters, empty state",
        )
    )
    rows.append(
        Row(
            "list page: time / the documents page (no document), same run",
            heavy["page"]["median_ms"] / heavy["documents"]["median_ms"],
            "x",
            "{:.2f}",
            detail=f"documents page {heavy['documents']['median_ms']:.1f} ms",
        )
    )
    first, again = res["first"], res["again"]
    rate = written / first["job_s"]
    rows += [
        Row("statement lines in the file", written, "", "{:,.0f}", detail=f"{size_mb:.1f} MB"),
        Row("import: upload step (store encrypted)", first["upload_s"], "s", "{:.2f}"),
        Row("import: job (decrypt, parse, write)", first["job_s"], "s", "{:.2f}", detail=f"{first['added']:,} added"),
        Row("import lines/s", rate, "/s", "{:,.0f}"),
        Row(
            "same file again: job",
            again["job_s"],
            "s",
            "{:.2f}",
            detail=f"{again['added']} added, {again['present']:,} present",
        ),
        Row("import peak RSS (process)", res["peak_rss_mb"], "MB", "{:.0f}"),
    ]
    full = remb_batch.measure(remb_batch.BATCH_LINES, remb_batch.BATCH_HOLDERS, getattr(opts, "keep", False))
    quarter = remb_batch.measure(remb_batch.BATCH_LINES // 4, remb_batch.BATCH_HOLDERS, getattr(opts, "keep", False))
    growth = full["peak_mb"] - quarter["peak_mb"]
    rows += [
        Row(
            f"batch of {full['lines']:,} lines, {full['holders']:,} holders: peak RSS",
            full["peak_mb"],
            "MB",
            "{:.0f}",
            detail=f"{full['before_mb']:.0f} MB before the command; {full['stored']:,} lines stored, "
            f"{full['seconds']:.0f} s ({full['lines'] / full['seconds']:,.0f} lines/s)",
        ),
        Row(
            f"batch peak RSS growth, {quarter['lines']:,} → {full['lines']:,} lines",
            growth,
            "MB",
            "{:.1f}",
            target="flat (< 10 MB)",
            ok=growth < 10,
            detail=f"{quarter['peak_mb']:.0f} MB with {quarter['lines']:,} lines",
        ),
    ]
    lines = [
        "List timings call the view in process (gate, services, template), no WSGI; SQLite, fresh instance.",
        "Import in a subprocess: SQLite, one holder, jobs run in that process (threads off), parse process when the file is >= 16 MB.",
    ]
    lines.append("Batch in a subprocess each: SQLite, the holders created first, the command as the operator runs it.")
    raw = {"list": listing, "import": res, "lines": written, "batch": [full, quarter]}
    return SectionResult("reimbursements", TITLE, rows, lines, raw)


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2])
