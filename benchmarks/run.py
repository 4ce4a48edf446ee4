"""Carnet benchmarks: measured figures, never pass/fail.

How to reproduce
----------------
    make bench                                  # every section
    .venv/bin/python -m benchmarks.run foundation
    .venv/bin/python -m benchmarks.run --seconds 5 --runs 1 foundation   # quick look
    .venv/bin/python -m benchmarks.run --list

Each section prints a table and writes its figures as JSON to benchmarks/out/<section>.json.

Load generator: `wrk` when installed (Debian: `apt-get install wrk`), otherwise a small Python
generator (http.client connections in 2 processes x 2 threads); `--load python|wrk` forces one.
The client runs on the same machine as the server and shares its cores, so every figure a
section compares is measured with the same generator in the same run, runs interleaved, and
medians are reported. Compare ratios across machines, not raw requests per second.

foundation
    Builds a throwaway instance in a temporary folder (Alembic `upgrade head`, then the demo
    seed), serves it with `gunicorn --workers 2` (sync workers, CARNET_DEMO=1) through
    benchmarks/wsgi.py, logs in as the demo holder through the real password + one-time-code
    flow (code read from <instance>/outbox), and checks the dashboard answers 200 with the
    holder's name, before and after the load. It measures:
      1. requests/s of GET / for that logged-in holder;
      2. requests/s of a bare Flask route returning a constant (benchmarks/bare.py), same
         gunicorn settings: the ceiling for any Flask page on this machine;
      3. their ratio (target >= 0.15, every page built afresh: no response cache);
      4. the bytes, gzip level 6, of a first visit: dashboard HTML + every stylesheet and
         script it references (the print stylesheet too: browsers fetch it on screen);
         manifest and icons are listed, not counted (target <= 60 KB);
      5. the bytes on the wire of a first visit of the login page by Chromium (phone viewport,
         empty cache), every response counted with its headers, as the server really sends
         them (brotli/gzip): CDP `Network.loadingFinished.encodedDataLength` (target <= 50 KB;
         benchmarks/wire.py, also `python -m benchmarks.wire http://localhost:8000` alone).
    `--keep` leaves the instance folder (database, outbox, gunicorn.log) for inspection.

peak
    The morning peak (benchmarks/peak.py, population.py): --spaces holder spaces (default
    1000) of 60 documents, 5,000 measures, 200 traces and 3 shares each, and 50 professionals
    with 20 permanent accesses each, seeded once through Core (documents reuse the demo's
    encrypted blobs; traces chained with the instance's key) and kept in
    benchmarks/out/peak/<database>-<spaces>x5000/ (PostgreSQL: database <name>_peak_<spaces>_seed at
    $BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/carnet_bench); every
    run starts from a copy. --users virtual users (default 200) run journeys (log in, home,
    documents, a document and its preview, a measures page and chart, sharing, history, log
    out; 5 % upload a PDF; professionals by permanent access and by code), first as fast as
    answers come (peak throughput), then paced at 80 % of it (p50/p95/p99 per page). Same run:
    a bare Flask route under the same gunicorn settings (4 sync workers). No response cache.
    --password-profile owasp: the password hashes made at OWASP's minimum for argon2id instead of
    what Carnet ships (RFC 9106's low-memory profile), to see what that choice costs the peak.
        .venv/bin/python -m benchmarks.run peak --spaces 100 --users 40 --databases sqlite
    Below ~100 spaces a person logs in more than 5 times an hour (OTP_SENDS_PER_ACCOUNT_HOUR):
    the 429s that follow are the limit working, not the page failing.

messaging
    The inbox of a holder with 2,000 conversations (median and p95 of the page and of the search
    fragment) and the navigation's unread-count poll at saturation against the bare Flask route,
    same gunicorn settings (2 sync workers), runs interleaved: its cost in bare routes (server
    CPU per request; target < 2) and the throughput ratio (benchmarks/messaging.py).

practice
    A professional's home with their appointments across 300 patients (3,000 appointments, a
    tenth of the accesses ended): GET / median and p95 before and after the appointments are
    added, on the same instance (benchmarks/practice.py).

synthesis
    "Ma synthèse" (the A4 PDF) for a heavy record: every profile section full, 219,306 measures of
    all kinds over two years (14 charts), 60 documents (benchmarks/synthesis.py). The whole
    printing.a4() call (median, p95; target <= 1.5 s), the CPU time of the same work in process,
    a one-line PDF through the same bounded path as the baseline, the PDF's size and pages.

export
    The full export of a heavy space (300 documents of realistic sizes, 50,000 measures, 5,000
    traces, and twice that): time, zip size and the peak RSS of the process building the zip,
    run in a child of its own (target <= 100 MB whatever the size; benchmarks/export.py).

writers
    SQLite's writers (benchmarks/writers.py): four processes writing in a loop as Carnet's engine
    does, taking turns (core.turns) and, interleaved, meeting SQLite's own poll as before: at
    full load and with pauses, transactions a second, CPU per transaction and p50/p95/p99 of a
    transaction from BEGIN to commit.

Adding a section: write benchmarks/<name>.py with `TITLE` and `run(opts) -> SectionResult`
(benchmarks.report), then add its name to SECTIONS below.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

from benchmarks import load
from benchmarks.passwords import PASSWORD_PROFILES
from benchmarks.report import show

SECTIONS = [
    "foundation",
    "peak",
    "documents",
    "measures_import",
    "measures_chart",
    "synthesis",
    "reimbursements",
    "messaging",
    "practice",
    "fhir_search",
    "provisioning",
    "export",
    "writers",
]
OUT = Path(__file__).resolve().parent / "out"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description="Carnet benchmarks (figures only).")
    p.add_argument("sections", nargs="*", help=f"sections to run (default: all of {', '.join(SECTIONS)})")
    p.add_argument("--seconds", type=float, default=10.0, help="length of one measured run (default 10)")
    p.add_argument("--runs", type=int, default=3, help="measured runs per figure; the median is kept (default 3)")
    p.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per target (default 3)")
    p.add_argument("--load", choices=["wrk", "python"], help="load generator (default: wrk if installed)")
    p.add_argument("--keep", action="store_true", help="keep temporary instances for inspection")
    p.add_argument("--spaces", type=int, default=1000, help="peak: holder spaces seeded (default 1000)")
    p.add_argument("--users", type=int, default=200, help="peak: concurrent virtual users (default 200)")
    p.add_argument(
        "--databases",
        nargs="+",
        choices=["sqlite", "postgresql"],
        default=["sqlite", "postgresql"],
        help="peak: databases measured (default both; PostgreSQL at $BENCH_PG_URL)",
    )
    p.add_argument(
        "--password-profile",
        choices=list(PASSWORD_PROFILES),
        default="shipped",
        help="peak: the argon2id profile of the stored password hashes (default: as Carnet ships; "
        "owasp: OWASP's minimum, a what-if the report names)",
    )
    p.add_argument("--list", action="store_true", help="list sections and exit")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    opts = parse(sys.argv[1:] if argv is None else argv)
    if opts.list:
        for name in SECTIONS:
            print(f"{name:14} {importlib.import_module(f'benchmarks.{name}').TITLE}")
        return 0
    unknown = [s for s in opts.sections if s not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    opts.generator = load.generator(opts.load)
    OUT.mkdir(exist_ok=True)
    status = 0
    for name in opts.sections or SECTIONS:
        started = time.monotonic()
        try:
            result = importlib.import_module(f"benchmarks.{name}").run(opts)
        except Exception as exc:  # a broken section is reported, the others still run
            print(f"{name}: could not be measured: {exc}\n", file=sys.stderr)
            status = 1
            continue
        print(show(result))
        print(
            f"({time.monotonic() - started:.0f} s; figures in {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}/{name}.json)\n"
        )
        data = {"section": name, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **result.data}
        (OUT / f"{name}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
