"""Load generators: wrk when the machine has it, else a small Python one.

Both report requests per second and how many answers were not 200 (a redirect to the login
page counts as a failure, not as a fast page). Whichever is used, a run uses the same one
for every figure it compares, since the client shares the CPU with the server.
"""

from __future__ import annotations

import http.client
import multiprocessing
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

WRK_SCRIPT = r"""
bad = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("bad") or 0) end
  io.write(string.format("BENCH_BAD %d\n", total))
  io.write(string.format("BENCH_P50_US %d\n", latency:percentile(50)))
end
"""


@dataclass
class LoadResult:
    rps: float
    requests: int
    bad: int
    p50_ms: float | None = None


class Wrk:
    name = "wrk"

    def __init__(self, threads: int = 1, connections: int = 4):
        self.threads = threads
        self.connections = connections

    @property
    def describe(self) -> str:
        return f"wrk -t{self.threads} -c{self.connections}"

    def run(self, url: str, seconds: float, headers: dict | None = None) -> LoadResult:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as script:
            script.write(WRK_SCRIPT)
            script.flush()
            cmd = [
                "wrk",
                f"-t{self.threads}",
                f"-c{self.connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
            ]
            for k, v in (headers or {}).items():
                cmd += ["-H", f"{k}: {v}"]
            out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        total = int(re.search(r"(\d+) requests in", out).group(1))
        bad = int(re.search(r"BENCH_BAD (\d+)", out).group(1))
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        if errors:
            bad += int(errors.group(1)) + int(errors.group(4))  # read errors = server closing: normal for sync
        p50 = int(re.search(r"BENCH_P50_US (\d+)", out).group(1)) / 1000
        return LoadResult(rps, total, bad, p50)


def _py_worker(url: str, headers: dict, seconds: float, threads: int, queue) -> None:
    parts = urlsplit(url)
    path = parts.path or "/"
    counts = [0, 0]  # ok, bad
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop():
        ok = bad = 0
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < stop_at:
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    ok += 1
                else:
                    bad += 1
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        with lock:
            counts[0] += ok
            counts[1] += bad

    ts = [threading.Thread(target=loop) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    queue.put(tuple(counts))


class PyLoad:
    """Keep-alive http.client connections (reopened when the server closes them) in
    `processes` × `threads`."""

    name = "python"

    def __init__(self, processes: int = 2, threads: int = 2):
        self.processes = processes
        self.threads = threads

    @property
    def describe(self) -> str:
        return f"python http.client, {self.processes} processes x {self.threads} threads"

    def run(self, url: str, seconds: float, headers: dict | None = None) -> LoadResult:
        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()
        procs = [
            ctx.Process(target=_py_worker, args=(url, headers or {}, seconds, self.threads, q))
            for _ in range(self.processes)
        ]
        start = time.monotonic()
        for p in procs:
            p.start()
        results = [q.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.monotonic() - start
        ok = sum(r[0] for r in results)
        bad = sum(r[1] for r in results)
        return LoadResult((ok + bad) / elapsed, ok + bad, bad)


def generator(prefer: str | None = None):
    """wrk if installed (Debian package `wrk`), else the Python generator."""
    if prefer == "python" or (prefer is None and shutil.which("wrk") is None):
        return PyLoad()
    return Wrk()
