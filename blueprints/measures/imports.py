"""Measure imports outside the request: the upload is stored encrypted, a MeasureImport row
records it, and a job (a background thread of the same process, or `flask measures
imports-resume`) reads it back, writes batches and keeps the row's progress up to date.

Why it survives anything: the job claims its row atomically (pending, or running with a dead
runner or a stale heartbeat), each batch commits its rows together with the counters that
describe them, and rows go in with INSERT ... ON CONFLICT DO NOTHING on the measures' unique
index, so a re-run after a crash adds only what is missing. The file is crypto-shredded when
the job ends.

Why a crash is noticed at once: the row names its runner (host, boot id, pid and the
process's start time). On the same host, a runner whose pid is gone, or now belongs to
another process (another start time), or another boot, is dead at once; a job run by this
very process is dead when its thread is; elsewhere, the 2-minute heartbeat decides. Every
worker process takes over dead jobs when it starts (gunicorn.conf.py: gunicorn restarts a
killed worker) and then every WATCH_SECONDS from a light thread (`watch`); the import pages
do too. Counters are the job's, across attempts: a resumed attempt adds to what earlier ones
stored (each batch commits its rows with them), so the page never undercounts.

Why it is fast: the job's thread only writes (SQLite works without the GIL) while the file
is parsed elsewhere: in a process of its own for a large file (parse_process), else in a
second thread (_Pipe), with a reader decrypting (and inflating) ahead of it. All database
work stays in the job's thread and session. A zip is stored as it came (an Apple export
inflates twentyfold) and inflated by the job as it reads.
"""
from __future__ import annotations

import logging
import os
import queue
import socket
import sqlite3
import threading
import time
import zipfile
import zlib
from datetime import timedelta
from itertools import chain

from flask import current_app
from sqlalchemy import delete, func, select, update

from blueprints.measures import importers
from blueprints.measures.importers import Collector, Refused, apple, csvfile, fhir
from blueprints.measures.parse_process import ParseProcess
from blueprints.measures.models import Measure, MeasureImport
from blueprints.documents.models import BlobKey
from blueprints.documents.services import store
from core import access, audit, clock
from core.db import db
from core.storage import BlobCorrupt, BlobTooLarge, StorageError

log = logging.getLogger(__name__)
MB = 1024 * 1024
FORMATS = ("apple", "fhir", "csv")
MAX_UPLOAD = 2048 * MB          # what the upload route accepts (a zipped Apple export)
MAX_XML = 16 * 1024 * MB        # export.xml once out of its zip
MAX_RATIO = 100                 # how many times its zipped size export.xml may inflate to
ROOT_BYTES = 1 * MB             # read at upload to find the XML's root element
MAX_CSV = 200 * MB
STALE = timedelta(minutes=2)    # a job whose heartbeat is older has died: it may be taken over
WATCH_SECONDS = 15.0            # how often each worker looks for jobs whose runner died
INFLATE_CHUNK = 256 * 1024
_XML_NAMES = ("export.xml", "exportation.xml")  # the French iPhone names it "exportation.xml"


# --------------------------------------------------------------------------- upload


