"""Parsing while the job's thread writes: a file is parsed elsewhere, never where the
database work happens, and its batches come back to the job in order.

A small file parses in a thread of its own (ThreadPipe). A large one parses in a process of
its own (ParseProcess), so parsing and writing really run side by side on two cores (threads
of one process take turns holding the GIL, and parsing is Python from start to end).

The job's process keeps the file and the database: a feeder thread reads the file (decrypts,
inflates) and sends its chunks down one pipe, a few ahead; the child parses them with the
same importers and collector as the thread path and sends back, down another pipe, each
full batch (plain tuples) with the collector's counters, progress ticks, and at the end the
collector's state or why the file was refused. The child never sees a key, a path or a
database connection (this module imports none of the database code it would not use).

Stopping: when the writer fails, the child is terminated, which breaks the feeder's pipe;
when the job's process dies, the child reads the end of its pipe and stops.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Iterable
from importlib import import_module

from blueprints.measures.imports import formats
from blueprints.measures.imports.importers import apple, common, csvfile, fhir
from blueprints.measures.imports.importers.common import Collector, Refused

QUEUE_BATCHES = 3  # batches between the parser and the writer: bounds the memory in flight
TICK_SECONDS = 10.0  # the parser sends progress at least this often (the job's heartbeat)
READ_AHEAD = 16  # decrypted chunks read ahead of the parser (64 KiB each)
PROCESS_BYTES = 16 * 1024 * 1024  # from this size a file is parsed in a process of its own (ParseProcess)
JOIN_SECONDS = 5.0
PIPE_BYTES = 1024 * 1024  # Linux's default ceiling for an unprivileged pipe


def parser_for(fmt: str, options: dict | None = None) -> Callable[[Iterable[bytes], Collector], None]:
    """parse(chunks, collector) for a file format ("apple", "fhir", "csv" with its options, a
    registered format or its parser's "module:function" name)."""
    fmt = formats.OTHER[fmt].parser if fmt in formats.OTHER else fmt
    if ":" in fmt:
        module, _sep, name = fmt.partition(":")
        parse = getattr(import_module(module), name)
        return lambda chunks, col: parse(chunks, col, options)
    if fmt == "apple":
        return apple.parse
    if fmt == "fhir":
        return fhir.parse
    return lambda chunks, col: csvfile.parse(chunks, col, options)


_END = object()


class _Stopped(Exception):
    """The job gave up: its helper threads stop at their next chunk or batch."""


class _Failed:
    """An error raised in a helper thread, on its way to the thread that raises it."""

    def __init__(self, exc: BaseException):
        self.exc = exc


class ThreadPipe:
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
        return Collector(flush=self.flush, batch=common.BATCH_ROWS)

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

    def run(self, chunks, col: Collector, writer) -> None:
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


def _child(chunks_in, out, fmt: str, options: dict | None, tick: float, batch: int) -> None:
    """The parse process: chunks in, batches out; one last message says how it ended."""
    last = [time.monotonic()]

    def flush(rows: list, col: Collector) -> None:
        out.send(("rows", rows, col.done_bytes, col.rejected, col.ignored))
        last[0] = time.monotonic()

    col = Collector(flush=flush, batch=batch)

    def chunks():
        while True:
            chunk = chunks_in.recv_bytes()
            if not chunk:
                return
            if time.monotonic() - last[0] >= tick:  # the job's heartbeat, even with nothing to write
                flush([], col)
            yield chunk

    try:
        parser_for(fmt, options)(chunks(), col)
        col.flush()
        out.send(("end", col.state()))
    except Refused as exc:
        out.send(("refused", exc.reason, exc.detail))
    except EOFError:
        out.send(("error", "the file ended early"))
    except BaseException as exc:  # the job fails with "internal"; the log says why
        out.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        out.close()


class ParseProcess:
    """Same contract as ThreadPipe: run() returns once every batch is written, or
    raises the parser's, the reader's or the writer's error."""

    def __init__(self, fmt: str, options: dict | None, tick: float):
        # a registered format's parser by name: the child (spawned) has not imported its feature
        self.fmt = formats.OTHER[fmt].parser if fmt in formats.OTHER else fmt
        self.options, self.tick = options, tick
        self.read_error: BaseException | None = None

    def collector(self) -> Collector:
        """The job's view of the child's collector: filled in when the child ends."""
        return Collector()

    def _feed(self, chunks, conn) -> None:
        try:
            try:  # room for a few chunks ahead: the child keeps parsing while this thread waits for the GIL
                fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            except (AttributeError, OSError):
                pass
            for chunk in chunks:
                if chunk:
                    conn.send_bytes(chunk)
            conn.send_bytes(b"")
        except BrokenPipeError:  # the child is gone: it said why, or was stopped
            pass
        except BaseException as exc:  # the file could not be read: the job ends with this error
            self.read_error = exc
        finally:
            conn.close()
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # the blob's file, before the job shreds it

    def run(self, chunks, col: Collector, writer) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        chunks_r, chunks_w = ctx.Pipe(duplex=False)
        out_r, out_w = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_child,
            name="measures-import-parse",
            daemon=True,
            args=(chunks_r, out_w, self.fmt, self.options, self.tick, common.BATCH_ROWS),
        )
        proc.start()
        chunks_r.close()
        out_w.close()
        feeder = threading.Thread(target=self._feed, args=(chunks, chunks_w), name="measures-import-read", daemon=True)
        feeder.start()
        ended = False
        try:
            while True:
                try:
                    msg = out_r.recv()
                except EOFError:
                    raise self.read_error or RuntimeError("the parse process ended without a word") from None
                if msg[0] == "rows":
                    writer.write(*msg[1:])
                elif msg[0] == "end":
                    col.restore(msg[1])
                    ended = True
                    return
                elif self.read_error is not None:  # the child only saw its input end early
                    raise self.read_error
                elif msg[0] == "refused":
                    raise Refused(msg[1], msg[2])
                else:
                    raise RuntimeError(msg[1])
        finally:
            out_r.close()
            if ended:
                proc.join(JOIN_SECONDS)
            if proc.is_alive():  # the writer failed, or the child hangs: it has nothing left to say
                proc.terminate()
                proc.join()
            feeder.join()
            proc.close()
