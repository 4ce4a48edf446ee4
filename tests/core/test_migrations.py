"""Alembic migrations build exactly the schema the models declare."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.database
def test_upgrade_head_matches_models(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/migrated.db"
    env = {**os.environ, "DATABASE_URL": url}
    if os.environ.get("TEST_DATABASE_URL"):
        engine = make_engine(url)
        with engine.begin() as conn:  # migrations start from an empty schema
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS migrations_check CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA migrations_check")
        env["DATABASE_URL"] = url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dmigrations_check"
    alembic = [sys.executable, "-m", "alembic"]
    up = subprocess.run(alembic + ["upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    check = subprocess.run(alembic + ["check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