def _apple_member(stream) -> zipfile.ZipInfo | None:
    """The export.xml inside a zip, or None when the file is the bare export.xml; Refused
    when it is neither. The zip is stored as it came: it is inflated by the job, as read."""
    head = stream.read(4)
    stream.seek(0)
    if head != b"PK\x03\x04":
        start = stream.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
        stream.seek(0)
        if not start.startswith(b"<"):
            raise Refused("no_export")
        _check_root(stream.read(ROOT_BYTES))
        stream.seek(0)
        return None
    try:
        with zipfile.ZipFile(stream) as archive:  # a file it was given stays open
            names = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError):
        raise Refused("zip") from None
    finally:
        stream.seek(0)
    found = [i for i in names if i.filename.rsplit("/", 1)[-1] in _XML_NAMES]
    if not found:
        raise Refused("no_export")
    found.sort(key=lambda i: (i.filename.count("/"), i.filename))
    member = found[0]
    if member.flag_bits & 0x1 or member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Refused("zip")  # encrypted, or packed in a way no phone exports
    if member.file_size > MAX_XML:
        raise Refused("too_large")
    if member.file_size == 0:
        raise Refused("empty")
    if member.file_size > MAX_RATIO * max(member.compress_size, 1):
        raise Refused("inflates")  # real exports inflate about twentyfold; a zip bomb, far more
    try:
        with zipfile.ZipFile(stream) as archive, archive.open(member) as xml:
            head = xml.read(ROOT_BYTES)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
        head = b""  # damaged data: the job reads it and says so
    finally:
        stream.seek(0)
    _check_root(head)
    return member


def _check_root(head: bytes) -> None:
    """Refuse an XML file whose root element is not an Apple export's (a GPX route...)."""
    root = apple.root_element(head)
    if root is not None and root != apple.ROOT:
        raise Refused("no_export")


_END = object()


class _Stopped(Exception):
    """The job gave up: its helper threads stop at their next chunk or batch."""


class _Failed:
    """An error raised in a helper thread, on its way to the thread that raises it."""

    def __init__(self, exc: BaseException):
        self.exc = exc


def store_upload(viewer, fmt: str, filename: str, stream) -> MeasureImport:
    """Store the file encrypted and record the import (CSV waits for the person to confirm
    the preview). Raises Refused; nothing is stored then."""
    options, member = None, None
    limit = {"apple": MAX_XML, "fhir": fhir.MAX_BYTES, "csv": MAX_CSV}[fmt]
    if fmt == "apple":
        member = _apple_member(stream)
        if member is not None:
            options, limit = {"member": member.filename}, MAX_UPLOAD
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
    if stored.size == 0:
        blobs.delete(stored.blob_id)
        raise Refused("empty")
    try:
        db.session.add(BlobKey(blob_id=stored.blob_id, patient_id=viewer.patient_id,
                               wrapped_key=stored.wrapped_key, sha256=stored.sha256))
        imp = MeasureImport(patient_id=viewer.patient_id, format=fmt, filename=(filename or fmt)[:255],
                            status="preview" if fmt == "csv" else "pending", blob_id=stored.blob_id,
                            size=member.file_size if member is not None else stored.size, options=options)
        db.session.add(imp)
        db.session.flush()
        audit.record(viewer, audit.Action.MEASURES_IMPORT_STARTED, imp, detail={"format": fmt})
    except BaseException:
        db.session.rollback()
        blobs.delete(stored.blob_id)
        raise
    return imp


def blob_chunks(imp: MeasureImport):
    """The file's bytes as the parsers read them: decrypted, and inflated for a zip."""
    key = db.session.get(BlobKey, imp.blob_id) if imp.blob_id else None
    if key is None:
        raise Refused("internal", "file gone")
    member = (imp.options or {}).get("member") if imp.format == "apple" else None
    if member is None:
        return store().open(key.blob_id, key.wrapped_key, key.sha256)
    return _inflated(store().open_seekable(key.blob_id, key.wrapped_key), member)


def _inflated(raw, member: str):
    """The export.xml of a stored zip, inflated as it is read (its declared size bounds it).

    The blob is authenticated, so the directory is the one checked at upload; what can still
    go wrong is in the compressed data: a bad deflate stream (zlib.error), a wrong checksum
    (BadZipFile), or data that ends early (EOFError)."""
    try:
        with raw, zipfile.ZipFile(raw) as archive, archive.open(member) as xml:
            while chunk := xml.read(INFLATE_CHUNK):
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise Refused("zip") from None


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


