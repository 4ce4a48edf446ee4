"""SQLite's writers take turns: the threads of a process, then the processes of a database.

SQLite's own wait for its write lock is a poll whose pauses grow to 100 ms (1, 2, 5, 10, 15...),
whether or not the lock was given back meanwhile: under load, a worker spent a tenth of its time
asleep there and a page waited up to a tenth of a second (docs/performance.md, 88). Carnet's
writers take turns before BEGIN IMMEDIATE and give them back once the transaction has ended, so
SQLite's lock is free when a turn begins: the threads of a process on a lock of the process,
woken as it is given back; the processes on an exclusive `flock` of a file beside the database
(`<database>-writers`), tried again every 250 µs at most. Other programs (the `sqlite3` shell, a
backup) still meet SQLite's lock and its busy timeout.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time

#: A waiting writer tries again after this, then twice as long each time, up to LONGEST_PAUSE.
FIRST_PAUSE = 0.00005
LONGEST_PAUSE = 0.00025


class Locked(sqlite3.OperationalError):
    """No turn within the busy timeout: what SQLite says after its own."""

    def __init__(self) -> None:
        super().__init__("database is locked")


class Turn:
    """A turn held: give it back once the transaction has ended (committed or rolled back)."""

    __slots__ = ("_thread", "_fd")

    def __init__(self, thread: threading.Lock, fd: int | None) -> None:
        self._thread, self._fd = thread, fd

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)  # the lock itself, even if a forked child shares the file
        finally:
            self._thread.release()


class Writers:
    """The turns of one database for this process. `path` is the database file (None for a
    database in memory, which no other process can open: the threads' turn alone)."""

    def __init__(self, timeout_s: float, path: str | None = None) -> None:
        self._timeout = timeout_s
        self._path = f"{path}-writers" if path else None
        self._fd: int | None = None
        self._start()

    def _start(self) -> None:
        """A process's own turns: a forked process inherits its parent's lock and open file, but a
        turn its parent holds is not its own. (Closing the inherited file does not end it: the
        parent's descriptor still holds the lock.)"""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def acquire(self) -> Turn:
        """This thread's turn, once every other writer of the database has given theirs back;
        Locked after the busy timeout."""
        if self._pid != os.getpid():
            self._start()
        lock = self._lock
        if not lock.acquire(timeout=self._timeout):
            raise Locked()
        if self._path is None:
            return Turn(lock, None)
        try:
            return self._machine_turn(lock)
        except BaseException:
            lock.release()
            raise

    def _machine_turn(self, lock: threading.Lock) -> Turn:
        """The database's turn: tried again after 50 µs, then every 250 µs at most, until the
        busy timeout. (A blocking flock() has no timeout, and a thread blocking in it for this one
        cost more than the wait: docs/performance-log.md, 88.)"""
        if self._fd is None:
            self._fd = _open(self._path)
        deadline = time.monotonic() + self._timeout
        pause = FIRST_PAUSE
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return Turn(lock, self._fd)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Locked() from None
            time.sleep(pause)
            pause = min(2 * pause, LONGEST_PAUSE)


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
