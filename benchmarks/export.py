"""The full export of a heavy space: time, zip size, and the peak memory of the process that
builds the zip, at two sizes of the same space (it must stay flat: target <= 100 MB).

    .venv/bin/python -m benchmarks.run export
    .venv/bin/python -m benchmarks.run --runs 1 export       # one export per size (default 3)

A temporary SQLite instance (schema from the models) with one holder whose space holds, at
size x1, 300 documents of realistic sizes (60 % PDFs of 150-450 KB, 30 % photos of 1-2 MB,
10 % text notes of a few KB; their bytes random, so nothing compresses: the zip's worst case),
50,000 measures and 5,000 traces, plus a full profile; at size x2, twice all of that (a second
holder). Each export runs in a child process of its own (`python -m benchmarks.export child`):
the job as the app runs it (blueprints/export/runner.run: Bundle, originals, CSVs, summary PDF,
the zip encrypted into the blob store). Its peak RSS is the child's own high-water mark
(VmHWM, read by the child at its end; not getrusage: on Linux a child's ru_maxrss starts from
the RSS of the parent it was forked from). The summary PDF is laid out in a bounded grandchild
(core/pdf.py), not counted here. A child that only builds the app and reads the job (no export)
is the baseline: what importing Carnet costs, whatever is exported."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from app import create_app
from benchmarks import instance
from benchmarks.report import Row, SectionResult
from blueprints.documents.models import Document
from blueprints.export import runner
from blueprints.export.models import SpaceExport
from blueprints.measures import kinds
from blueprints.measures.models import Measure
from blueprints.profile import models as profile
from core import access, audit, blobs
from core.db import db

TITLE = "Export everything: a heavy space as one zip (time, size, peak memory at x1 and x2)"
DOCUMENTS, MEASURES, TRACES = 300, 50_000, 5_000
TARGET_MB = 100
KINDS = ("weight", "blood_pressure", "heart_rate", "glucose", "steps", "temperature", "spo2")


def _document_sizes(n: int, rnd: random.Random) -> list[tuple[str, int]]:
    out = []
    for i in range(n):
        pick = i % 10
        if pick < 6:
            out.append(("pdf", rnd.randint(150_000, 450_000)))
        elif pick < 9:
            out.append(("jpeg", rnd.randint(1_000_000, 2_000_000)))
        else:
            out.append(("text", rnd.randint(1_000, 6_000)))
    return out


HEADS = {"pdf": b"%PDF-1.7\n", "jpeg": b"\xff\xd8\xff\xe0", "text": b""}
MIMES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "text": "text/plain; charset=utf-8"}


def _seed(app, scale: int, n: int) -> str:
    """One holder's space at `scale` x the base size; returns the patient id."""

    rnd = random.Random(scale)
    with app.test_request_context():
        patient = instance.pending_space(f"28703751{n:05d}", f"bench{n}@example.fr", f"Martin{n}")
        db.session.commit()
        pid = patient.id
        for i, (kind, size) in enumerate(_document_sizes(DOCUMENTS * scale, rnd)):
            data = HEADS[kind] + (os.urandom(size) if kind != "text" else b"Compte rendu.\n" * (size // 14))
            stored = blobs.put(io.BytesIO(data), pid)
            db.session.add(
                Document(
                    patient_id=pid,
                    title=f"Compte rendu de consultation n° {i + 1}",
                    category="CPT_REND",
                    act_date=date(2020, 1, 1) + timedelta(days=i % 2000),
                    mime=MIMES[kind],
                    kind=kind,
                    original_name=f"document-{i}.{kind}",
                    size=stored.size,
                    sha256=stored.sha256,
                    blob_id=stored.blob_id,
                )
            )
            if i % 50 == 49:
                db.session.commit()
        db.session.add(profile.ProfileFacts(patient_id=pid, blood_group="A+", doctor_name="Dr Bernard"))
        for i in range(20):
            db.session.add(profile.Allergy(patient_id=pid, substance=f"Substance {i}", severity="mild"))
            db.session.add(profile.Treatment(patient_id=pid, name=f"Médicament {i}", dosage="1 le matin"))
            db.session.add(profile.Condition(patient_id=pid, kind="medical", label=f"Antécédent {i}", year=2000 + i))
            db.session.add(profile.Vaccination(patient_id=pid, name=f"Vaccin {i}", on_date=date(2010 + i % 10, 1, 1)))
        db.session.commit()
        start = int(datetime(2022, 1, 1, tzinfo=UTC).timestamp())
        rows = []
        for i in range(MEASURES * scale):
            k = kinds.KINDS[KINDS[i % len(KINDS)]]
            value = round(rnd.uniform(k.low, k.high) if k.low is not None else 50.0, k.decimals)
            value2 = 80.0 if k.key == "blood_pressure" else None
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "patient_id": pid,
                    "kind": k.key,
                    "taken_at": start + i * 600,
                    "utc_offset": 60,
                    "value": float(value),
                    "value2": value2,
                    "source": "apple",
                    "source_name": "Apple Watch",
                    "dedup": kinds.dedup_key(k, float(value), value2),
                }
            )
            if len(rows) == 10_000:
                db.session.execute(Measure.__table__.insert(), rows)
                rows.clear()
        if rows:
            db.session.execute(Measure.__table__.insert(), rows)
        db.session.commit()
        viewer = access.Viewer("holder", None, pid, rights=access.HOLDER_RIGHTS, name=f"Camille Martin{n}")
        for i in range(TRACES * scale):
            audit.record(viewer, audit.Action.LOGIN, detail={"method": "passkey"})
            if i % 1000 == 999:
                db.session.commit()
        db.session.commit()
    return pid