def _ids(n: int, head: str | None = None) -> list[str]:
    """n random UUIDs of version 7: a millisecond timestamp, then 74 random bits from one
    urandom call. Still unguessable in a URL, and a batch lands at one end of the primary-key
    index instead of all over it (uuid4() per row showed in profiles, random keys in the index)."""
    h = os.urandom(10 * n).hex()
    head = head or _id_head()
    return [f"{head}{h[i:i + 3]}-{'89ab'[int(h[i + 3], 16) & 3]}{h[i + 4:i + 7]}-{h[i + 7:i + 19]}"
            for i in range(0, 20 * n, 20)]


def _id_head() -> str:
    """What the UUIDs of one batch share: the millisecond timestamp and the version digit."""
    ms = f"{time.time_ns() // 1_000_000:012x}"
    return f"{ms[:8]}-{ms[8:12]}-7"


_COLUMNS = ("id", "patient_id", "kind", "taken_at", "utc_offset", "value", "value2", "context", "source",
            "source_name", "import_id", "dedup", "created_at")
_CONFLICT = "ON CONFLICT (patient_id, kind, taken_at, dedup) DO NOTHING"
# SQLite: the random part of a version-7 UUID (74 bits of its PRNG, seeded from the OS), made
# by SQLite per row with one printf (the timestamp part is bound): a third of the cost of
# building it from hex(randomblob()) pieces.
_SQLITE_ID = ("printf('%03x-%x%03x-%012x', random() & 4095, 8 + (random() & 3), random() & 4095, "
              "random() & 281474976710655)")


