"""The job parses in a thread of its own, or for a large file in a process of its own, while
its thread writes: both give the same rows, counters and reasons; errors on any side end the
job with its reason; counters stay exact across batches and statements; ids are UUIDs; no
helper thread or process outlives the job."""

from __future__ import annotations

import io
import multiprocessing
import re
import threading

import pytest
from sqlalchemy import func, select, update

from blueprints.measures.imports import jobs, pipeline, upload
from blueprints.measures.imports.importers import apple, common
from blueprints.measures.imports.importers.common import ChunkReader
from blueprints.measures.imports.writer import Writer
from blueprints.measures.models import MeasureImport
from core.access import viewer_for
from core.blobs import BlobKey, store
from core.db import db
from core.storage import BlobCorrupt
from tests.helpers import measures
from tests.measures.test_import_csv import FRENCH
from tests.samples import apple_xml, apple_zip, bundle, observation, pressure, record

D = "2024-03-{:02d} 07:{:02d}:00 +0100"


def _records(n: int, start: int = 0) -> list[str]:
    return [
        record("HeartRate", 60 + i % 30, "count/min", D.format(1 + i // 60, i % 60)) for i in range(start, start + n)
    ]


def _small_batches(monkeypatch, batch=3, buffer=2, per_statement=None):
    monkeypatch.setattr(common, "BATCH_ROWS", batch)
    monkeypatch.setattr(apple, "_BUFFER", buffer)
    if per_statement:
        monkeypatch.setattr(Writer, "_rows_per_statement", lambda self, conn: per_statement)


def _parser_threads() -> list[threading.Thread]:
    """The job's helper threads still alive (the parser and the reader ahead of it)."""
    return [t for t in threading.enumerate() if t.name in ("measures-import-parse", "measures-import-read")]


def _pending(viewer, content: bytes, fmt: str = "apple") -> str:

    imp = upload.store_upload(viewer, fmt, "export", io.BytesIO(content))
    if imp.status == "preview":  # a CSV file: confirmed
        db.session.execute(update(MeasureImport).where(MeasureImport.id == imp.id).values(status="pending"))
    db.session.commit()
    return imp.id


def _parse_in(app, where: str) -> None:
    app.config["MEASURES_IMPORT_PROCESS_BYTES"] = 0 if where == "process" else 1 << 40


@pytest.fixture(params=["thread", "process"])
def parse_path(request, app):
    """Each test runs twice: parsing in a thread, then in a process, whatever the file size."""
    _parse_in(app, request.param)
    yield request.param
    app.config.pop("MEASURES_IMPORT_PROCESS_BYTES", None)
    assert not multiprocessing.active_children() and not _parser_threads()


def test_counts_stay_exact_over_many_batches_and_statements(app, holder_space, monkeypatch, parse_path):
    viewer, _ = holder_space
    _small_batches(monkeypatch, batch=7, buffer=3, per_statement=4)
    monkeypatch.setattr(pipeline, "QUEUE_BATCHES", 1)  # the parser waits for the writer
    body = (
        _records(40)
        + _records(10)  # ten repeated: present, not added
        + [
            record("HeartRate", 500, "count/min", D.format(3, 1)),  # implausible
            record("ActiveEnergyBurned", 12, "kcal", D.format(3, 2)),
            pressure(121, 79, D.format(3, 3)),
            record("StepCount", 900, "count", D.format(3, 4)),
        ]
    )
    imp = jobs.run(_pending(viewer, apple_xml(*body)))
    assert (imp.status, imp.error) == ("done", None)
    assert (imp.added, imp.present, imp.rejected, imp.ignored) == (42, 10, 1, 1)
    assert len(measures(app, viewer.patient_id)) == 42
    assert imp.blob_id is None and not _parser_threads()

    again = jobs.run(_pending(viewer, apple_xml(*body)))  # the same file twice adds nothing
    assert (again.added, again.present, again.rejected, again.ignored) == (0, 52, 1, 1)
    assert len(measures(app, viewer.patient_id)) == 42


def test_a_parser_error_in_its_thread_fails_the_job_with_its_reason(app, holder_space, monkeypatch, parse_path):
    viewer, _ = holder_space
    _small_batches(monkeypatch, batch=2, buffer=1)
    broken = apple_xml(*_records(5)).replace(b"</HealthData>", b"<Record></HealthData>")
    imp = jobs.run(_pending(viewer, broken))
    assert (imp.status, imp.error) == ("failed", "xml")
    assert imp.added == 4 and len(measures(app, viewer.patient_id)) == 4  # the two batches handed over first
    assert imp.blob_id is None and not _parser_threads()


def test_a_refusal_raised_in_the_parser_thread_keeps_its_reason(app, holder_space, parse_path):
    viewer, _ = holder_space
    bomb = apple_xml(*_records(3), doctype='<!DOCTYPE HealthData [<!ENTITY a "aaaa">]>\n')
    imp = jobs.run(_pending(viewer, bomb))
    assert (imp.status, imp.error, imp.added) == ("failed", "entities", 0)


def test_a_corrupt_file_found_by_the_reader_thread_fails_the_job(app, holder_space, monkeypatch, parse_path):

    viewer, _ = holder_space
    _small_batches(monkeypatch, batch=2, buffer=1)
    xml = apple_xml(*_records(40))
    import_id = _pending(viewer, xml)

    def tampered(imp):
        yield xml[: len(xml) // 2]
        raise BlobCorrupt("chunk 1 fails authentication")

    monkeypatch.setattr(jobs, "blob_chunks", tampered)
    imp = jobs.run(import_id)
    assert (imp.status, imp.error) == ("failed", "internal")
    assert 0 < imp.added < 40 and imp.blob_id is None and not _parser_threads()


def test_a_writer_error_stops_the_parser_and_fails_the_job(app, holder_space, monkeypatch, parse_path):
    viewer, _ = holder_space
    _small_batches(monkeypatch, batch=2, buffer=1)
    monkeypatch.setattr(pipeline, "QUEUE_BATCHES", 1)
    calls = []
    write = Writer.write

    def failing(self, rows, *counters):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        write(self, rows, *counters)

    monkeypatch.setattr(Writer, "write", failing)
    imp = jobs.run(_pending(viewer, apple_xml(*_records(30))))
    assert (imp.status, imp.error, imp.added) == ("failed", "internal", 2)
    assert len(calls) == 2 and not _parser_threads()
    assert imp.blob_id is None


def test_progress_reaches_the_row_even_without_rows_to_write(app, holder_space, monkeypatch, parse_path):
    viewer, _ = holder_space
    monkeypatch.setattr(pipeline, "TICK_SECONDS", 0.0)
    seen = []
    write = Writer.write

    def spy(self, rows, done_bytes, rejected, ignored):
        seen.append((len(rows), done_bytes, ignored))
        write(self, rows, done_bytes, rejected, ignored)

    monkeypatch.setattr(Writer, "write", spy)
    body = [record("ActiveEnergyBurned", i, "kcal", D.format(1, i)) for i in range(50)]
    import_id = _pending(viewer, apple_xml(*body))
    monkeypatch.setattr(
        jobs,
        "blob_chunks",
        lambda imp, _real=jobs.blob_chunks: (c[i : i + 512] for c in _real(imp) for i in range(0, len(c), 512)),
    )  # many small chunks
    imp = jobs.run(import_id)
    assert (imp.status, imp.added, imp.ignored) == ("done", 0, 50)
    assert len([s for s in seen if s[0] == 0]) > 2  # heartbeats with no rows
    assert [s[1] for s in seen] == sorted(s[1] for s in seen)  # progress only goes forward


def test_ids_are_version_7_uuids_made_per_row(app, holder_space, monkeypatch):
    viewer, _ = holder_space
    _small_batches(monkeypatch, batch=5, buffer=2, per_statement=3)
    jobs.run(_pending(viewer, apple_xml(*_records(20))))
    ids = [m.id for m in measures(app, viewer.patient_id)]
    assert len(ids) == len(set(ids)) == 20
    shape = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    assert all(shape.fullmatch(i) for i in ids), ids[:3]
    assert len({i[:13] for i in ids}) <= 4  # one timestamp per batch, not per row


@pytest.mark.parametrize("n", [1, 4095, 4096])
def test_statement_sizes_at_the_edges(app, holder_space, n):
    viewer, _ = holder_space
    imp = db.session.get(MeasureImport, _pending(viewer, apple_xml(*_records(1))))
    writer = Writer(imp)
    rows = [("heart_rate", 1709272800 + i, 60, 70.0, None, None, "Watch", "70") for i in range(n)]
    writer.write(rows, 0, 0, 0)
    assert (writer.added, writer.present) == (n, 0)
    writer.write(rows[: max(1, n // 2)], 0, 0, 0)
    assert (writer.added, writer.present) == (n, max(1, n // 2))


def _stored_blobs(app) -> list:

    with app.app_context():
        return list(store().iter_blob_ids())


def test_a_zip_is_stored_as_it_came_and_inflated_by_the_job(app, holder_space):

    viewer, _ = holder_space
    xml = apple_xml(*_records(1800))  # several inflated chunks
    packed = apple_zip(xml)
    imp = upload.store_upload(viewer, "apple", "export.zip", io.BytesIO(packed))
    db.session.commit()
    key = db.session.get(BlobKey, imp.blob_id)
    assert store().open_seekable(key.blob_id, key.wrapped_key).size == len(packed) < len(xml)
    assert imp.size == len(xml) and imp.options == {"member": "apple_health_export/export.xml"}
    assert ChunkReader(upload.blob_chunks(imp)).read() == xml
    done = jobs.run(imp.id)
    assert (done.status, done.added, done.done_bytes) == ("done", 1800, len(xml))


def test_a_broken_zip_member_fails_the_job_and_leaves_nothing(app, holder_space):
    viewer, _ = holder_space
    before = _stored_blobs(app)
    xml = apple_xml(*_records(3000))
    packed = bytearray(apple_zip(xml))
    name = b"apple_health_export/export.xml"
    data = (
        packed.index(name) + len(name) + int.from_bytes(packed[packed.index(name) - 2 : packed.index(name)], "little")
    )
    packed[data] = 0xFF  # the first deflate block now has a type that does not exist
    imp = upload.store_upload(viewer, "apple", "export.zip", io.BytesIO(bytes(packed)))
    db.session.commit()
    done = jobs.run(imp.id)
    assert (done.status, done.error, done.blob_id) == ("failed", "zip", None)
    assert _stored_blobs(app) == before and not _parser_threads()


@pytest.mark.parametrize("damage, reason", [("too_large", "too_large"), ("encrypted", "zip"), ("empty", "empty")])
def test_a_member_that_cannot_be_read_is_refused_at_upload(app, holder_space, monkeypatch, damage, reason):
    viewer, _ = holder_space
    monkeypatch.setattr(upload, "MAX_XML", 200_000)
    before = _stored_blobs(app)
    packed = bytearray(
        apple_zip(b"" if damage == "empty" else apple_xml(*_records(6000 if damage == "too_large" else 3)))
    )
    if damage == "encrypted":  # the "encrypted" flag, in the local header and the central directory
        name = b"apple_health_export/export.xml"
        local = packed.index(name)
        central = packed.index(name, local + 1)
        packed[local - 30 + 6] |= 1
        packed[central - 46 + 8] |= 1
    with pytest.raises(common.Refused) as refused:
        upload.store_upload(viewer, "apple", "export.zip", io.BytesIO(bytes(packed)))
    assert refused.value.reason == reason and _stored_blobs(app) == before


def test_an_import_whose_row_cannot_be_written_leaves_neither_file_nor_key(app, holder_space, monkeypatch):
    viewer, _ = holder_space
    before, keys = _stored_blobs(app), db.session.scalar(select(func.count()).select_from(BlobKey))

    def fails(*args, **kwargs):
        raise RuntimeError("the trace could not be written")

    monkeypatch.setattr(upload.audit, "record", fails)
    with pytest.raises(RuntimeError):
        upload.store_upload(viewer, "csv", "mesures.csv", io.BytesIO(FRENCH))
    db.session.commit()
    assert _stored_blobs(app) == before
    assert db.session.scalar(select(func.count()).select_from(BlobKey)) == keys
    assert db.session.scalar(select(func.count()).select_from(MeasureImport)) == 0


APPLE = apple_xml(
    *_records(40),
    record("HeartRate", 500, "count/min", D.format(3, 1)),
    record("ActiveEnergyBurned", 12, "kcal", D.format(3, 2)),
    pressure(121, 79, D.format(3, 3)),
    record("StepCount", 900, "count", D.format(3, 4)),
    record(
        "BloodGlucose",
        5.4,
        "mmol<180.1558800000541>/L",
        D.format(3, 5),
        inner='<MetadataEntry key="HKMetadataKeyBloodGlucoseMealTime" value="1"/>',
    ),
)
FHIR = bundle(
    observation("29463-7", 160, "[lb_av]"), observation("8867-4", 64, "/min"), observation("29463-7", 7000, "kg")
)


@pytest.mark.parametrize(
    "fmt, content",
    [("apple", APPLE), ("apple", apple_zip(APPLE)), ("fhir", FHIR), ("csv", FRENCH)],
    ids=["xml", "zip", "fhir", "csv"],
)
def test_the_process_gives_what_the_thread_gives(app, make_holder, monkeypatch, fmt, content):

    _small_batches(monkeypatch, batch=7, buffer=3)
    outcomes = []
    for where in ("thread", "process"):
        _parse_in(app, where)
        account, _ = make_holder()
        with app.test_request_context(method="POST"):
            viewer = viewer_for(db.session.merge(account))
            first = jobs.run(_pending(viewer, content, fmt))
            again = jobs.run(_pending(viewer, content, fmt))  # the same file twice adds nothing
        rows = sorted(
            (m.kind, m.taken_at, m.utc_offset, m.value, m.value2, m.context, m.source_name)
            for m in measures(app, viewer.patient_id)
        )
        outcomes.append(
            (
                (
                    first.status,
                    first.error,
                    first.added,
                    first.present,
                    first.rejected,
                    first.ignored,
                    first.reasons,
                    rows,
                ),
                (again.added, again.present, again.rejected),
            )
        )
    app.config.pop("MEASURES_IMPORT_PROCESS_BYTES", None)
    assert outcomes[0] == outcomes[1]
    (status, _, added, *_), (added_again, present_again, _) = outcomes[1]
    assert status == "done" and added > 0 and added_again == 0 and present_again == added
    assert not multiprocessing.active_children()


def test_a_large_file_is_parsed_in_a_process(app, holder_space, monkeypatch):

    viewer, _ = holder_space
    app.config["MEASURES_IMPORT_PROCESS_BYTES"] = 4096
    started = []
    monkeypatch.setattr(
        pipeline.ParseProcess,
        "run",
        lambda self, *a, _run=pipeline.ParseProcess.run: (started.append(self.fmt), _run(self, *a))[1],
    )
    small, large = apple_xml(*_records(3)), apple_xml(*_records(60))
    assert len(small) < 4096 <= len(large)
    assert jobs.run(_pending(viewer, small)).added == 3 and started == []
    done = jobs.run(_pending(viewer, large))
    assert (done.added, done.present) == (57, 3) and started == ["apple"]  # the first three were there
    app.config.pop("MEASURES_IMPORT_PROCESS_BYTES", None)
