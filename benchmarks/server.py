"""Start and stop gunicorn for a measured run, on a free local port."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CPU_HEADER = "X-Bench-Cpu-Us"  # benchmarks.wsgi:timed's answers: the server CPU of their request


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn --workers N serving `target`; a context manager that waits until it answers."""

    def __init__(
        self, target: str, workers: int = 2, env: dict | None = None, log: Path | None = None, ready_path: str = "/"
    ):
        self.target = target
        self.workers = workers
        self.env = env or {}
        self.log = log
        self.ready_path = ready_path
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Gunicorn:
        env = {**os.environ, **self.env}
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--bind",
                f"{HOST}:{self.port}",
                "--log-level",
                "warning",
                self.target,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        if out is not subprocess.DEVNULL:
            out.close()
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.target} exited with {self.proc.returncode} (log: {self.log})")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", self.ready_path)
                conn.getresponse().read()
                conn.close()
                # every worker must have booted: a few more requests land on both
                time.sleep(0.5)
                return
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn {self.target} did not answer within {timeout:.0f} s")

    def worker_pids(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def cpu_seconds(self) -> float | None:
        """User + system CPU time used so far by the workers and everything they started: the
        fork servers that draw PDF pages and their children, once reaped (Linux /proc; None
        elsewhere)."""
        pids = self.worker_pids()
        if not pids:
            return None
        return sum(_tree_ticks(pid, own=True) for pid in pids) / os.sysconf("SC_CLK_TCK")

    def children_cpu_seconds(self) -> float | None:
        """The part of cpu_seconds() spent outside the workers themselves (PDF pages drawn)."""
        pids = self.worker_pids()
        if not pids:
            return None
        return sum(_tree_ticks(pid, own=False) for pid in pids) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # the arbiter stops its own workers
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _children(pid: int) -> list[int]:
    """The processes this one started that are still running (Linux /proc)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            found += [int(p) for p in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            continue
    return found


def database_cpu_seconds(name: bytes = b"postgres") -> float | None:
    """User + system CPU time used so far by the processes named `name` on this machine (a
    PostgreSQL server on the same cores: its backends, their reaped predecessors through the
    postmaster, its writer and checkpointer); None when there are none (SQLite, or a server
    elsewhere). Every database of that server counts, the run's own among them."""
    total, found = 0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if stat[stat.index(b"(") + 1 : stat.rindex(b")")] == name:
            found = True
            total += stat_ticks(stat, reaped=True)
    return total / os.sysconf("SC_CLK_TCK") if found else None


def idle_core_seconds(stat: Path = Path("/proc/stat")) -> float:
    """Seconds the machine's cores have spent idle so far, all cores summed, waiting for the disk
    included (the first line of /proc/stat: its idle and iowait columns)."""
    fields = stat.read_text().split("\n", 1)[0].split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


def _tree_ticks(pid: int, own: bool) -> int:
    """CPU ticks of a process (if `own`) and of its descendants, theirs with what they reaped
    (a fork server's finished children). A worker's own reaped children are counted by the
    tree while they live, and it reaps none before it stops."""
    total = 0
    if own:
        total += _ticks(pid, reaped=False)
    for child in _children(pid):
        total += _ticks(child, reaped=True) + _tree_ticks(child, own=False)
    return total


def _ticks(pid: int, reaped: bool) -> int:
    """CPU ticks of a process; with `reaped`, those of the children it waited for too."""
    try:
        return stat_ticks(Path(f"/proc/{pid}/stat").read_bytes(), reaped)
    except OSError:
        return 0


def stat_ticks(stat: bytes, reaped: bool) -> int:
    """CPU ticks in a /proc/<pid>/stat line: utime and stime, with `reaped` cutime and cstime."""
    fields = stat.rsplit(b")", 1)[1].split()
    return int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)


_TICK = os.sysconf("SC_CLK_TCK")


class Children:
    """The calling process's children (a worker's fork server and resource tracker, once a
    drawing has started them) and their CPU with what they reaped, read from /proc through
    descriptors kept open: 0.04 ms a read, against 0.15 ms opened by path."""

    def __init__(self) -> None:
        self.pid, self.listing, self.seen, self.stats = 0, -1, b"", []

    def seconds(self) -> float:
        if self.pid != os.getpid():  # opened in the worker itself, even if the app was imported before the fork
            for fd in [self.listing, *self.stats] if self.pid else []:
                os.close(fd)  # the parent's, inherited
            self.pid, self.seen, self.stats = os.getpid(), b"", []
            # the sync worker's requests run on its main thread, which starts the fork server
            self.listing = os.open(f"/proc/self/task/{self.pid}/children", os.O_RDONLY)
        listed = os.pread(self.listing, 4096, 0)
        if listed != self.seen:
            for fd in self.stats:
                os.close(fd)
            self.stats = []
            for pid in listed.split():
                try:
                    self.stats.append(os.open(b"/proc/%s/stat" % pid, os.O_RDONLY))
                except OSError:  # gone meanwhile
                    continue
            self.seen = listed
        total = 0
        for fd in self.stats:
            try:
                total += stat_ticks(os.pread(fd, 1024, 0), reaped=True)
            except OSError:  # ended: the next listing drops it
                continue
        return total / _TICK


class Drawn:
    """CPU of this worker's bounded runs so far: the fork server's and its children's, read from
    /proc just before and just after each run. Read around every request instead, even one that
    draws nothing, they cost 0.05 ms a request (6 % of a thumbnail's CPU, and the bare route
    pays nothing of the kind)."""

    def __init__(self, children: Children) -> None:
        self.children, self.seconds = children, 0.0

    def around(self, run):
        def counted(*args, **kwargs):
            before = self.children.seconds()
            try:
                return run(*args, **kwargs)
            finally:
                self.seconds += self.children.seconds() - before

        return counted
