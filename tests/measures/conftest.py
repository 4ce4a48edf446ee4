"""Measure import fixtures: a logged-in holder whose jobs run when the test says so, and a
runner that imports a file through the service (sample files: tests/samples.py)."""

from __future__ import annotations

import io
import os
import shutil

import pytest


@pytest.fixture
def space(app, make_holder):
    """(viewer, account) in a request context, with an empty blob store, jobs run by hand."""
    from core.access import viewer_for
    from core.db import db

    shutil.rmtree(os.path.join(app.instance_path, "blobs"), ignore_errors=True)
    app.extensions.pop("carnet.blobs", None)
    account, _ = make_holder()
    with app.test_request_context(method="POST"):
        yield viewer_for(db.session.merge(account)), account


@pytest.fixture
def run_import(app):
    """run_import(viewer, fmt, content, name) → the finished MeasureImport (CSV: confirmed first)."""
    from sqlalchemy import update

    from blueprints.measures.imports import jobs, upload
    from blueprints.measures.models import MeasureImport
    from core.db import db

    def do(viewer, fmt: str, content: bytes, name: str = "export"):
        imp = upload.store_upload(viewer, fmt, name, io.BytesIO(content))
        if imp.status == "preview":
            db.session.execute(update(MeasureImport).where(MeasureImport.id == imp.id).values(status="pending"))
        db.session.commit()
        done = jobs.run(imp.id)
        assert done is not None
        return done

    return do


@pytest.fixture
def importer(app, client, make_holder, login_as):
    """(client logged in as a fresh holder, account); background threads off: tests run jobs."""
    shutil.rmtree(os.path.join(app.instance_path, "blobs"), ignore_errors=True)
    app.extensions.pop("carnet.blobs", None)
    app.config["MEASURES_IMPORT_THREADS"] = False
    account, _ = make_holder()
    login_as(client, account)
    yield client, account
    app.config.pop("MEASURES_IMPORT_THREADS", None)
