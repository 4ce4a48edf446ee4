"""An import whose worker is killed (SIGKILL) mid-way: seen dead at once (its runner's pid is
gone, no 2-minute wait), taken over by the next worker that starts, by the import page or by
`imports-resume`, and counted across attempts (the page never shows fewer measures added
than are stored)."""

from __future__ import annotations

import io
import signal
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from blueprints.measures.imports import jobs, upload
from blueprints.measures.models import Measure, MeasureImport
from core.db import db
from tests.samples import apple_xml, record

N = 12_000
BATCH = 1000


def _export() -> bytes:
    start = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    return apple_xml(
        *(
            record(
                "HeartRate", 55 + i % 50, "count/min", (start + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S %z")
            )
            for i in range(N)
        )
    )


def _pending(viewer) -> str:
    imp = upload.store_upload(viewer, "apple", "export.xml", io.BytesIO(_export()))
    db.session.commit()
    return imp.id


def _row(import_id: str) -> MeasureImport:
    db.session.rollback()
    return db.session.get(MeasureImport, import_id, populate_existing=True)


def _stored(import_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Measure).where(Measure.import_id == import_id))


def _kill_after(proc, batches: int) -> None:
    """Let the worker commit `batches` batches, then SIGKILL it (between two batches)."""
    for _ in range(batches):
        line = proc.stdout.readline()
        assert line.startswith("batch"), line
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL


def test_a_killed_import_is_seen_dead_at_once_and_resumed_with_cumulative_counts(app, space, worker):
    viewer, _ = space
    import_id = _pending(viewer)
    _kill_after(worker("import", import_id, "0.05", str(BATCH)), 4)

    imp = _row(import_id)
    first_added, first_bytes, first_runner = imp.added, imp.done_bytes, imp.runner
    assert imp.status == "running" and first_added == _stored(import_id) >= 4 * BATCH
    assert jobs.runner_dead(first_runner, import_id)
    assert jobs.waiting() == [import_id]  # at once: the heartbeat is seconds old
    db.session.rollback()

    # gunicorn restarts the worker: at its start (gunicorn.conf.py) it takes the job over, no
    # page view needed. It re-reads the start of the file, then is killed too: its counts go on
    # from the first attempt's.
    _kill_after(worker("start", import_id, "0.05", str(BATCH)), 2)
    imp = _row(import_id)
    assert imp.runner != first_runner
    assert imp.added == _stored(import_id) >= first_added and imp.done_bytes >= first_bytes
    assert jobs.waiting() == [import_id]
    db.session.rollback()

    result = app.test_cli_runner().invoke(args=["measures", "imports-resume"])
    assert f"{import_id}: done ({N:d} added, 0 already present, 0 rejected, 0 not kept)." in result.output, (
        result.output
    )
    assert _stored(import_id) == N and jobs.waiting() == []


def test_a_job_run_by_a_live_process_is_left_alone(app, space):
    """Its runner lives (this process, with the job's thread running): nobody takes it over."""
    viewer, _ = space
    import_id = _pending(viewer)
    imp = jobs.claim(import_id)
    assert imp.runner == jobs.this_runner() and not jobs.runner_dead(imp.runner, import_id)
    assert jobs.waiting() == [] and jobs.claim(import_id) is None
    jobs._RUNNING.discard(import_id)  # its thread ended without finishing the job
    assert jobs.runner_dead(imp.runner, import_id) and jobs.waiting() == [import_id]
    # a pid reused by another process is another runner
    host, boot, pid, started = imp.runner.split("|")
    assert jobs.runner_dead(f"{host}|{boot}|{pid}|{int(started) + 1}")
    assert not jobs.runner_dead(f"another-host|{boot}|{pid}|{started}")  # there, the heartbeat decides
