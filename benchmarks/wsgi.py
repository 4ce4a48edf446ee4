"""The real application, bound to the benchmark's temporary instance folder.

gunicorn imports `benchmarks.wsgi:app`; BENCH_INSTANCE names the folder (its database,
secrets and outbox were prepared by benchmarks.instance).
"""

import os

from app import create_app

app = create_app(instance_path=os.environ["BENCH_INSTANCE"])
