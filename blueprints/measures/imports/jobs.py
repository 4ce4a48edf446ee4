"""Who runs an import job, and running it: claimed atomically, parsed and written to its
end, taken over when its runner died (see the package's docstring for why it holds)."""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import current_app
from sqlalchemy import func, select

from blueprints.measures.imports import formats, pipeline
from blueprints.measures.imports.importers.common import Collector, Refused
from blueprints.measures.imports.upload import blob_chunks, shred
from blueprints.measures.imports.writer import Writer
from blueprints.measures.models import Measure, MeasureImport
from core import access, audit, clock, jobs as core_jobs
from core.db import db, reads_in_background
from core.jobs import _RUNNING, STALE, runner_dead, takeable, this_runner  # noqa: F401  (shared: core.jobs)
from core.people import Account
from core.storage import BlobCorrupt, StorageError

log = logging.getLogger(__name__)
WATCH_SECONDS = 15.0  # how often each worker looks for jobs whose runner died


def claim(import_id: str) -> MeasureImport | None:
    """Take the job if nobody runs it (core.jobs.claim)."""
    return core_jobs.claim(MeasureImport, import_id)


def run(import_id: str) -> MeasureImport | None:
    """Run one import to its end (done or failed). None when another runner has it."""
    imp = claim(import_id)
    if imp is None:
        return None
    try:
        return _run(imp)
    finally:
        core_jobs.release(import_id)  # from now on, if not finished, it is dead


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
    return core_jobs.in_thread(f"measures-import-{import_id[:8]}", run, import_id)


def waiting(patient_id: str | None = None) -> list[str]:
    """Jobs nobody runs: pending, or running with a dead runner or a stale heartbeat."""
    M = MeasureImport
    stmt = select(M.id, M.status, M.runner, M.heartbeat_at).where(M.status.in_(("pending", "running")))
    if patient_id is not None:
        stmt = stmt.where(M.patient_id == patient_id)
    return [row.id for row in db.session.execute(stmt.order_by(M.created_at)) if takeable(*row)]


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
    """Take over every job nobody runs, each in a thread of this process. Looking is a read: it
    never takes SQLite's write lock (every worker looks every few seconds); each job claims
    itself in its own thread."""
    with app.app_context():
        reads_in_background()
        try:
            return [t for t in (start(i) for i in waiting()) if t is not None]
        finally:
            db.session.remove()


_WATCHING: dict[int, threading.Thread] = {}


def watch(app) -> threading.Thread | None:
    """Once per process (a worker at its start, or its first request): a light thread that
    takes over dead jobs now and every MEASURES_IMPORT_WATCH_SECONDS. Not under tests (they
    run jobs themselves), nor where jobs do not run in threads, nor for an app without
    Carnet's database (another app served with gunicorn.conf.py)."""
    pid = os.getpid()
    thread = _WATCHING.get(pid)
    if thread is not None or app.testing or not db.serves(app) or not app.config.get("MEASURES_IMPORT_THREADS", True):
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
