"""A separate Carnet process for the fault-injection tests: the tests start it with
subprocess, against the same database and instance folder as the test app, and kill it
(SIGKILL) or let it run while they act from the test process.

    python -m tests.reliability.worker CONFIG.json churn ACCOUNT_ID DOC_ID...
        delete the documents one after the other (each in its own request-like commit)
    python -m tests.reliability.worker CONFIG.json import IMPORT_ID [PAUSE] [BATCH_ROWS]
        run one measure import, slowed down so that the test can kill it mid-way
    python -m tests.reliability.worker CONFIG.json start IMPORT_ID [PAUSE] [BATCH_ROWS]
        what a gunicorn worker does when it starts (gunicorn.conf.py): watch for dead
        imports; then wait for that import to end

It prints one line per step, flushed, so the test knows where it is.
"""

from __future__ import annotations

import json
import sys
import time


def _app(config_file: str):
    from app import create_app

    with open(config_file) as fh:
        config = json.load(fh)
    instance = config.pop("INSTANCE_PATH")
    return create_app(config, instance_path=instance)


def churn(app, account_id: str, doc_ids: list[str]) -> None:
    from blueprints.documents import services
    from blueprints.documents.models import Document
    from core.access import viewer_for
    from core.db import db
    from core.people import Account

    with app.test_request_context(method="POST"):
        viewer = viewer_for(db.session.get(Account, account_id))
        for doc_id in doc_ids:
            doc = db.session.get(Document, doc_id)
            services.delete_document(viewer, doc)
            db.session.commit()  # the file goes after the commit, as in a request
            print("deleted", doc_id, flush=True)
            time.sleep(0.01)


def _slowed(pause: float, batch: int) -> None:
    """Small batches, each followed by a line and a pause: the test kills between two."""
    from blueprints.measures.imports.importers import common
    from blueprints.measures.imports.writer import Writer

    common.BATCH_ROWS = batch
    write = Writer.write

    def slow_write(self, *args, **kwargs):
        write(self, *args, **kwargs)
        print("batch", self.added, flush=True)
        time.sleep(pause)

    Writer.write = slow_write


def run_import(app, import_id: str) -> None:
    from blueprints.measures.imports import jobs
    from core.db import db

    with app.app_context():
        imp = jobs.run(import_id)
        print("finished", imp.status if imp else None, flush=True)
        db.session.remove()


def worker_start(app, import_id: str) -> None:
    """gunicorn loads gunicorn.conf.py and calls its post_worker_init(worker) in each worker
    it starts (it restarts a killed one); then this waits for the import to end."""
    import importlib.util
    import os

    from blueprints.measures.models import MeasureImport
    from core.db import db

    spec = importlib.util.spec_from_file_location("gunicorn_conf", os.path.join(os.getcwd(), "gunicorn.conf.py"))
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    app.testing = False  # a real worker: it watches

    class Worker:  # the part of gunicorn's worker the hook reads
        wsgi = app

    conf.post_worker_init(Worker())
    status = None
    for _ in range(1200):
        with app.app_context():
            status = db.session.get(MeasureImport, import_id).status
            db.session.remove()
        if status in ("done", "failed"):
            print("finished", status, flush=True)
            return
        time.sleep(0.05)
    print("still", status, flush=True)


def main(argv: list[str]) -> None:
    app = _app(argv[1])
    if argv[2] == "churn":
        churn(app, argv[3], argv[4:])
        return
    if len(argv) > 5:
        _slowed(float(argv[4]), int(argv[5]))
    if argv[2] == "import":
        run_import(app, argv[3])
    elif argv[2] == "start":
        worker_start(app, argv[3])
    else:
        raise SystemExit(f"unknown command {argv[2]}")


if __name__ == "__main__":
    main(sys.argv)