def _new_job(app, pid: str) -> str:

    with app.app_context():
        job = SpaceExport(patient_id=pid, base_url="http://localhost:8000")
        db.session.add(job)
        db.session.commit()
        return job.id


def _drop_job(app, job_id: str) -> None:
    with app.app_context():
        db.session.delete(db.session.get(SpaceExport, job_id))
        db.session.commit()


def _child(folder: str, job_id: str, mode: str) -> dict:
    """Run in a child process and measure it."""
    cmd = [sys.executable, "-m", "benchmarks.export", "child", folder, job_id, mode]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
    out = proc.stdout.read()
    if proc.wait() != 0:
        raise RuntimeError(f"export child failed ({proc.returncode})")
    return json.loads(out.decode().strip().splitlines()[-1])


def _vmhwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child_main(folder: str, job_id: str, mode: str) -> None:

    app = create_app({"DEMO": False, "EXPORT_THREADS": False}, instance_path=folder)
    with app.app_context():
        t0 = time.perf_counter()
        if mode == "export":
            job = runner.run(job_id)
        else:  # the baseline: the app built and the job read, nothing exported
            job = db.session.get(SpaceExport, job_id)
        seconds = time.perf_counter() - t0
        print(json.dumps({"seconds": seconds, "rss_mb": _vmhwm_mb(), "status": job.status, "size": job.size}))


def run(opts) -> SectionResult:

    runs = max(1, min(getattr(opts, "runs", 3), 3))
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-export-"))
    try:
        app = create_app({"DEMO": False, **instance.IN_PROCESS}, instance_path=str(folder))
        with app.app_context():
            db.create_all()
        t0 = time.perf_counter()
        spaces = {1: _seed(app, 1, 1), 2: _seed(app, 2, 2)}
        seeded = time.perf_counter() - t0
        load_before = os.getloadavg()[0]
        baseline_job = _new_job(app, spaces[1])
        base = _child(str(folder), baseline_job, "baseline")
        _drop_job(app, baseline_job)  # a space has one unfinished export at a time: the runs' come next
        results: dict[int, list[dict]] = {1: [], 2: []}
        for _ in range(runs):
            for scale in (1, 2):  # interleaved: the machine's load falls on both alike
                found = _child(str(folder), _new_job(app, spaces[scale]), "export")
                assert found["status"] == "done", found
                results[scale].append(found)
        load_after = os.getloadavg()[0]
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        if not getattr(opts, "keep", False):
            shutil.rmtree(folder, ignore_errors=True)

    def med(scale, key):
        return statistics.median(r[key] for r in results[scale])

    rows = []
    for scale in (1, 2):
        label = f"x{scale} ({DOCUMENTS * scale} documents, {MEASURES * scale:,} measures, {TRACES * scale:,} traces)"
        rows += [
            Row(f"{label}: time", med(scale, "seconds"), "s", fmt="{:.1f}"),
            Row(f"{label}: zip", med(scale, "size") / 1024 / 1024, "MB"),
            Row(
                f"{label}: peak RSS of the builder",
                max(r["rss_mb"] for r in results[scale]),
                "MB",
                target=f"<= {TARGET_MB} MB",
                ok=max(r["rss_mb"] for r in results[scale]) <= TARGET_MB,
            ),
            Row(
                f"{label}: of which the export's own",
                max(r["rss_mb"] for r in results[scale]) - base["rss_mb"],
                "MB",
                detail="above the baseline: the app built, nothing exported",
            ),
        ]
    growth = max(r["rss_mb"] for r in results[2]) - max(r["rss_mb"] for r in results[1])
    rows += [
        Row("peak RSS growth x1 -> x2", growth, "MB", fmt="{:+.1f}", detail="flat: the zip is written from chunks"),
        Row("baseline: the app built, no export", base["rss_mb"], "MB"),
    ]
    lines = [
        f"Spaces seeded in {seeded:.0f} s; {runs} export(s) per size, interleaved, each in a child process.",
        f"Load average (1 min) before and after: {load_before:.1f} and {load_after:.1f} on {os.cpu_count()} cores.",
    ]
    data = {
        "runs": {str(k): v for k, v in results.items()},
        "baseline": base,
        "growth_mb": growth,
        "target_mb": TARGET_MB,
        "load": [load_before, load_after],
    }
    return SectionResult("export", TITLE, rows, lines, data)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "child":
        child_main(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print("usage: python -m benchmarks.run export", file=sys.stderr)
        sys.exit(2)
