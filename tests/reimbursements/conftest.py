"""Reimbursement fixtures: a sender that imports a file through the same steps as the upload.
The holder whose statement jobs run when the test says so: tests/conftest.py's `holder_space`
and `importer`."""

from __future__ import annotations

import io

import pytest


@pytest.fixture
def send():
    """send(viewer, content, name) → the finished import (a MeasureImport row of format releve/eob)."""
    from blueprints.reimbursements.imports import services

    def do(viewer, content: bytes, name: str = "releve.csv"):
        imp = services.send(viewer, name, io.BytesIO(content))
        return services.launch(imp, in_thread=False)

    return do
