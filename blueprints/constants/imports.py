"""Measure imports outside the request: the upload is stored encrypted, a MeasureImport row
records it, and a job (a background thread of the same process, or `flask constants
imports-resume`) reads it back, writes batches and keeps the row's progress up to date.

Why it survives anything: the job claims its row atomically (pending, or running with a stale
heartbeat), each batch commits its rows together with the counters that describe them, and
rows go in with INSERT ... ON CONFLICT DO NOTHING on the measures' unique index, so a re-run
after a crash adds only what is missing. The file is crypto-shredded when the job ends.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import zipfile
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from blueprints.constants.importers import Collector, Refused, apple, csvfile, fhir
from blueprints.constants.models import Measure, MeasureImport
from blueprints.documents.models import BlobKey
from blueprints.documents.services import store
from core import access, audit, clock
from core.db import db, insert_for
from core.storage import BlobCorrupt, BlobTooLarge, StorageError

log = logging.getLogger(__name__)
MB = 1024 * 1024
FORMATS = ("apple", "fhir", "csv")
MAX_UPLOAD = 2048 * MB          # what the upload route accepts (a zipped Apple export)
MAX_XML = 16 * 1024 * MB        # export.xml once out of its zip
MAX_CSV = 200 * MB
STALE = timedelta(minutes=2)    # a job whose heartbeat is older has died: it may be taken over
_XML_NAMES = ("export.xml", "exportation.xml")  # the French iPhone names it "exportation.xml"


# --------------------------------------------------------------------------- upload


def _apple_source(stream):
    """The export.xml itself: the member of the zip, or the bare file."""
    head = stream.read(4)
    stream.seek(0)
    if head != b"PK\x03\x04":
        start = stream.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
        stream.seek(0)
        if not start.startswith(b"<"):
            raise Refused("no_export")
        return stream, None
    try:
        archive = zipfile.ZipFile(stream)
        names = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError):
        raise Refused("zip") from None
    found = [i for i in names if i.filename.rsplit("/", 1)[-1] in _XML_NAMES]
    if not found:
        raise Refused("no_export")
    found.sort(key=lambda i: (i.filename.count("/"), i.filename))
    return archive.open(found[0]), archive


def store_upload(viewer, fmt: str, filename: str, stream) -> MeasureImport:
    """Store the file encrypted and record the import (CSV waits for the person to confirm
    the preview). Raises Refused; nothing is stored then."""
    archive, options = None, None
    limit = {"apple": MAX_XML, "fhir": fhir.MAX_BYTES, "csv": MAX_CSV}[fmt]
    if fmt == "apple":
        stream, archive = _apple_source(stream)
    elif fmt == "csv":
        options = csvfile.sniff(stream.read(csvfile.SNIFF_BYTES))
        stream.seek(0)
    else:
        start = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        stream.seek(0)
        if not start.startswith(b"{"):
            raise Refused("json")
    blobs = store()
    try:
        stored = blobs.put(stream, max_size=limit)
    except BlobTooLarge:
        raise Refused("too_large") from None
    except (zipfile.BadZipFile, OSError, EOFError):
        raise Refused("zip") from None
    finally:
        if archive is not None:
            archive.close()
    if stored.size == 0:
        blobs.delete(stored.blob_id)
        raise Refused("empty")
    try:
        db.session.add(BlobKey(blob_id=stored.blob_id, patient_id=viewer.patient_id,
                               wrapped_key=stored.wrapped_key, sha256=stored.sha256))
        imp = MeasureImport(patient_id=viewer.patient_id, format=fmt, filename=(filename or fmt)[:255],
                            status="preview" if fmt == "csv" else "pending", blob_id=stored.blob_id,
                            size=stored.size, options=options)
        db.session.add(imp)
        db.session.flush()
        audit.record(viewer, "measures_import_started", imp, detail={"format": fmt})
    except BaseException:
        db.session.rollback()
        blobs.delete(stored.blob_id)
        raise
    return imp


def blob_chunks(imp: MeasureImport):
    key = db.session.get(BlobKey, imp.blob_id) if imp.blob_id else None
    if key is None:
        raise Refused("internal", "file gone")
    return store().open(key.blob_id, key.wrapped_key, key.sha256)


def preview(imp: MeasureImport) -> dict:
    return csvfile.preview(blob_chunks(imp), imp.options)


def shred(imp: MeasureImport) -> None:
    """Delete the wrapped key, then the file: the upload is unrecoverable, backups included."""
    blob_id, imp.blob_id = imp.blob_id, None
    if blob_id:
        db.session.execute(delete(BlobKey).where(BlobKey.blob_id == blob_id))
        db.session.commit()
        store().delete(blob_id)


# --------------------------------------------------------------------------- job


def _insert_stmt():
    table = Measure.__table__
    return insert_for(table).on_conflict_do_nothing(
        index_elements=[table.c.patient_id, table.c.kind, table.c.taken_at, table.c.dedup])


def _ids(n: int) -> list[str]:
    """n random UUIDs of version 7: a millisecond timestamp, then 74 random bits from one
    urandom call. Still unguessable in a URL, and a batch lands at one end of the primary-key
    index instead of all over it (uuid4() per row showed in profiles, random keys in the index)."""
    ms = f"{time.time_ns() // 1_000_000:012x}"
    h = os.urandom(10 * n).hex()
    head = f"{ms[:8]}-{ms[8:12]}-7"
    return [f"{head}{h[i:i + 3]}-{'89ab'[int(h[i + 3], 16) & 3]}{h[i + 4:i + 7]}-{h[i + 7:i + 19]}"
            for i in range(0, 20 * n, 20)]


_COLUMNS = ("id", "patient_id", "kind", "taken_at", "utc_offset", "value", "value2", "context", "source",
            "source_name", "import_id", "dedup", "created_at")


class _Writer:
    """Writes one batch and the counters that describe it in one short transaction.

    The dialect's INSERT ... ON CONFLICT DO NOTHING is compiled once and run with plain tuples
    (executemany): per-row parameter processing by SQLAlchemy cost more than SQLite's insert."""

    def __init__(self, imp: MeasureImport):
        self.imp_id, self.patient_id, self.source = imp.id, imp.patient_id, imp.format
        dialect = db.engine.dialect
        compiled = _insert_stmt().compile(dialect=dialect)
        self.sql = str(compiled)
        self.order = list(compiled.positiontup) if compiled.positional else None
        self.created = Measure.__table__.c.created_at.type.bind_processor(dialect) or (lambda v: v)
        self.sqlite = dialect.name == "sqlite"
        self.added = self.present = 0

    def _params(self, rows: list) -> list:
        now = self.created(clock.utcnow())
        if self.sqlite and not isinstance(now, str):
            now = str(now)  # what sqlite3's adapter would write, once per batch instead of per row
        pid, src, iid = self.patient_id, self.source, self.imp_id
        tuples = [(i, pid, r[0], r[1], r[2], r[3], r[4], r[5], src, r[6], iid, r[7], now)
                  for i, r in zip(_ids(len(rows)), rows)]
        if self.order is None:  # named parameters (psycopg): one dict per row
            return [dict(zip(_COLUMNS, t)) for t in tuples]
        if self.order != list(_COLUMNS):
            at = [_COLUMNS.index(name) for name in self.order]
            return [tuple(t[i] for i in at) for t in tuples]
        return tuples

    def __call__(self, rows: list, col: Collector) -> None:
        if rows:
            conn = db.session.connection()
            added = conn.exec_driver_sql(self.sql, self._params(rows)).rowcount
            self.added += added
            self.present += len(rows) - added
        db.session.execute(update(MeasureImport).where(MeasureImport.id == self.imp_id).values(
            done_bytes=col.done_bytes, added=self.added, present=self.present, rejected=col.rejected,
            ignored=col.ignored, heartbeat_at=clock.utcnow()))
        db.session.commit()


