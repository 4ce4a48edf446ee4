"""Who runs an import job, and running it: claimed atomically, parsed and written to its
end, taken over when its runner died (see the package's docstring for why it holds)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from blueprints.measures.imports import formats, pipeline
from blueprints.measures.imports.importers.common import Collector, Refused
from blueprints.measures.imports.upload import blob_chunks, shred
from blueprints.measures.imports.writer import Writer
from blueprints.measures.models import Measure, MeasureImport
from core import access, audit, clock
from core.db import db
from core.people import Account
from core.storage import BlobCorrupt, StorageError

log = logging.getLogger(__name__)
STALE = timedelta(minutes=2)  # a job whose heartbeat is older has died: it may be taken over
WATCH_SECONDS = 15.0  # how often each worker looks for jobs whose runner died


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


def runner_dead(runner: str | None, import_id: str | None = None) -> bool:
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
            return import_id is not None and import_id not in _RUNNING
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


def _takeable(import_id: str, status: str, runner: str | None, heartbeat_at) -> bool:
    if status == "pending":
        return True
    if status != "running":
        return False
    if heartbeat_at is None or heartbeat_at < clock.utcnow() - STALE:
        return True
    return runner_dead(runner, import_id)


def claim(import_id: str) -> MeasureImport | None:
    """Take the job if nobody runs it (pending, or running with a dead runner or a stale
    heartbeat): one UPDATE conditioned on the status and runner read, so two runners never
    both get it."""
    now = clock.utcnow()
    M = MeasureImport
    row = db.session.execute(select(M.status, M.runner, M.heartbeat_at).where(M.id == import_id)).first()
    taken = 0
    if row is not None and _takeable(import_id, *row):
        stmt = update(M).where(
            M.id == import_id,
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
            _RUNNING.add(import_id)  # this process runs it until run() lets go
    return db.session.get(M, import_id, populate_existing=True) if taken else None


def run(import_id: str) -> MeasureImport | None:
    """Run one import to its end (done or failed). None when another runner has it."""
    imp = claim(import_id)
    if imp is None:
        return None
    try:
        return _run(imp)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(import_id)  # from now on, if not finished, it is dead


def _run(imp: MeasureImport) -> MeasureImport:
    import_id = imp.id
    resumed = imp.added or imp.done_bytes
    spec = formats.OTHER.get(imp.format)
    writer = spec.writer(imp) if spec is not None else Writer(imp)
    if imp.size >= current_app.config.get("MEASURES_IMPORT_PROCESS_BYTES", pipeline.PROCESS_BYTES):
        pipe = pipeline.ParseProcess(imp.format, imp.options, pipeline.TICK_SECONDS)
    else:
        pipe = pipeline.ThreadPipe(pipeline.parser_for(imp.format, imp.options))
    col = pipe.collector()
    try:
        pipe.run(blob_chunks(imp), col, writer)
    except (Refused, BlobCorrupt, StorageError, Exception) as exc:
        db.session.rollback()
        reason = exc.reason if isinstance(exc, Refused) else "internal"
        if not isinstance(exc, Refused):
            log.exception("measure import %s failed", import_id)
        return _finish(import_id, col, "failed", reason)
    if resumed:  # exact counts: the rows of every attempt are this job's
        if spec is not None:
            writer.added = spec.stored(import_id)
        else:
            writer.added = (
                db.session.scalar(select(func.count()).select_from(Measure).where(Measure.import_id == import_id)) or 0
            )
        writer.present = max(0, col.valid - writer.added)
    return _finish(import_id, col, "done", None, writer)


def _finish(import_id: str, col: Collector, status: str, error: str | None, writer=None) -> MeasureImport:
    imp = db.session.get(MeasureImport, import_id, populate_existing=True)
    imp.status, imp.error, imp.finished_at = status, error, clock.utcnow()
    imp.heartbeat_at = imp.finished_at
    imp.reasons = col.summary()
    if writer is not None:  # a failed job keeps the counters of the batches it committed
        imp.added, imp.present, imp.done_bytes = writer.added, writer.present, imp.size
        imp.rejected, imp.ignored = col.rejected, col.ignored
    account = db.session.scalar(select(Account).where(Account.patient_id == imp.patient_id, Account.role == "holder"))
    spec = formats.OTHER.get(imp.format)
    action = audit.Action(spec.action_finished) if spec is not None else audit.Action.MEASURES_IMPORTED
    audit.record(
        access.viewer_for(account),
        action,
        imp,
        patient_id=imp.patient_id,
        detail={
            "format": imp.format,
            "status": status,
            "added": imp.added,
            "present": imp.present,
            "rejected": imp.rejected,
            "ignored": imp.ignored,
        },
    )
    db.session.commit()
    shred(imp)
    return imp


# --------------------------------------------------------------------------- threads


def threads_enabled() -> bool:
    return bool(current_app.config.get("MEASURES_IMPORT_THREADS", True))


def start(import_id: str) -> threading.Thread | None:
    """Run the job in a thread of this process, with its own app context and session."""
    if not threads_enabled():
        return None
    app = current_app._get_current_object()

    def main():
        with app.app_context():
            try:
                run(import_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=main, name=f"measures-import-{import_id[:8]}", daemon=True)
    thread.start()
    return thread


def waiting(patient_id: str | None = None) -> list[str]:
    """Jobs nobody runs: pending, or running with a dead runner or a stale heartbeat."""
    M = MeasureImport
    stmt = select(M.id, M.status, M.runner, M.heartbeat_at).where(M.status.in_(("pending", "running")))
    if patient_id is not None:
        stmt = stmt.where(M.patient_id == patient_id)
    return [row.id for row in db.session.execute(stmt.order_by(M.created_at)) if _takeable(*row)]


def resume(patient_id: str) -> int:
    """Start the holder's abandoned jobs again (when the import page is opened)."""
    ids = waiting(patient_id) if threads_enabled() else []
    for import_id in ids:
        start(import_id)
    return len(ids)


def take_over_if_dead(imp: MeasureImport) -> bool:
    """From a page showing the job: start it again at once if its runner died."""
    if imp.status == "running" and threads_enabled() and runner_dead(imp.runner, imp.id):
        start(imp.id)
        return True
    return False


def watch_once(app) -> list[threading.Thread]:
    """Take over every job nobody runs, each in a thread of this process."""
    with app.app_context():
        try:
            return [t for t in (start(i) for i in waiting()) if t is not None]
        finally:
            db.session.remove()


_WATCHING: dict[int, threading.Thread] = {}


def watch(app) -> threading.Thread | None:
    """Once per process (a worker at its start, or its first request): a light thread that
    takes over dead jobs now and every MEASURES_IMPORT_WATCH_SECONDS. Not under tests (they
    run jobs themselves) nor where jobs do not run in threads."""
    pid = os.getpid()
    thread = _WATCHING.get(pid)
    if thread is not None or app.testing or not app.config.get("MEASURES_IMPORT_THREADS", True):
        return None
    every = float(app.config.get("MEASURES_IMPORT_WATCH_SECONDS", WATCH_SECONDS))
    if every <= 0:
        return None

    def loop() -> None:
        while True:
            try:
                watch_once(app)
            except Exception:  # noqa: BLE001 - the database may be away for a while: try again later
                log.exception("looking for measure imports to take over failed")
            time.sleep(every)

    thread = _WATCHING[pid] = threading.Thread(target=loop, name="measures-import-watch", daemon=True)
    thread.start()
    return thread
