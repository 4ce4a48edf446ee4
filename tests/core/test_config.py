"""CARNET_* environment variables: parsed by Flask as JSON, held to the type of their default."""

import os

import pytest
from flask import Flask

from core import config


@pytest.fixture
def env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("CARNET_") or key == "DATABASE_URL":
            monkeypatch.delenv(key)
    return monkeypatch


def _load(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path))
    config.load(app)
    return app.config


def test_values_are_typed_like_their_default(env, tmp_path):
    env.setenv("CARNET_DEMO", "true")
    env.setenv("CARNET_UPLOAD_MAX_MB", "7")
    env.setenv("CARNET_WEBAUTHN_ORIGIN", "http://localhost:8123")
    env.setenv("CARNET_SECRET_KEY", "1234567890" * 4)
    env.setenv("CARNET_MAIL_FROM", "42")
    loaded = _load(tmp_path)
    assert loaded["DEMO"] is True
    assert loaded["UPLOAD_MAX_MB"] == 7 and loaded["MAX_CONTENT_LENGTH"] == 8 * config.MB
    assert loaded["WEBAUTHN_ORIGIN"] == "http://localhost:8123"
    assert loaded["SECRET_KEY"] == "1234567890" * 4 and loaded["MAIL_FROM"] == "42"


@pytest.mark.parametrize("raw, expected", [("1", True), ("0", False), ("false", False)])
def test_switches_accept_one_and_zero(env, tmp_path, raw, expected):
    env.setenv("CARNET_DEMO", raw)
    assert _load(tmp_path)["DEMO"] is expected


@pytest.mark.parametrize(
    "key, raw, message",
    [
        ("CARNET_DEMO", "ture", "CARNET_DEMO='ture' is not a boolean"),
        ("CARNET_DEMO", "2", "is not a boolean"),
        ("CARNET_SESSION_COOKIE_SECURE", "yes please", "is not a boolean"),
        ("CARNET_UPLOAD_MAX_MB", "20MB", "CARNET_UPLOAD_MAX_MB='20MB' is not a whole number"),
        ("CARNET_SESSION_IDLE_MINUTES", "true", "is not a whole number"),
    ],
)
def test_a_mistyped_value_stops_the_start_up(env, tmp_path, key, raw, message):
    env.setenv(key, raw)
    with pytest.raises(config.ConfigError, match=message):
        _load(tmp_path)


def test_database_url_is_read_unprefixed_and_as_text(env, tmp_path):
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    assert _load(tmp_path)["DATABASE_URL"] == f"sqlite:///{tmp_path}/x.db"
