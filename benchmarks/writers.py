"""SQLite's writers: processes writing to one database take turns (core.turns) or meet SQLite's
own poll, in turn within one run.

Four processes (a server's four sync workers) each loop: CPU work outside any transaction (a
page drawn), then a write transaction as Carnet's engine makes it (WAL, synchronous=FULL, busy
timeout, BEGIN IMMEDIATE after the writer's turn) that inserts a row and holds the write lock for
more CPU work (a trace, then the page's end). Run at full load, then with a pause between
transactions (a server below its peak). "Turns" take `core.turns.Writers` for the database's
file, as the engine does; "SQLite's poll" the same `Writers` without a file (each process's
threads still take theirs), as before docs/performance.md, 88. Reported: transactions a second,
CPU per transaction, and p50/p95/p99 of a transaction from its BEGIN to its commit.

    .venv/bin/python -m benchmarks.run writers
    .venv/bin/python -m benchmarks.run --seconds 5 --runs 1 writers   # quick look
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path

from benchmarks.report import Row, SectionResult, percentile
from core.turns import Writers

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


def _writer(path: str, turns: bool, seconds: float, pause_ms: float, conn) -> None:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA synchronous=FULL")
    writers = Writers(BUSY_TIMEOUT_MS / 1000, path if turns else None)
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
        turn = writers.acquire()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t (n) VALUES (1)")
            _spin(INSIDE_MS)
            db.execute("COMMIT")
        finally:
            turn.release()
        latencies.append(time.perf_counter() - began)
    conn.send((latencies, time.process_time() - cpu0))
    conn.close()
    db.close()


def measure(folder: Path, turns: bool, seconds: float, pause_ms: float) -> dict:
    """One run: PROCESSES writers on a new database for `seconds`."""
    path = folder / f"writers-{'turns' if turns else 'poll'}-{pause_ms:g}-{time.monotonic_ns()}.db"
    with closing(sqlite3.connect(path)) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (n INTEGER)")
    ctx = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    for _ in range(PROCESSES):
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_writer, args=(str(path), turns, seconds, pause_ms, theirs))
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
    latencies = [x * 1000 for lat, _cpu in results for x in lat]
    count = len(latencies)
    return {
        "tx_per_s": count / seconds,
        "cpu_ms_per_tx": sum(cpu for _lat, cpu in results) / count * 1000 if count else 0.0,
        **{f"p{q}_ms": percentile(latencies, q) for q in (50, 95, 99)},
    }


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
                med = {key: statistics.median(r[key] for r in runs[name]) for key in runs[name][0]}
                rows.append(Row(f"{load}, {label}: transactions", med["tx_per_s"], "/s", "{:.0f}"))
                rows.append(
                    Row(
                        f"{load}, {label}: p99 BEGIN to commit",
                        med["p99_ms"],
                        "ms",
                        detail=f"p50 {med['p50_ms']:.1f}, p95 {med['p95_ms']:.1f}; "
                        f"CPU {med['cpu_ms_per_tx']:.2f} ms a transaction",
                    )
                )
            data[load] = runs
    lines.append(
        f"{PROCESSES} processes, each: {OUTSIDE_MS:g} ms of CPU, then a write transaction holding "
        f"{INSIDE_MS:g} ms (synchronous=FULL); medians of {opts.runs} interleaved runs of {opts.seconds:g} s"
    )
    return SectionResult("writers", TITLE, rows, lines, data)
