"""SQLite's writers: processes writing to one database take turns (core.turns) or meet SQLite's
own poll, in turn within one run.

Four processes (a server's four sync workers) each loop: CPU work outside any transaction (a
page drawn), then a write transaction of Carnet's engine that inserts a row and holds the write
lock for more CPU work (a trace, then the page's end), committed with synchronous=FULL. Run at
full load, then with a pause between transactions (a server below its peak). "SQLite's poll" is
the same engine with the processes' turn left out (each process's threads still take theirs),
as before docs/performance.md, 88. Reported: transactions a second, CPU per transaction, and
p50/p95/p99 of a transaction from its BEGIN to its commit.

    .venv/bin/python -m benchmarks.run writers
    .venv/bin/python -m benchmarks.run --seconds 5 --runs 1 writers   # quick look
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path

from sqlalchemy import text

from benchmarks.report import Row, SectionResult
from core.db import _WRITERS, make_engine

TITLE = "SQLite's writers: processes taking turns against SQLite's own poll"
PROCESSES = 4
OUTSIDE_MS = 3.0  # CPU work between two transactions
INSIDE_MS = 1.0  # CPU work while the write lock is held
PAUSES_MS = (0.0, 4.0)  # full load, then a server below its peak
BUSY_TIMEOUT_MS = 15000


def _spin(ms: float) -> None:
    end = time.process_time() + ms / 1000
    while time.process_time() < end:
        pass


def _writer(url: str, turns: bool, seconds: float, pause_ms: float, conn) -> None:
    engine = make_engine(url, busy_timeout_ms=BUSY_TIMEOUT_MS)
    if not turns:  # the threads' turn only (no file): processes meet at SQLite's lock and its poll
        _WRITERS[engine]._path = None
    latencies = []
    conn.send("ready")
    start = conn.recv()  # the same start for every process, once all are ready
    while time.monotonic() < start:
        time.sleep(0.001)
    end = start + seconds
    cpu0 = time.process_time()
    while time.monotonic() < end:
        _spin(OUTSIDE_MS)
        if pause_ms:
            time.sleep(pause_ms / 1000)
        began = time.perf_counter()
        with engine.begin() as tx:
            tx.execute(text("INSERT INTO t (n) VALUES (1)"))
            _spin(INSIDE_MS)
        latencies.append(time.perf_counter() - began)
    conn.send((latencies, time.process_time() - cpu0))
    conn.close()
    engine.dispose()


def measure(folder: Path, turns: bool, seconds: float, pause_ms: float) -> dict:
    """One run: PROCESSES writers on a new database for `seconds`."""
    path = folder / f"writers-{'turns' if turns else 'poll'}-{pause_ms:g}-{time.monotonic_ns()}.db"
    url = f"sqlite:///{path}"
    with closing(sqlite3.connect(path)) as setup:  # not through the engine: it would take a turn
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (n INTEGER)")
    ctx = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    for _ in range(PROCESSES):
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_writer, args=(url, turns, seconds, pause_ms, theirs))
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    for pipe in pipes:
        pipe.recv()  # every process started and connected before the clock runs
    start = time.monotonic() + 0.05
    for pipe in pipes:
        pipe.send(start)
    results = [pipe.recv() for pipe in pipes]
    for proc in procs:
        proc.join()
    latencies = sorted(x for lat, _cpu in results for x in lat)
    count = len(latencies)

    def pct(q: float) -> float:
        return latencies[min(count - 1, int(q * count))] * 1000 if count else 0.0

    return {
        "tx_per_s": count / seconds,
        "cpu_ms_per_tx": sum(cpu for _lat, cpu in results) / count * 1000 if count else 0.0,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


def _median(runs: list[dict], key: str) -> float:
    values = sorted(r[key] for r in runs)
    return values[len(values) // 2]


def run(opts) -> SectionResult:
    rows, lines, data = [], [], {"processes": PROCESSES, "outside_ms": OUTSIDE_MS, "inside_ms": INSIDE_MS}
    with tempfile.TemporaryDirectory(prefix="carnet-writers-") as tmp:
        folder = Path(tmp)
        for pause in PAUSES_MS:
            runs: dict[str, list[dict]] = {"turns": [], "poll": []}
            for _ in range(opts.runs):  # interleaved: the machine's speed drifts within minutes
                for name in ("poll", "turns"):
                    runs[name].append(measure(folder, name == "turns", opts.seconds, pause))
            load = "full load" if not pause else f"{pause:g} ms pauses"
            for name, label in (("poll", "SQLite's poll"), ("turns", "turns")):
                r = runs[name]
                rows.append(Row(f"{load}, {label}: transactions", _median(r, "tx_per_s"), "/s", "{:.0f}"))
                rows.append(
                    Row(
                        f"{load}, {label}: p99 BEGIN to commit",
                        _median(r, "p99_ms"),
                        "ms",
                        detail=f"p50 {_median(r, 'p50_ms'):.1f}, p95 {_median(r, 'p95_ms'):.1f}; "
                        f"CPU {_median(r, 'cpu_ms_per_tx'):.2f} ms a transaction",
                    )
                )
            data[load] = runs
    lines.append(
        f"{PROCESSES} processes, each: {OUTSIDE_MS:g} ms of CPU, then a write transaction holding "
        f"{INSIDE_MS:g} ms (synchronous=FULL); medians of {opts.runs} interleaved runs of {opts.seconds:g} s"
    )
    return SectionResult("writers", TITLE, rows, lines, data)
