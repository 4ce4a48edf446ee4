"""A separate Carnet process for the fault-injection tests: the tests start it with
subprocess, against the same database and instance folder as the test app, and kill it
(SIGKILL) or let it run while they act from the test process.

    python -m tests.reliability.worker CONFIG.json churn ACCOUNT_ID DOC_ID...
        delete the documents one after the other (each in its own request-like commit)
    python -m tests.reliability.worker CONFIG.json import IMPORT_ID
        run one measure import, slowed down so that the test can kill it mid-way

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

    with app.test_request_context():
        viewer = viewer_for(db.session.get(Account, account_id))
        for doc_id in doc_ids:
            doc = db.session.get(Document, doc_id)
            services.delete_document(viewer, doc)
            db.session.commit()  # the file goes after the commit, as in a request
            print("deleted", doc_id, flush=True)
            time.sleep(0.002)


def run_import(app, import_id: str, pause: float) -> None:
    from blueprints.constants import imports
    from core.db import db

    write = imports._Writer.write

    def slow_write(self, *args, **kwargs):
        write(self, *args, **kwargs)
        print("batch", self.added, flush=True)
        time.sleep(pause)  # gives the test time to kill this process between two batches

    imports._Writer.write = slow_write
    with app.app_context():
        imp = imports.run(import_id)
        print("finished", imp.status if imp else None, flush=True)
        db.session.remove()


def main(argv: list[str]) -> None:
    app = _app(argv[1])
    if argv[2] == "churn":
        churn(app, argv[3], argv[4:])
    elif argv[2] == "import":
        run_import(app, argv[3], float(argv[4]) if len(argv) > 4 else 0.05)
    else:
        raise SystemExit(f"unknown command {argv[2]}")


if __name__ == "__main__":
    main(sys.argv)
