"""Measures import: a 1,000,000-record Apple Health export.zip, parsed bare (the floor) and
imported for real into a fresh SQLite database, in one run.

    .venv/bin/python -m benchmarks.run measures_import        # about a minute
    .venv/bin/python -m benchmarks.run --keep measures_import # keep the temp folder (zip, database)

1. Generates (seed 42, in a temp folder) an export.zip shaped like a real one: the DOCTYPE with
   its internal DTD, ten years of a watch (heart rate with device strings and motion metadata,
   steps, SpO2), a scale (weight), blood pressure correlations, glucose with meal metadata, and
   record types Carnet does not keep.
2. (a) the floor: the same pyexpat parser over the zip member, with a handler that only counts
   Record elements; (b) the import, in a subprocess so its peak RSS is its own (its VmHWM, plus
   the VmHWM of the parse process it starts, summed as if both peaked at once): a
   fresh instance (metadata create_all, one holder), the upload step (the zip checked and
   stored encrypted as it came) then the job (decrypt, inflate, parse in its own process,
   check, batch INSERT ... ON CONFLICT DO NOTHING). Records/s counts every Record element of the file.
Targets: >= 100,000 records/s, peak RSS <= 300 MB, import time / bare parse time <= 3.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks import instance
from benchmarks.memory import proc_kb
from benchmarks.report import Row, SectionResult
from benchmarks.server import ROOT

TITLE = "Measures import: 1,000,000-record Apple Health export into SQLite"
RECORDS = int(os.environ.get("BENCH_IMPORT_RECORDS", 1_000_000))  # smaller for a quick look
DEVICE = (
    "&lt;&lt;HKDevice: 0x283fa0e10&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
    "hardware:Watch6,1, software:9.1&gt;"
)
UNSUPPORTED = [
    "ActiveEnergyBurned",
    "BasalEnergyBurned",
    "DistanceWalkingRunning",
    "FlightsClimbed",
    "AppleExerciseTime",
    "EnvironmentalAudioExposure",
]


def generate(path: Path, n: int = RECORDS, seed: int = 42) -> int:
    """Write export.zip with n Record elements (grouped by type, as Apple writes them)."""
    rnd = random.Random(seed)
    tz = timezone(timedelta(hours=1))
    start = datetime(2016, 1, 1, tzinfo=tz)
    span = 10 * 365 * 86400
    plan = [
        ("HeartRate", 0.58),
        ("StepCount", 0.28),
        ("OxygenSaturation", 0.04),
        ("BodyMass", 0.004),
        ("BloodGlucose", 0.003),
        ("BP", 0.004),
        ("UNSUPPORTED", 0.079),
    ]
    dtd = (
        "<!DOCTYPE HealthData [\n<!-- HealthKit Export Version: 14 -->\n"
        "<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord)*)>\n"
        "<!ATTLIST HealthData locale CDATA #REQUIRED>\n<!ELEMENT ExportDate EMPTY>\n"
        "<!ATTLIST ExportDate value CDATA #REQUIRED>\n<!ELEMENT Me EMPTY>\n"
        "<!ATTLIST Me HKCharacteristicTypeIdentifierDateOfBirth CDATA #REQUIRED>\n"
        "<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>\n"
        "<!ATTLIST Record\n  type CDATA #REQUIRED\n  unit CDATA #IMPLIED\n  value CDATA #IMPLIED\n"
        "  sourceName CDATA #REQUIRED\n  sourceVersion CDATA #IMPLIED\n  device CDATA #IMPLIED\n"
        "  creationDate CDATA #IMPLIED\n  startDate CDATA #REQUIRED\n  endDate CDATA #REQUIRED\n>\n"
        "<!ELEMENT Correlation ((MetadataEntry|Record)*)>\n"
        "<!ATTLIST Correlation type CDATA #REQUIRED sourceName CDATA #REQUIRED sourceVersion CDATA #IMPLIED\n"
        "  device CDATA #IMPLIED creationDate CDATA #IMPLIED startDate CDATA #REQUIRED endDate CDATA #REQUIRED>\n"
        "<!ELEMENT MetadataEntry EMPTY>\n<!ATTLIST MetadataEntry key CDATA #REQUIRED value CDATA #REQUIRED>\n"
        "]>\n"
    )
    written = 0

    def stamps(count):
        for t in sorted(rnd.randrange(span) for _ in range(count)):
            d = start + timedelta(seconds=t)
            yield d.strftime("%Y-%m-%d %H:%M:%S +0100")

    def rec(type_, unit, value, when, source="Apple Watch de Camille", device=DEVICE, inner=""):
        head = (
            f'<Record type="HKQuantityTypeIdentifier{type_}" sourceName="{source}" sourceVersion="9.1" '
            f'device="{device}" unit="{unit}" creationDate="{when}" startDate="{when}" endDate="{when}" '
            f'value="{value}"'
        )
        return f"{head}>\n{inner}</Record>\n" if inner else head + "/>\n"

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        with z.open("apple_health_export/export.xml", "w", force_zip64=True) as out:
            out.write(
                (
                    '<?xml version="1.0" encoding="UTF-8"?>\n' + dtd + '<HealthData locale="fr_FR">\n'
                    ' <ExportDate value="2026-11-28 09:00:00 +0100"/>\n'
                    ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1987-03-14"/>\n'
                ).encode()
            )
            for kind, share in plan:
                count = int(n * share)
                if kind == "BP":
                    count //= 2
                if kind == "UNSUPPORTED":
                    count = n - written
                buf = []
                for when in stamps(count):
                    if kind == "HeartRate":
                        meta = (
                            '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n'
                            if rnd.random() < 0.5
                            else ""
                        )
                        buf.append(rec(kind, "count/min", rnd.randint(48, 130), when, inner=meta))
                    elif kind == "StepCount":
                        src = "iPhone de Camille" if rnd.random() < 0.5 else "Apple Watch de Camille"
                        buf.append(rec(kind, "count", rnd.randint(5, 900), when, source=src))
                    elif kind == "OxygenSaturation":
                        buf.append(rec(kind, "%", rnd.choice((0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 1)), when))
                    elif kind == "BodyMass":
                        buf.append(rec(kind, "kg", round(rnd.gauss(72, 2), 1), when, source="Withings", device=""))
                    elif kind == "BloodGlucose":
                        meta = f'  <MetadataEntry key="HKBloodGlucoseMealTime" value="{rnd.choice("12")}"/>\n'
                        buf.append(
                            rec(
                                kind,
                                "mmol&lt;180.1558800000541&gt;/L",
                                round(rnd.uniform(4, 9), 1),
                                when,
                                source="OneTouch",
                                device="",
                                inner=meta,
                            )
                        )
                    elif kind == "BP":
                        high, low = rnd.randint(105, 150), rnd.randint(62, 95)
                        buf.append(
                            f'<Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Omron" '
                            f'sourceVersion="1" creationDate="{when}" startDate="{when}" endDate="{when}">\n'
                            + rec("BloodPressureSystolic", "mmHg", high, when, "Omron", "")
                            + rec("BloodPressureDiastolic", "mmHg", low, when, "Omron", "")
                            + "</Correlation>\n"
                        )
                        written += 1
                    else:
                        buf.append(rec(rnd.choice(UNSUPPORTED), "kcal", round(rnd.uniform(0.1, 40), 2), when))
                    written += 1
                    if len(buf) >= 10000:
                        out.write("".join(buf).encode())
                        buf.clear()
                out.write("".join(buf).encode())
            out.write(b"</HealthData>\n")
    return written


def bare_parse(path: Path) -> tuple[float, int]:
    """The floor: unzip + pyexpat with a handler that only counts Record elements."""
    from xml.parsers import expat

    count = [0]

    def start(name, attrs):
        if name == "Record":
            count[0] += 1

    started = time.perf_counter()
    with zipfile.ZipFile(path) as z, z.open("apple_health_export/export.xml") as member:
        p = expat.ParserCreate()
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartElementHandler = start
        while chunk := member.read(64 * 1024):
            p.Parse(chunk, False)
        p.Parse(b"", True)
    return time.perf_counter() - started, count[0]


class _ChildPeak:
    """The highest VmHWM of this process's children, read every 50 ms while they run."""

    def __init__(self):
        import threading

        self.kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.05):
            try:
                kids = Path(f"/proc/{me}/task/{me}/children").read_text().split()
            except OSError:
                return
            for pid in kids:
                try:
                    self.kb = max(self.kb, proc_kb(pid, "VmHWM"))
                except (OSError, RuntimeError):  # the child ended meanwhile
                    continue

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.kb / 1024