def claim(import_id: str) -> MeasureImport | None:
    """Take the job if nobody runs it: one UPDATE, so two runners never both get it."""
    now = clock.utcnow()
    M = MeasureImport
    taken = db.session.execute(update(M).where(M.id == import_id, or_(
        M.status == "pending",
        and_(M.status == "running", or_(M.heartbeat_at.is_(None), M.heartbeat_at < now - STALE)),
    )).values(status="running", heartbeat_at=now, started_at=func.coalesce(M.started_at, now))).rowcount
    db.session.commit()
    return db.session.get(M, import_id, populate_existing=True) if taken else None


def run(import_id: str) -> MeasureImport | None:
    """Run one import to its end (done or failed). None when another runner has it."""
    imp = claim(import_id)
    if imp is None:
        return None
    resumed = imp.added or imp.done_bytes
    writer = _Writer(imp)
    col = Collector(flush=writer)
    try:
        chunks = blob_chunks(imp)
        if imp.format == "apple":
            apple.parse(chunks, col)
        elif imp.format == "fhir":
            fhir.parse(chunks, col)
        else:
            csvfile.parse(chunks, col, imp.options)
        col.flush()
    except (Refused, BlobCorrupt, StorageError, Exception) as exc:
        db.session.rollback()
        reason = exc.reason if isinstance(exc, Refused) else "internal"
        if not isinstance(exc, Refused):
            log.exception("measure import %s failed", import_id)
        return _finish(import_id, col, "failed", reason)
    if resumed:  # rows an earlier attempt wrote are "present" now: count them as added
        writer.added = db.session.scalar(select(func.count()).select_from(Measure).where(
            Measure.import_id == import_id)) or 0
        writer.present = max(0, col.valid - writer.added)
    return _finish(import_id, col, "done", None, writer)


def _finish(import_id: str, col: Collector, status: str, error: str | None, writer=None) -> MeasureImport:
    from core.people import Account

    imp = db.session.get(MeasureImport, import_id, populate_existing=True)
    imp.status, imp.error, imp.finished_at = status, error, clock.utcnow()
    imp.heartbeat_at = imp.finished_at
    imp.reasons = col.summary()
    if writer is not None:  # a failed job keeps the counters of the batches it committed
        imp.added, imp.present, imp.done_bytes = writer.added, writer.present, imp.size
        imp.rejected, imp.ignored = col.rejected, col.ignored
    account = db.session.scalar(select(Account).where(Account.patient_id == imp.patient_id,
                                                      Account.role == "holder"))
    audit.record(access.viewer_for(account), "measures_imported", imp, patient_id=imp.patient_id, detail={
        "format": imp.format, "status": status, "added": imp.added, "present": imp.present,
        "rejected": imp.rejected, "ignored": imp.ignored})
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
    """Jobs nobody runs: pending, or running with a stale heartbeat."""
    M = MeasureImport
    stmt = select(M.id).where(or_(M.status == "pending", and_(
        M.status == "running", or_(M.heartbeat_at.is_(None), M.heartbeat_at < clock.utcnow() - STALE))))
    if patient_id is not None:
        stmt = stmt.where(M.patient_id == patient_id)
    return list(db.session.scalars(stmt.order_by(M.created_at)))


def resume(patient_id: str) -> int:
    """Start the holder's abandoned jobs again (when the import page is opened)."""
    ids = waiting(patient_id) if threads_enabled() else []
    for import_id in ids:
        start(import_id)
    return len(ids)
