"""What a request costs when the processor's caches have lost it, against when they hold it.

In the morning peak a worker's next request comes after the other workers, the load generator,
a password check (argon2id walks 64 MiB) or a PDF's drawing have run on the two cores: little of
its code and data is left in the caches. Requests called one after the other in process find
them all there, so an in-process figure, like callgrind's instruction count
(benchmarks.instructions), leaves out what the peak pays most on pages that touch much memory.
Each route is answered in turn three ways, in rounds so that the machine's drift falls on all
three alike:

- evicted: after 64 MiB were written, one byte per 64-byte line (what argon2id's working memory
  or another process's pages do to the shared cache);
- warm: after two more of the same request;
- idle: after the process slept 2 ms (its core may go idle, and a virtual machine's core may run
  another guest meanwhile).

    .venv/bin/python -m benchmarks.cold                          # bare route, etat, home; demo instance
    .venv/bin/python -m benchmarks.cold --instance DIR etat home preview
    .venv/bin/python -m benchmarks.cold --instance benchmarks/out/peak/sqlite-1000x5000/seed \\
        --holder holder17@bench.example documents measures

The process's CPU time (`time.process_time`) around each request only, the median of each
mode. Each route runs in a process of its own, the bare route (benchmarks.bare, the morning
peak's) included: its ratio to a page, warm and evicted, says how much of the peak's ratio is
memory rather than instructions.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from werkzeug.test import EnvironBuilder

from benchmarks.bare import app as bare_app
from benchmarks.instructions import ROUTES, chosen, parser, prepared

MODES = ("warm", "idle", "evicted")  # as printed
IDLE_SECONDS = 0.002
EVICT_BYTES = 64 * 1024 * 1024
LINE = 64
WARMUP = 50
DEFAULT = ["etat", "home"]


def measure(call, n: int, scratch: bytearray | None = None, warmup: int = WARMUP) -> dict[str, float]:
    """Median milliseconds of process CPU a call of `call` takes in each mode, over `n` rounds
    of: the scratch written, a call (evicted); two calls not counted, then one (warm); a sleep,
    then a call (idle). `warmup` calls not counted come first. Medians: a collection of the
    garbage collector or a session's write lands on one call in many."""
    scratch = bytearray(EVICT_BYTES) if scratch is None else scratch
    ones = b"\x01" * len(range(0, len(scratch), LINE))
    spent: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(warmup):
        call()
    for _ in range(n):
        scratch[::LINE] = ones
        spent["evicted"].append(_timed(call))
        call()
        call()
        spent["warm"].append(_timed(call))
        time.sleep(IDLE_SECONDS)
        spent["idle"].append(_timed(call))
    return {mode: statistics.median(spent[mode]) * 1000 for mode in MODES}


def _timed(call) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def bare_call():
    """One request of the bare route, on its WSGI app called directly."""
    environ = EnvironBuilder(path="/", base_url="http://localhost:8000").get_environ()

    def call() -> None:
        status = []
        answer = bare_app({**environ, "wsgi.input": io.BytesIO(b"")}, lambda s, h, e=None: status.append(s))
        b"".join(answer)
        answer.close()
        if not status[0].startswith("200"):
            raise SystemExit(f"the bare route answered {status[0]}")

    return call


def _child(instance: str, route: str, n: int, email: str) -> None:
    call = bare_call() if route == "bare" else prepared(instance, route, email)
    print(json.dumps(measure(call, n)))


def _run(instance: str, route: str, n: int, email: str) -> dict[str, float]:
    cmd = [sys.executable, "-m", "benchmarks.cold", "--child", instance, route, str(n), email]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{route} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        _child(args[1], args[2], int(args[3]), args[4])
        return 0
    p = parser("python -m benchmarks.cold", __doc__, DEFAULT)
    p.add_argument("--requests", type=int, default=300, help="rounds per route (default 300)")
    opts = p.parse_args(args)
    instance, routes = chosen(p, opts)
    bare = _run(instance, "bare", opts.requests, "")
    print(f"ms of CPU a request, median of {opts.requests} rounds; x: the route against the bare route")
    print(f"{'route':9} {'path':28} " + " ".join(f"{m:>14}" for m in MODES))
    print(f"{'bare':9} {'/':28} " + " ".join(f"{bare[m]:>14.3f}" for m in MODES))
    for route in routes:
        got = _run(instance, route, opts.requests, opts.holder)
        cells = " ".join(f"{got[m]:>7.3f} ({got[m] / bare[m]:>4.1f}x)" for m in MODES)
        print(f"{route:9} {ROUTES[route][0]:28} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
