"""The real application, bound to the benchmark's temporary instance folder.

gunicorn imports `benchmarks.wsgi:app`; BENCH_INSTANCE names the folder (its database,
secrets and outbox were prepared by benchmarks.instance). The morning peak serves
`benchmarks.wsgi:timed`: the same app, each answer saying in a header the server CPU its
request took in its worker (`X-Bench-Cpu-Us`), added up per page so a run shows where its CPU
goes.
"""

import os
import time

from app import create_app
from benchmarks.server import CPU_HEADER

app = create_app(instance_path=os.environ["BENCH_INSTANCE"])


def timed(environ, start_response):
    """The app, its answer told the process CPU spent until its headers left (a sync worker
    serves one request at a time, and its body is made by then)."""
    cpu0 = time.process_time()

    def start(status, headers, exc_info=None):
        spent = round((time.process_time() - cpu0) * 1e6)
        return start_response(status, [*headers, (CPU_HEADER, str(spent))], exc_info)

    return app(environ, start)
