"""What a page's statements cost the worker on PostgreSQL: a round trip each, against one for all.

On PostgreSQL each compiled read (core.compiled.Fixed) is a round trip: the worker sends it, sleeps
while PostgreSQL's process runs it, wakes and reads the answer. On SQLite the same statement is a
call into the library. This tool records the statements one request of a page sends (in process,
as the holder, the app as `DATABASE_URL` names it), then sends the same statements with the same
values on a connection of its own, in rounds:

- in turn: one after the other, each answer read before the next is sent, as the page does;
- pipelined: all sent, then all read, in one of psycopg's pipelines (one sync, one wait).

Only the SELECTs are sent again. Then it names the statements PostgreSQL planned anew at every
run of the replay, never keeping a generic plan (`pg_prepared_statements`; see core.compiled.in_sql).

Without `DATABASE_URL`, the instance's SQLite file: only the first figure, for comparison.
It prints the worker's CPU per statement (user and system, `os.times`) and the wall time of each
way, beside what the page's own statements cost inside the page (`Fixed._execute_on` and its
cursor's reads, CPU): the difference is what the rest of the page does to the caches between
two statements.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/carnet_bench_peak_1000 \\
        .venv/bin/python -m benchmarks.statements \\
        --instance benchmarks/out/peak/postgresql-1000x5000/run --holder holder17@bench.example home sharing
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import psycopg

from benchmarks.instructions import chosen, parser, prepared
from core.compiled import Fixed
from core.db import libpq_url

DEFAULT = ["home"]
WARMUP = 20


class _Recorder:
    """The driver connection as Fixed sees it, its cursors' `execute` arguments noted."""

    def __init__(self, driver, seen: list) -> None:
        self._driver, self._seen = driver, seen

    def cursor(self):
        return _RecordingCursor(self._driver.cursor(), self._seen)

    def __getattr__(self, name):
        return getattr(self._driver, name)


class _RecordingCursor:
    def __init__(self, cursor, seen: list) -> None:
        self._cursor, self._seen = cursor, seen

    def execute(self, query, params=None):
        self._seen.append((query, params))
        return self._cursor.execute(query, params)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


@contextmanager
def _patched(wrapper):
    original = Fixed._execute_on
    Fixed._execute_on = wrapper(original)
    try:
        yield
    finally:
        Fixed._execute_on = original


def recorded(call) -> list[tuple]:
    """The (query, values) of every compiled statement one call of `call` sends, in order."""
    seen: list[tuple] = []

    def wrapper(original):
        def execute_on(self, driver, dialect, params):
            return original(self, _Recorder(driver, seen), dialect, params)

        return execute_on

    with _patched(wrapper):
        call()
    return seen


class _TimedCursor:
    """A statement's cursor whose reads add their CPU to the statement's: SQLite runs a SELECT
    as its rows are fetched, psycopg has read them all before `execute` returns."""

    def __init__(self, cursor, spent: list) -> None:
        self._cursor, self._spent = cursor, spent

    def _timed(self, name):
        start = time.process_time()
        try:
            return getattr(self._cursor, name)()
        finally:
            self._spent[0] += time.process_time() - start

    def fetchone(self):
        return self._timed("fetchone")

    def fetchall(self):
        return self._timed("fetchall")

    def close(self):
        return self._timed("close")

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def in_page(call, n: int) -> tuple[float, int]:
    """Milliseconds of CPU the compiled statements of `n` calls took inside them (sent, run,
    their rows read), per statement, and how many statements a call sent."""
    spent = [0.0, 0]

    def wrapper(original):
        def execute_on(self, driver, dialect, params):
            start = time.process_time()
            try:
                cursor, results = original(self, driver, dialect, params)
                return _TimedCursor(cursor, spent), results
            finally:
                spent[0] += time.process_time() - start
                spent[1] += 1

        return execute_on

    with _patched(wrapper):
        for _ in range(n):
            call()
    return spent[0] * 1000 / max(1, spent[1]), spent[1] // n


def replay(conn, statements: list[tuple], n: int, pipelined: bool) -> dict[str, float]:
    """Milliseconds per statement (user CPU, system CPU, wall) of sending `statements` `n` times
    on `conn`, in turn or in one pipeline a round, after a warm-up of the same."""
    cursors = [conn.cursor() for _ in statements]

    def one_round() -> None:
        if pipelined:
            with conn.pipeline():
                for cursor, (query, params) in zip(cursors, statements, strict=True):
                    cursor.execute(query, params)
                for cursor in cursors:
                    cursor.fetchall()
        else:
            for cursor, (query, params) in zip(cursors, statements, strict=True):
                cursor.execute(query, params)
                cursor.fetchall()

    for _ in range(WARMUP):
        one_round()
    times0, wall0 = os.times(), time.perf_counter()
    for _ in range(n):
        one_round()
    times1, wall1 = os.times(), time.perf_counter()
    for cursor in cursors:
        cursor.close()
    per = 1000 / (n * max(1, len(statements)))
    return {
        "user": (times1.user - times0.user) * per,
        "system": (times1.system - times0.system) * per,
        "wall": (wall1 - wall0) * per,
    }


#: The statements of the replay's connection for which PostgreSQL never kept a generic plan.
REPLANNED = "SELECT custom_plans, statement FROM pg_prepared_statements WHERE generic_plans = 0 ORDER BY 1 DESC"


def reads(statements: list[tuple]) -> list[tuple]:
    """The SELECTs among a page's statements: what can be sent again (a trace's INSERT cannot)."""
    return [(query, params) for query, params in statements if query.lstrip()[:6].upper() == "SELECT"]


def main(argv: list[str] | None = None) -> int:
    p = parser("python -m benchmarks.statements", __doc__, DEFAULT)
    p.add_argument("--requests", type=int, default=500, help="rounds per route (default 500)")
    opts = p.parse_args(sys.argv[1:] if argv is None else argv)
    url = os.environ.get("DATABASE_URL", "")
    if url and not url.startswith("postgresql"):
        p.error("DATABASE_URL: a PostgreSQL database (or none: the instance's SQLite file)")
    if url and opts.instance is None:
        p.error("--instance: the folder of the instance whose database DATABASE_URL names")
    instance, routes = chosen(p, opts)
    instance = str(Path(instance).resolve())
    print(f"ms a statement; {opts.requests} rounds; CPU user+system (wall); replayed on PostgreSQL only")
    print(f"{'route':10} {'sent':>4} {'in the page':>12} {'in turn':>20} {'pipelined':>20}")
    with psycopg.connect(libpq_url(url), autocommit=True) if url else nullcontext() as conn:
        for route in routes:
            call = prepared(instance, route, opts.holder)
            for _ in range(WARMUP):
                call()
            page_ms, sent = in_page(call, opts.requests)
            cells = ""
            if conn is not None:
                statements = reads(recorded(call))
                ways = [replay(conn, statements, opts.requests, pipelined) for pipelined in (False, True)]
                cells = " ".join(f"{w['user'] + w['system']:>11.3f} ({w['wall']:>6.3f})" for w in ways)
            print(f"{route:10} {sent:>4} {page_ms:>12.3f} {cells}")
        if conn is not None:
            replanned = conn.execute(REPLANNED).fetchall()
            print(f"planned anew at every run by PostgreSQL: {len(replanned)}")
            for custom, statement in replanned:
                print(f"  {custom:>6} plans  {' '.join(statement.split())[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
