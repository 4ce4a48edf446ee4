"""The morning peak's what-if of another password profile (--password-profile): the run's copy
gets every password hash made anew at that profile, hashes the app's own check accepts, and the
server is told the same profile through the settings it reads."""

from __future__ import annotations

import sqlite3

import pytest
from flask import Flask

from benchmarks import peak, population, run
from blueprints.auth.services import verify_hash
from core import config
from core.config import DEFAULTS

ARGON2_KEYS = ("ARGON2_TIME_COST", "ARGON2_MEMORY_KIB", "ARGON2_PARALLELISM")


def test_the_peak_runs_as_shipped_unless_told_and_each_profile_can_be_asked_for():
    assert peak.PASSWORD_PROFILES["shipped"] == {key: DEFAULTS[key] for key in ARGON2_KEYS}
    assert run.parse(["peak"]).password_profile == "shipped"
    for name, profile in peak.PASSWORD_PROFILES.items():
        assert run.parse(["peak", "--password-profile", name]).password_profile == name
        assert set(profile) == set(ARGON2_KEYS)
    with pytest.raises(SystemExit):
        run.parse(["peak", "--password-profile", "weaker"])


def test_the_server_reads_a_profile_from_the_settings_it_is_given(tmp_path, monkeypatch):
    owasp = peak.PASSWORD_PROFILES["owasp"]
    for key, value in peak.password_settings(owasp).items():
        monkeypatch.setenv(key, value)
    server = Flask(__name__, instance_path=str(tmp_path))
    config.load(server, {"DEMO": True})
    assert {key: server.config[key] for key in ARGON2_KEYS} == owasp


def test_a_what_if_profile_rehashes_every_password_the_app_then_accepts(tmp_path):
    path = tmp_path / "carnet.db"
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE accounts (id TEXT PRIMARY KEY, password_hash TEXT)")
        c.executemany(
            "INSERT INTO accounts VALUES (?, ?)",
            [
                ("holder", "$argon2id$v=19$m=65536,t=3,p=4$old"),
                ("pro", "$argon2id$v=19$m=65536,t=3,p=4$old"),
                ("pending", None),
            ],
        )
    assert peak.rehash_passwords(f"sqlite:///{path}", peak.PASSWORD_PROFILES["owasp"]) == 2
    with sqlite3.connect(path) as c:
        rows = dict(c.execute("SELECT id, password_hash FROM accounts"))
    assert rows["pending"] is None  # an account without a password is left without one
    for who in ("holder", "pro"):
        assert rows[who].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert verify_hash(rows[who], population.HOLDER_PASSWORD)
        assert not verify_hash(rows[who], population.HOLDER_PASSWORD + "x")
