"""The job runner: atomic claim, resumption after a crash, threads, the CLI, audit, shredding."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event, select, update

from blueprints.measures.imports import jobs, upload
from blueprints.measures.imports.importers import apple
from blueprints.measures.imports.importers.common import Collector
from blueprints.measures.imports.writer import Writer
from blueprints.measures.models import MeasureImport
from core import clock
from core.audit import AuditEvent
from core.blobs import BlobKey, store
from core.db import _read_only, db
from tests.helpers import measures
from tests.samples import apple_xml, apple_zip, pressure, record

D = "2024-03-01 {} +0100"
XML = apple_xml(
    record("BodyMass", 72.4, "kg", D.format("07:00:00")),
    record("HeartRate", 61, "count/min", D.format("07:01:00")),
    pressure(121, 79, D.format("07:02:00")),
    record("BodyMass", 900, "kg", D.format("08:00:00")),
)


def _pending(viewer, content=XML, fmt="apple"):
    imp = upload.store_upload(viewer, fmt, "export.zip", io.BytesIO(content))
    db.session.commit()
    return imp.id


def test_a_job_is_claimed_once(app, holder_space):
    viewer, _ = holder_space
    import_id = _pending(viewer)
    assert jobs.claim(import_id) is not None
    assert jobs.claim(import_id) is None  # running, heartbeat fresh
    assert jobs.run(import_id) is None
    assert jobs.waiting() == []


def test_a_job_left_running_by_a_dead_process_is_taken_over_and_counts_right(app, holder_space):
    viewer, _ = holder_space
    import_id = _pending(viewer)
    # A first attempt wrote two rows, then its process died.
    col_rows = [("weight", 1709272800, 60, 72.4, None, None, "Apple Watch de Camille", "72.4")]
    imp = db.session.get(MeasureImport, import_id)

    jobs.claim(import_id)
    Writer(imp)(col_rows, Collector())
    old = clock.utcnow() - jobs.STALE - timedelta(seconds=5)
    db.session.execute(update(MeasureImport).where(MeasureImport.id == import_id).values(heartbeat_at=old))
    db.session.commit()
    assert jobs.waiting(viewer.patient_id) == [import_id]
    imp = jobs.run(import_id)
    assert (imp.status, imp.added, imp.present, imp.rejected) == ("done", 3, 0, 1)
    assert len(measures(app, viewer.patient_id)) == 3


def test_the_file_is_crypto_shredded_when_the_job_ends(app, holder_space):

    viewer, _ = holder_space
    import_id = _pending(viewer, apple_zip(XML))
    blob_id = db.session.get(MeasureImport, import_id).blob_id
    assert store().exists(blob_id) and db.session.get(BlobKey, blob_id) is not None
    imp = jobs.run(import_id)
    assert imp.blob_id is None and not store().exists(blob_id)
    assert db.session.get(BlobKey, blob_id) is None
    assert imp.size == imp.done_bytes == len(XML) and imp.heartbeat_at is not None


def test_audit_traces_say_what_happened_without_any_value(app, holder_space):
    viewer, _ = holder_space
    imp = jobs.run(_pending(viewer))
    events = list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("measures_import%")).order_by(AuditEvent.id))
    )
    assert [(e.action, e.target_id, e.actor_type, e.patient_id) for e in events] == [
        ("measures_import_started", imp.id, "holder", viewer.patient_id),
        ("measures_imported", imp.id, "holder", viewer.patient_id),
    ]
    assert events[0].detail == {"format": "apple"}
    assert events[1].detail == {
        "format": "apple",
        "status": "done",
        "added": 3,
        "present": 0,
        "rejected": 1,
        "ignored": 0,
    }
    text = repr([e.detail for e in events]) + repr([e.target_label for e in events])
    assert "72.4" not in text and "121" not in text and "900" not in text


def test_a_job_started_in_a_thread_finishes(app, holder_space):
    viewer, _ = holder_space
    import_id = _pending(viewer)
    thread = jobs.start(import_id)
    thread.join(timeout=30)
    assert not thread.is_alive()
    db.session.expire_all()
    assert db.session.get(MeasureImport, import_id).status == "done"


def test_the_resume_command_runs_waiting_jobs(app, holder_space):
    viewer, _ = holder_space
    import_id = _pending(viewer)
    result = app.test_cli_runner().invoke(args=["measures", "imports-resume"])
    assert result.exit_code == 0, result.output
    assert f"{import_id}: done (3 added, 0 already present, 1 rejected, 0 not kept)." in result.output
    again = app.test_cli_runner().invoke(args=["measures", "imports-resume"])
    assert "No import waiting." in again.output


def test_a_job_that_fails_keeps_what_it_wrote_and_says_why(app, holder_space, monkeypatch):

    viewer, _ = holder_space
    import_id = _pending(viewer)

    def broken(chunks, col):
        col.add(__import__("blueprints.measures.kinds", fromlist=["x"]).KINDS["weight"], 1709272800, 60, 70.0)
        col.flush()
        raise RuntimeError("disk gone")

    monkeypatch.setattr(apple, "parse", broken)
    imp = jobs.run(import_id)
    assert (imp.status, imp.error, imp.added) == ("failed", "internal", 1)
    assert imp.blob_id is None and len(measures(app, viewer.patient_id)) == 1


def test_looking_for_jobs_to_take_over_never_takes_the_write_lock(app, holder_space):
    """Every worker looks every few seconds: its read begins deferred, as a GET's does (a
    BEGIN IMMEDIATE there queued behind, and blocked, every writer of the space)."""

    viewer, _ = holder_space
    import_id = _pending(viewer)
    db.session.execute(update(MeasureImport).where(MeasureImport.id == import_id).values(status="done"))
    db.session.commit()
    began: list[bool] = []

    def note(_conn):
        if threading.current_thread().name == "watcher":
            began.append(_read_only.get())

    event.listen(db.engine, "begin", note)
    try:
        watcher = threading.Thread(target=jobs.watch_once, args=(app,), name="watcher")
        watcher.start()
        watcher.join(timeout=30)
    finally:
        event.remove(db.engine, "begin", note)
    assert began == [True]


@pytest.mark.sqlite_only  # SQLite plans by its rules alone; PostgreSQL by the table's statistics
def test_looking_for_jobs_nobody_runs_never_reads_every_import(app):
    """Every worker looks every few seconds: by the index on (status, created_at), not through
    every import ever made (docs/performance.md, 29)."""

    seen = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if "FROM measure_imports" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", watch)
        try:
            assert jobs.waiting() == []
        finally:
            event.remove(db.engine, "before_cursor_execute", watch)
        ((statement, parameters),) = seen
        raw = db.session.connection().connection.driver_connection
        plan = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert any("ix_measure_imports_status_created (status=?)" in step for step in plan), plan
    assert not any(step.startswith("SCAN measure_imports") for step in plan), plan


def test_no_watcher_for_an_app_without_carnets_database(monkeypatch):
    """gunicorn.conf.py starts the watcher in every worker it serves: another app (the
    benchmarks' bare route) gets none, instead of a thread that fails every few seconds."""
    started = []
    monkeypatch.setattr(jobs, "_WATCHING", {})  # this process's watcher, for this test only
    monkeypatch.setattr(jobs.threading, "Thread", lambda *a, **k: started.append(k) or pytest.fail("a thread"))
    other = Flask("other")
    assert jobs.watch(other) is None and not started
    carnet_like = Flask("carnet")
    carnet_like.extensions["carnet.engine"] = object()
    monkeypatch.setattr(jobs.threading, "Thread", lambda *a, **k: started.append(k) or _Idle())
    assert isinstance(jobs.watch(carnet_like), _Idle) and started[0]["name"] == "measures-import-watch"


class _Idle:
    def start(self) -> None:
        pass
