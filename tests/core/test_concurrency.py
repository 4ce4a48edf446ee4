"""Concurrent readers and writers: no "database is locked" reaches anyone, and the audit
chain never forks."""

import os
import sqlite3
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import exc as sa_exc, func, select, text

from core import audit
from core.db import _Writers, db
from tests.helpers import csrf_token, writers_engine, written_rows


def test_parallel_reads_and_writes(app, make_holder, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_BACKOFF_AFTER", 100)  # 12 failures each: no delays here
    n_threads, rounds = 4, 12
    holders = [make_holder()[0] for _ in range(n_threads)]
    errors, statuses = [], []

    def worker(i):
        client = app.test_client()
        try:
            if i % 2 == 0:
                login_as(client, holders[i])
            token = csrf_token(client, "/" if i % 2 == 0 else "/connexion")
            for _ in range(rounds):
                if i % 2 == 0:
                    statuses.append(client.get("/").status_code)
                else:
                    r = client.post(
                        "/connexion",
                        data={"email": f"nobody{i}@example.fr", "password": "wrong password", "csrf_token": token},
                    )
                    statuses.append(r.status_code)
        except Exception as exc:  # collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(statuses) <= {200, 422}, statuses
    assert statuses.count(422) == (n_threads // 2) * rounds
    with app.app_context():
        failed = db.session.scalar(
            select(func.count()).select_from(audit.AuditEvent).where(audit.AuditEvent.action == "login_failed")
        )
        assert failed == (n_threads // 2) * rounds
        assert audit.verify().ok


# --- SQLite: the threads of one process take turns to write ------------------------------------


def _engine(tmp_path, busy_timeout_ms=5000):
    return writers_engine(tmp_path / "turns.db", busy_timeout_ms)


def test_a_writer_waits_for_the_turn_then_writes(tmp_path):
    """A second thread's write transaction waits for the first's turn (not in SQLite's poll) and
    begins as soon as the first commits; both rows are committed."""
    engine = _engine(tmp_path)
    errors = []

    def second():
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (2)"))
        except Exception as exc:  # asserted below
            errors.append(repr(exc))

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(0.2)
        assert waiting.is_alive()  # its turn comes after this transaction
    waiting.join()
    assert errors == [] and written_rows(engine) == [1, 2]
    engine.dispose()


def test_a_writer_that_waits_past_the_busy_timeout_is_told_the_database_is_locked(tmp_path):
    engine = _engine(tmp_path, busy_timeout_ms=50)
    errors = []

    def second():
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (2)"))
        except sa_exc.OperationalError as exc:
            errors.append(str(exc))

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join()
    assert len(errors) == 1 and "database is locked" in errors[0]
    with engine.begin() as conn:  # the turn was not kept by the one refused
        conn.execute(text("INSERT INTO t VALUES (3)"))
    assert written_rows(engine) == [1, 3]
    engine.dispose()


def test_the_turn_is_given_back_by_a_rollback_and_by_a_refused_begin(tmp_path):
    engine = _engine(tmp_path, busy_timeout_ms=50)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("the work failed: rolled back")
    other = sqlite3.connect(tmp_path / "turns.db", timeout=0, isolation_level=None)  # another process
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sa_exc.OperationalError, match="locked"), engine.begin():
        pass
    other.execute("ROLLBACK")
    other.close()
    with engine.begin() as conn:  # neither kept the turn: a third would wait its whole timeout
        conn.execute(text("INSERT INTO t VALUES (2)"))
    assert written_rows(engine) == [2]
    engine.dispose()


def test_a_forked_process_does_not_inherit_a_turn_held_by_its_parent():
    writers = _Writers(0.05)
    held = SimpleNamespace(info={})
    writers.take(held)
    pid = os.fork()
    if pid == 0:  # the child: its own turn, free
        try:
            writers.take(SimpleNamespace(info={}))
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    writers.give(held)
    assert os.waitstatus_to_exitcode(status) == 0
