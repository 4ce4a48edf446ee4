"""Background jobs that survive their runner: who runs a job (this process, named so a crash is
seen at once), claiming a job row atomically, and taking over a job whose runner died.

A job row has `status` (pending | running | done | failed), `runner`, `heartbeat_at` and
`started_at`. The runner is "host/pid namespace|boot id|pid|start time": on the same host, a
runner whose pid is gone, or now belongs to another process (another start time), or another
boot, is dead at once; a job run by this very process is dead when its thread is; elsewhere,
the heartbeat (STALE) decides. Measure imports and space exports share this."""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from core import clock
from core.db import db

STALE = timedelta(minutes=2)  # a job whose heartbeat is older has died: it may be taken over


def _host() -> str:
    """This machine as pids make sense on it: the host name and the pid namespace (two
    containers may share a name, never a namespace)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}/{namespace}"[:120]


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc/PID/stat field 22); None when
    there is no such living process (gone, or a zombie); "" where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except FileNotFoundError:
        return None if os.path.isdir("/proc/self") else ""
    except OSError:
        return ""
    if fields[0] in (b"Z", b"X"):  # killed, not yet reaped by its parent
        return None
    return fields[19].decode()


_ME: dict[int, str] = {}
_RUNNING: set[str] = set()  # jobs whose thread runs in this process
_RUNNING_LOCK = threading.Lock()


def this_runner() -> str:
    """This process, as a job's row names its runner: "host/pid namespace|boot id|pid|start time"."""
    pid = os.getpid()
    if pid not in _ME:  # a forked worker is another process
        _ME.clear()
        _ME[pid] = f"{_host()}|{_boot_id()}|{pid}|{_start_time(pid) or ''}"
    return _ME[pid]


def runner_dead(runner: str | None, job_id: str | None = None) -> bool:
    """True when the runner is certainly dead: a process of this host (this boot) that is gone
    or was replaced by another with its pid, or this very process with no thread on the job.
    False when it lives or cannot be told (another host: the heartbeat decides)."""
    try:
        host, boot, pid_text, started = (runner or "").split("|")
        pid = int(pid_text)
    except ValueError:
        return False
    if host != _host():
        return False
    if boot and _boot_id() and boot != _boot_id():
        return True
    if runner == this_runner():
        with _RUNNING_LOCK:
            return job_id is not None and job_id not in _RUNNING
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's
    now = _start_time(pid)
    if now is None:
        return True
    return bool(started and now and now != started)


def takeable(job_id: str, status: str, runner: str | None, heartbeat_at) -> bool:
    """Nobody runs it: pending, or running with a stale heartbeat or a dead runner."""
    if status == "pending":
        return True
    if status != "running":
        return False
    if heartbeat_at is None or heartbeat_at < clock.utcnow() - STALE:
        return True
    return runner_dead(runner, job_id)


def claim(model, job_id: str):
    """Take the job if nobody runs it: one UPDATE conditioned on the status, runner and
    heartbeat read, so two runners never both get it. Returns the row, or None."""
    now = clock.utcnow()
    M = model
    row = db.session.execute(select(M.status, M.runner, M.heartbeat_at).where(M.id == job_id)).first()
    taken = 0
    if row is not None and takeable(job_id, *row):
        stmt = update(M).where(
            M.id == job_id,
            M.status == row.status,
            M.runner.is_(None) if row.runner is None else M.runner == row.runner,
        )
        if row.heartbeat_at is not None:
            stmt = stmt.where(M.heartbeat_at == row.heartbeat_at)  # nobody wrote a batch since
        taken = db.session.execute(
            stmt.values(
                status="running", heartbeat_at=now, runner=this_runner(), started_at=func.coalesce(M.started_at, now)
            )
        ).rowcount
    db.session.commit()
    if taken:
        with _RUNNING_LOCK:
            _RUNNING.add(job_id)  # this process runs it until release()
    return db.session.get(M, job_id, populate_existing=True) if taken else None


def release(job_id: str) -> None:
    """This process no longer runs the job: from now on, if not finished, it is dead."""
    with _RUNNING_LOCK:
        _RUNNING.discard(job_id)


def in_thread(name: str, target, *args) -> threading.Thread:
    """Run target(*args) in a daemon thread with its own app context and session."""
    app = current_app._get_current_object()

    def main():
        with app.app_context():
            try:
                target(*args)
            finally:
                db.session.remove()

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    return thread
