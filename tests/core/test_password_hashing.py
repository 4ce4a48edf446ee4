"""Passwords are hashed with the app's ARGON2_* parameters: RFC 9106's low-memory profile by
default, never less in production; the test app lowers them (its passwords guard nothing)."""

from __future__ import annotations

import os

import pytest
from argon2 import profiles

from app import create_app
from blueprints.auth import services
from core.config import ConfigError
from tests.helpers import CHEAP_ARGON2

PRODUCTION = {
    "ENV_NAME": "production",
    "SECRET_KEY": "s" * 48,
    "CODE_PEPPER": "p" * 48,
    "WEBAUTHN_ORIGIN": "https://carnet.example",
    "AUDIT_KEY": "a" * 43,
}


@pytest.fixture
def production(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("CARNET_"):
            monkeypatch.delenv(key)
    return lambda **overrides: create_app(
        {**PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path}/p.db", **overrides}, instance_path=str(tmp_path)
    )


def test_production_hashes_with_rfc_9106_low_memory(production):
    strong = profiles.RFC_9106_LOW_MEMORY
    with production().app_context():
        hashed = services.hash_password("a production password")
        hasher = services.hasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        strong.time_cost,
        strong.memory_cost,
        strong.parallelism,
    )
    assert hashed.startswith(f"$argon2id$v=19$m={strong.memory_cost},t={strong.time_cost},p={strong.parallelism}$")


@pytest.mark.parametrize("weaker", [{"ARGON2_TIME_COST": 2}, {"ARGON2_MEMORY_KIB": 32768}, CHEAP_ARGON2])
def test_production_refuses_weaker_parameters(production, weaker):
    with pytest.raises(ConfigError, match="ARGON2"):
        production(**weaker)


def test_the_test_app_hashes_cheaply_and_still_verifies(app, make_holder):
    account, _ = make_holder()
    assert account.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    with app.app_context():
        assert services.password_matches(account, "correct horse battery staple")
        assert not services.password_matches(account, "not the password")
        assert not services.password_matches(None, "correct horse battery staple")  # the dummy hash, cheap too