def child(zip_path: str, folder: str) -> None:
    """In a fresh process: a fresh instance and holder, then upload step + job; JSON on stdout."""
    from blueprints.measures.imports import jobs, upload
    from core.access import viewer_for
    from core.db import db
    from core.people import Account

    app = instance.child_app(folder)
    with app.test_request_context():
        patient = instance.pending_space()
        account = db.session.query(Account).filter_by(patient_id=patient.id).one()
        db.session.commit()
        viewer = viewer_for(account)
        t0 = time.perf_counter()
        with open(zip_path, "rb") as fh:
            imp = upload.store_upload(viewer, "apple", "export.zip", fh)
        db.session.commit()
        t1 = time.perf_counter()
        import_id = imp.id
    with app.app_context():
        peak = _ChildPeak()
        t2 = time.perf_counter()
        done = jobs.run(import_id)
        t3 = time.perf_counter()
        child_peak_mb = peak.stop()
        result = {
            "status": done.status,
            "error": done.error,
            "added": done.added,
            "present": done.present,
            "rejected": done.rejected,
            "ignored": done.ignored,
            "xml_bytes": done.size,
            "upload_s": t1 - t0,
            "job_s": t3 - t2,
            "peak_rss_mb": proc_kb("self", "VmHWM") / 1024,
            "parse_process_peak_rss_mb": child_peak_mb,
        }
    print(json.dumps(result))