class _Writer:
    """Writes one batch and the counters that describe it in one short transaction.

    A batch goes in as a few multi-row INSERT ... ON CONFLICT DO NOTHING statements (thousands
    of rows each) with plain positional parameters, never executemany: the driver lets go of
    the GIL once per statement instead of once per row, which matters when the parser runs
    in another thread (with executemany, each row waited for the parser thread to hand the
    GIL back, 5 ms at a time). On SQLite, the rows of a statement are a VALUES list read by
    an INSERT ... SELECT that binds the columns every row shares once and makes the ids;
    elsewhere (PostgreSQL) every row carries its 13 values."""

    def __init__(self, imp: MeasureImport):
        self.imp_id, self.patient_id, self.source = imp.id, imp.patient_id, imp.format
        dialect = db.engine.dialect
        self.created = Measure.__table__.c.created_at.type.bind_processor(dialect) or (lambda v: v)
        self.sqlite = dialect.name == "sqlite"
        self.mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.per = 0  # rows per statement, from the driver's limit on bound parameters
        self.statements: dict[int, str] = {}
        # The job's counters so far (earlier attempts included): a resumed attempt parses the
        # file again from its start, finding the rows earlier attempts stored already there.
        self.base = {"added": imp.added or 0, "present": imp.present or 0, "done_bytes": imp.done_bytes or 0,
                     "rejected": imp.rejected or 0, "ignored": imp.ignored or 0}
        self.added = self.base["added"]
        self.conflicts = 0  # rows of this attempt already there (earlier attempts' rows among them)

    @property
    def present(self) -> int:
        """Rows already there before the job (a lower bound while re-reading what an earlier
        attempt stored; exact at the end, see run)."""
        return max(self.base["present"], self.conflicts - self.base["added"])

    @present.setter
    def present(self, value: int) -> None:
        """The exact figure, counted at the end of a resumed job."""
        self.base["present"], self.base["added"], self.conflicts = value, 0, value

    def _rows_per_statement(self, conn) -> int:
        if not self.sqlite:
            return 65535 // len(_COLUMNS)  # PostgreSQL's protocol: 65535 parameters at most
        try:
            limit = conn.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        except (AttributeError, sqlite3.Error):
            limit = 999  # SQLite before 3.32
        return max(1, (min(limit, 32766) - 5) // 8)

    def _sql(self, n: int) -> str:
        """The statement for n rows (built once per size: SQLite's statement cache keeps it)."""
        sql = self.statements.get(n)
        if sql is None:
            if self.sqlite:
                sql = (f"INSERT INTO measures ({', '.join(_COLUMNS)}) "  # ?1-?5 first: the rows' ? count on from 6
                       f"SELECT ?1 || {_SQLITE_ID}, ?2, column1, column2, column3, column4, column5, column6, ?3, "
                       f"column7, ?4, column8, ?5 FROM (VALUES {', '.join(['(?, ?, ?, ?, ?, ?, ?, ?)'] * n)}) "
                       f"WHERE true {_CONFLICT}")
            else:
                row = "(" + ", ".join([self.mark] * len(_COLUMNS)) + ")"
                sql = f"INSERT INTO measures ({', '.join(_COLUMNS)}) VALUES {', '.join([row] * n)} {_CONFLICT}"
            if len(self.statements) > 8:
                self.statements.clear()
            self.statements[n] = sql
        return sql

    def _insert(self, rows: list) -> int:
        """Insert the rows (8-tuples, see importers); how many were new."""
        now = self.created(clock.utcnow())
        if self.sqlite and not isinstance(now, str):
            now = str(now)  # what sqlite3's adapter would write, once per batch instead of per row
        conn = db.session.connection()
        if not self.per:
            self.per = self._rows_per_statement(conn)
        pid, src, iid = self.patient_id, self.source, self.imp_id
        shared = (_id_head(), pid, src, iid, now)  # ?1-?5 of SQLite's statement
        added = 0
        for at in range(0, len(rows), self.per):
            part = rows[at:at + self.per]
            if self.sqlite:
                params = tuple(chain(shared, chain.from_iterable(part)))
            else:
                params = tuple(chain.from_iterable(
                    (i, pid, r[0], r[1], r[2], r[3], r[4], r[5], src, r[6], iid, r[7], now)
                    for i, r in zip(_ids(len(part), shared[0]), part)))
            added += conn.exec_driver_sql(self._sql(len(part)), params).rowcount
        return added

    def write(self, rows: list, done_bytes: int, rejected: int, ignored: int) -> None:
        if rows:
            added = self._insert(rows)
            self.added += added
            self.conflicts += len(rows) - added
        base = self.base  # a resumed attempt re-reads the start of the file: never go backwards
        db.session.execute(update(MeasureImport).where(MeasureImport.id == self.imp_id).values(
            done_bytes=max(done_bytes, base["done_bytes"]), added=self.added, present=self.present,
            rejected=max(rejected, base["rejected"]), ignored=max(ignored, base["ignored"]),
            heartbeat_at=clock.utcnow()))
        db.session.commit()

    def __call__(self, rows: list, col: Collector) -> None:
        """As a collector's flush: the batch with the collector's counters."""
        self.write(rows, col.done_bytes, col.rejected, col.ignored)


# --------------------------------------------------------------------------- parse ∥ write

QUEUE_BATCHES = 3      # batches between the parser and the writer: bounds the memory in flight
TICK_SECONDS = 10.0    # the parser sends progress at least this often (the job's heartbeat)
READ_AHEAD = 16        # decrypted chunks read ahead of the parser (64 KiB each)
PROCESS_BYTES = 16 * MB  # from this size a file is parsed in a process of its own (parse_process)


class _Pipe:
    """Parse in a thread of its own while the job's thread writes, so the parser's Python and
    SQLite's work (which runs without the GIL) share the machine's cores; a third thread
    reads and decrypts the file a few chunks ahead of the parser.

    The parser thread never touches the database: it hands each full batch (plain tuples)
    with a snapshot of its collector's counters to a bounded queue, and progress every
    TICK_SECONDS when it has no batch to give. The job's thread does every statement and
    commit in its own session, in order. A parser error ends the parser thread and is raised
    in the job's thread after the batches handed over before it; a writer error stops the
    parser at its next chunk or batch."""

    def __init__(self, parse):
        self.parse = parse
        self.queue: queue.Queue = queue.Queue(maxsize=QUEUE_BATCHES)
        self.stop = threading.Event()
        self.last = time.monotonic()
        self.threads: list[threading.Thread] = []

    def put(self, item) -> None:
        self._put_to(self.queue, item)
        self.last = time.monotonic()

    def collector(self) -> Collector:
        return Collector(flush=self.flush, batch=importers.BATCH_ROWS)

    def flush(self, rows: list, col: Collector) -> None:
        """The collector's flush, in the parser thread."""
        self.put((rows, col.done_bytes, col.rejected, col.ignored))

    def ticking(self, chunks, col: Collector):
        for chunk in chunks:
            if self.stop.is_set():
                raise _Stopped
            if time.monotonic() - self.last >= TICK_SECONDS:
                self.put(([], col.done_bytes, col.rejected, col.ignored))
            yield chunk

    def ahead(self, chunks):
        """The chunks, read (decrypted, hashed) a few ahead by a thread of their own: file
        reads and hashing let go of the GIL, so this work leaves the parser's path."""
        chunk_queue: queue.Queue = queue.Queue(maxsize=READ_AHEAD)

        def read() -> None:
            try:
                for chunk in chunks:
                    self._put_to(chunk_queue, chunk)
                self._put_to(chunk_queue, _END)
            except _Stopped:
                pass
            except BaseException as exc:
                try:
                    self._put_to(chunk_queue, _Failed(exc))
                except _Stopped:
                    pass
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()  # the blob's file, before the job shreds it

        thread = threading.Thread(target=read, name="measures-import-read", daemon=True)
        thread.start()
        self.threads.append(thread)
        while True:
            try:
                item = chunk_queue.get(timeout=0.5)
            except queue.Empty:
                if self.stop.is_set():
                    raise _Stopped from None
                continue
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item

    def _put_to(self, target: queue.Queue, item) -> None:
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                target.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def run(self, chunks, col: Collector, writer: _Writer) -> None:
        """parse(chunks, col) in a thread, `writer` here; returns once both are done."""

        def produce() -> None:
            try:
                self.parse(self.ticking(self.ahead(chunks), col), col)
                col.flush()
                self.put(_END)
            except _Stopped:
                pass
            except BaseException as exc:  # handed to the writer, which ends the job with it
                try:
                    self.put(_Failed(exc))
                except _Stopped:
                    pass

        thread = threading.Thread(target=produce, name="measures-import-parse", daemon=True)
        thread.start()
        self.threads.append(thread)
        try:
            while True:
                try:
                    item = self.queue.get(timeout=1.0)
                except queue.Empty:
                    if not thread.is_alive() and self.queue.empty():
                        raise RuntimeError("the parser thread ended without a word") from None
                    continue
                if item is _END:
                    return
                if isinstance(item, _Failed):
                    raise item.exc
                writer.write(*item)
        finally:
            self.stop.set()
            for t in self.threads:
                t.join()


# --------------------------------------------------------------------------- who runs a job


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
        stmt = update(M).where(M.id == import_id, M.status == row.status,
                               M.runner.is_(None) if row.runner is None else M.runner == row.runner)
        if row.heartbeat_at is not None:
            stmt = stmt.where(M.heartbeat_at == row.heartbeat_at)  # nobody wrote a batch since
        taken = db.session.execute(stmt.values(status="running", heartbeat_at=now, runner=this_runner(),
                                               started_at=func.coalesce(M.started_at, now))).rowcount
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
    writer = _Writer(imp)
    if imp.size >= current_app.config.get("MEASURES_IMPORT_PROCESS_BYTES", PROCESS_BYTES):
        pipe = ParseProcess(imp.format, imp.options, TICK_SECONDS)
    else:
        pipe = _Pipe(importers.parser_for(imp.format, imp.options))
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
    audit.record(access.viewer_for(account), audit.Action.MEASURES_IMPORTED, imp, patient_id=imp.patient_id, detail={
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
