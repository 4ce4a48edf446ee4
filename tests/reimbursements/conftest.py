"""Reimbursement fixtures: a holder in a request context whose statement jobs run when the
test says so, and a sender that imports a file through the same steps as the upload."""

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
def send():
    """send(viewer, content, name) → the finished import (a MeasureImport row of format releve/eob)."""
    from blueprints.reimbursements.imports import services

    def do(viewer, content: bytes, name: str = "releve.csv"):
        imp = services.send(viewer, name, io.BytesIO(content))
        return services.launch(imp, in_thread=False)

    return do


@pytest.fixture
def remb_holder(app, client, make_holder, login_as):
    """(client logged in as a fresh holder, account); background threads off: tests run jobs."""
    shutil.rmtree(os.path.join(app.instance_path, "blobs"), ignore_errors=True)
    app.extensions.pop("carnet.blobs", None)
    app.config["MEASURES_IMPORT_THREADS"] = False
    account, _ = make_holder()
    login_as(client, account)
    yield client, account
    app.config.pop("MEASURES_IMPORT_THREADS", None)