def run(opts) -> SectionResult:
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-import-"))
    try:
        zip_path = folder / "export.zip"
        t = time.perf_counter()
        records = generate(zip_path)
        gen_s = time.perf_counter() - t
        bare_s, counted = bare_parse(zip_path)
        if counted != records:
            raise RuntimeError(f"bare parse counted {counted} records, {records} written")
        instance_dir = folder / "instance"
        instance_dir.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_") and k != "DATABASE_URL"}
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.measures_import", str(zip_path), str(instance_dir)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        res = json.loads(out.stdout.strip().splitlines()[-1])
        if res["status"] != "done":
            raise RuntimeError(f"import ended {res['status']}: {res['error']}")
        total = res["upload_s"] + res["job_s"]
        peak = res["peak_rss_mb"] + res["parse_process_peak_rss_mb"]
        rate, ratio = records / total, total / bare_s
        rows = [
            Row("records in the file", records, "", "{:,.0f}"),
            Row("bare streaming parse (floor)", bare_s, "s", "{:.2f}", detail=f"{records / bare_s:,.0f} records/s"),
            Row("import: upload step (check the zip, encrypt it)", res["upload_s"], "s", "{:.2f}"),
            Row("import: job (decrypt, inflate, parse, write)", res["job_s"], "s", "{:.2f}"),
            Row("import records/s", rate, "/s", "{:,.0f}", ">= 100,000", rate >= 100_000),
            Row(
                "import peak RSS (job + parse process)",
                peak,
                "MB",
                "{:.0f}",
                "<= 300",
                peak <= 300,
                detail=f"job {res['peak_rss_mb']:.0f} MB + parse process {res['parse_process_peak_rss_mb']:.0f} MB, "
                "each at its own peak",
            ),
            Row("import time / bare parse", ratio, "x", "{:.2f}", "<= 3", ratio <= 3),
        ]
        lines = [
            f"export.zip {zip_path.stat().st_size / 2**20:.0f} MB, export.xml {res['xml_bytes'] / 2**20:.0f} MB, "
            f"generated in {gen_s:.0f} s; measures added {res['added']:,}, rejected {res['rejected']:,}, "
            f"not kept {res['ignored']:,}"
        ]
        return SectionResult(
            "measures_import",
            TITLE,
            rows,
            lines,
            {**res, "records": records, "bare_s": bare_s, "records_per_s": rate, "ratio": ratio},
        )
    finally:
        if getattr(opts, "keep", False):
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2])
