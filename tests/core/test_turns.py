"""SQLite: processes take turns to write, woken as a turn ends, never in SQLite's own poll
(docs/performance.md, 88)."""

import os
import platform
import stat
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from core.db import _database_file, make_engine
from core.turns import Locked, Writers
from tests.helpers import processes, writers_engine, written_rows

pytestmark = pytest.mark.sqlite_only

# Another process writing to the same file. Its SQLite busy timeout is 0: had it met the first
# process's SQLite lock, its BEGIN IMMEDIATE would fail at once.
CHILD = """
import sys
from sqlalchemy import event, text
from core.db import make_engine

engine = make_engine(sys.argv[1], busy_timeout_ms=int(sys.argv[2]))

@event.listens_for(engine, "connect")
def _no_poll(dbapi_conn, _record):
    dbapi_conn.execute("PRAGMA busy_timeout=0")

for n in sys.argv[3:]:
    print("writing", flush=True)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": int(n)})
        print("wrote", n, flush=True)
    except Exception as exc:
        print("failed", type(exc).__name__, str(exc).splitlines()[0], flush=True)
    sys.stdin.readline()  # the next write when told
"""


@pytest.fixture
def engine(tmp_path):
    engine = writers_engine(tmp_path / "turns.db")
    yield engine
    engine.dispose()


@pytest.fixture
def child(tmp_path):
    """Starts the other process (CHILD) on the same database; killed if a test leaves it running."""
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    with processes() as start:
        yield lambda busy_timeout_ms, *rows: start(
            [sys.executable, "-c", CHILD, url, str(busy_timeout_ms), *map(str, rows)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )


#: clock_nanosleep and nanosleep, by machine: the calls a process waiting for its turn sleeps in
SLEEPS = {"x86_64": {"230", "35"}, "aarch64": {"115", "101"}}


def _waits_for_a_turn(pid: int) -> bool:
    """The process sleeps between two tries of the turn (the only sleep on its way to BEGIN)."""
    with open(f"/proc/{pid}/syscall") as call:
        return call.read().split(" ", 1)[0] in SLEEPS[platform.machine()]


def _until(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the other process never began to wait"
        time.sleep(0.01)


def test_a_process_waits_for_another_processs_turn_and_writes_when_it_ends(engine, child):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        other = child(5000, 2)
        assert other.stdout.readline() == "writing\n"
        _until(lambda: _waits_for_a_turn(other.pid))
    assert other.stdout.readline() == "wrote 2\n"  # not "failed": SQLite's lock was free
    other.communicate("\n", timeout=30)
    assert other.returncode == 0
    assert written_rows(engine) == [1, 2]


def test_past_the_busy_timeout_a_process_is_told_the_database_is_locked_and_keeps_no_turn(engine, child):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        other = child(200, 2, 3)
        assert other.stdout.readline() == "writing\n"
        assert other.stdout.readline().startswith(
            "failed OperationalError (sqlite3.OperationalError) database is locked"
        )
    other.stdin.write("\n")
    other.stdin.flush()
    assert other.stdout.readline() == "writing\n"
    assert other.stdout.readline() == "wrote 3\n"  # the turn is free again for it
    with engine.begin() as conn:  # and for this process: the one refused kept nothing
        conn.execute(text("INSERT INTO t VALUES (4)"))
    other.communicate("\n", timeout=30)
    assert written_rows(engine) == [1, 3, 4]


def test_a_forked_process_does_not_hold_the_turn_its_parent_holds(tmp_path):
    path = str(tmp_path / "turns.db")
    writers = Writers(0.1, path)
    held = writers.acquire()
    pid = os.fork()
    if pid == 0:  # the child: the parent's turn is not its own, whichever Writers it asks
        try:
            for mine in (writers, Writers(0.1, path)):
                try:
                    mine.acquire().release()
                    os._exit(2)
                except Locked:
                    pass
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    held.release()
    assert os.waitstatus_to_exitcode(status) == 0
    writers.acquire().release()  # given back: free again


def test_the_turns_file_lies_beside_the_database_readable_by_its_owner_alone(tmp_path, engine):
    mode = stat.S_IMODE(os.stat(tmp_path / "turns.db-writers").st_mode)
    assert mode & 0o077 == 0
    assert _database_file(engine) == str(tmp_path / "turns.db")
    named = make_engine(f"sqlite:///file:{tmp_path / 'turns.db'}?uri=true")  # the same file, named by a URI
    assert _database_file(named) == str(tmp_path / "turns.db")
    named.dispose()
    for memory in ("sqlite://", "sqlite:///:memory:"):
        engine = make_engine(memory)  # no other process can open it: the threads' turn alone
        assert _database_file(engine) is None
        engine.dispose()
