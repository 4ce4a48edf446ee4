"""Measure import fixtures: a runner that imports a file through the service (sample files:
tests/samples.py). The holder whose jobs run when the test says so: tests/conftest.py's
`holder_space` and `importer`."""

from __future__ import annotations

import io

import pytest


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
