"""Fault injection: another Carnet process (tests/reliability/worker.py) started with
subprocess against the test app's database and instance folder, killed with SIGKILL or
left to run while the test acts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.access import viewer_for
from core.db import db
from tests.helpers import CHEAP_ARGON2, ROOT, processes


@pytest.fixture
def worker(app, tmp_path):
    """worker(*args) → a Popen running `python -m tests.reliability.worker CONFIG *args`, its
    stdout a pipe of lines; every process still running at the end is killed."""
    config = {
        key: app.config[key]
        for key in ("ENV_NAME", "TESTING", "DATABASE_URL", "DEMO", "SECRET_KEY", "CODE_PEPPER", *CHEAP_ARGON2)
    }
    config["INSTANCE_PATH"] = app.instance_path
    config_file = tmp_path / "worker.json"
    config_file.write_text(json.dumps(config))
    command = [sys.executable, "-m", "tests.reliability.worker", str(config_file)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with processes() as start:
        yield lambda *args: start([*command, *args], stdout=subprocess.PIPE, env=env)


@pytest.fixture
def space(app, make_holder, fresh_store):
    """(viewer, account) of a fresh holder, in a request context."""
    account, _ = make_holder()
    with app.test_request_context(method="POST"):
        yield viewer_for(db.session.merge(account)), account
