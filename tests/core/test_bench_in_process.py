"""An app a benchmark makes in its own process serves nobody: it starts no watch over imports
left by a dead worker (a thread that would poll the section's database in the process being
measured, and go on polling once the section removed its folder)."""

from __future__ import annotations

import threading

from app import create_app
from benchmarks import instance
from blueprints.measures.imports import jobs
from core.db import db


def test_an_app_made_in_a_benchmarks_process_starts_no_watch_over_imports(tmp_path):
    app = create_app({"DEMO": False, **instance.IN_PROCESS}, instance_path=str(tmp_path))
    assert not app.testing  # a served app's first request would start the watch
    with app.app_context():
        db.create_all()
    before = set(threading.enumerate())
    assert app.test_client().get("/connexion", base_url="http://localhost").status_code == 200
    assert jobs.watch(app) is None
    assert not [t for t in set(threading.enumerate()) - before if t.name == "measures-import-watch"]
    with app.app_context():
        db.engine.dispose()
