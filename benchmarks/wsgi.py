"""The real application, bound to the benchmark's temporary instance folder.

gunicorn imports `benchmarks.wsgi:app`; BENCH_INSTANCE names the folder (its database,
secrets and outbox were prepared by benchmarks.instance). The morning peak serves
`benchmarks.wsgi:timed`: the same app, each answer saying in a header the server CPU its
request took in its worker (`X-Bench-Cpu-Us`), added up per page so a run shows where its CPU
goes. A PDF's page is drawn in a child of the worker's fork server: what the fork server's
children used meanwhile is counted with the request (reaped before it answers: the worker
waits for the child's end; /proc counts in ticks of 10 ms, so per page on average only).
"""

import os
import time

from app import create_app
from benchmarks.server import CPU_HEADER, stat_ticks

app = create_app(instance_path=os.environ["BENCH_INSTANCE"])


def timed(environ, start_response):
    """The app, its answer told the process CPU spent until its headers left (a sync worker
    serves one request at a time, and its body is made by then)."""
    cpu0 = time.process_time()
    drawn0 = _drawing_seconds()

    def start(status, headers, exc_info=None):
        spent = round((time.process_time() - cpu0 + _drawing_seconds() - drawn0) * 1e6)
        return start_response(status, [*headers, (CPU_HEADER, str(spent))], exc_info)

    return app(environ, start)


_TICK = os.sysconf("SC_CLK_TCK")


class _Children:
    """This worker's children (its fork server and resource tracker, once a drawing has started
    them) and their CPU with what they reaped, read from /proc through descriptors kept open.
    Opened by path on every request, they cost 0.15 ms a request (3 % of a page's CPU, which the
    bare route does not pay); read again at offset 0, 0.04 ms."""

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


_drawing_seconds = _Children().seconds
