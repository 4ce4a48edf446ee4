"""gunicorn's settings for Carnet (read from the working directory by `gunicorn`).

The request timeout is the app's REQUEST_TIMEOUT_SECONDS (CARNET_REQUEST_TIMEOUT_SECONDS):
`storage check` leaves alone unknown files younger than twice it, since an upload writes
its file and commits its row within one request. A worker that starts (gunicorn restarts
one that died) takes over at once the measure imports whose runner died."""

import os

timeout = int(os.environ.get("CARNET_REQUEST_TIMEOUT_SECONDS", "60"))


def post_worker_init(worker):
    from blueprints.measures.imports import jobs  # the app's modules load in the worker, not in gunicorn's master

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "app_context"):
        jobs.watch(app)
