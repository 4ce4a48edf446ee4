"""A large import parses in a process of its own, so parsing and writing really run side by
side on two cores (threads of one process take turns holding the GIL, and parsing is
Python from start to end).

The job's process keeps the file and the database: a feeder thread reads the file (decrypts,
inflates) and sends its chunks down one pipe, a few ahead; the child parses them with the
same importers and collector as the thread path and sends back, down another pipe, each
full batch (plain tuples) with the collector's counters, progress ticks, and at the end the
collector's state or why the file was refused. The child never sees a key, a path or a
database connection.

Stopping: when the writer fails, the child is terminated, which breaks the feeder's pipe;
when the job's process dies, the child reads the end of its pipe and stops.
"""
from __future__ import annotations

import fcntl
import multiprocessing
import threading
import time

from blueprints.measures import importers
from blueprints.measures.importers import Collector, Refused

JOIN_SECONDS = 5.0
PIPE_BYTES = 1024 * 1024  # Linux's default ceiling for an unprivileged pipe


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
        importers.parser_for(fmt, options)(chunks(), col)
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
    """Same contract as the thread pipe: run() returns once every batch is written, or
    raises the parser's, the reader's or the writer's error."""

    def __init__(self, fmt: str, options: dict | None, tick: float):
        self.fmt, self.options, self.tick = fmt, options, tick
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
        proc = ctx.Process(target=_child, name="measures-import-parse", daemon=True,
                           args=(chunks_r, out_w, self.fmt, self.options, self.tick, importers.BATCH_ROWS))
        proc.start()
        chunks_r.close()
        out_w.close()
        feeder = threading.Thread(target=self._feed, args=(chunks, chunks_w), name="measures-import-read",
                                  daemon=True)
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
