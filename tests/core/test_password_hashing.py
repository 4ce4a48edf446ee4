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


# phc-winner-argon2's own vectors (src/test.c), as its reference implementation encodes them:
# one lane and two lanes, the password "password"; argon2i is still read, as argon2-cffi read it.
REFERENCE = (
    "$argon2i$v=19$m=65536,t=1,p=1$c29tZXNhbHQAAAAAAAAAAA$+r0d29hqEB0yasKr55ZgICsQGSkl0v0kgwhd+U3wyRo",
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
)


@pytest.mark.parametrize("encoded", REFERENCE)
def test_the_reference_implementations_hashes_are_checked(encoded):
    assert services.verify_hash(encoded, "password")
    assert not services.verify_hash(encoded, "passwore")
    assert not services.verify_hash(encoded[:-2] + "cD", "password")  # another tag


def test_hashes_made_at_the_production_profile_are_checked(production):
    """argon2-cffi makes four-lane hashes (RFC 9106); they are checked with their own
    parameters, whatever the password's characters."""
    with production().app_context():
        for password in ("a production password", "épée · 密码 ✓", "x" * 128):
            hashed = services.hash_password(password)
            assert ",p=4$" in hashed
            assert services.verify_hash(hashed, password)
            assert not services.verify_hash(hashed, password + " ")
            assert not services.verify_hash(hashed, password[:-1])


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "$argon2id$v=19$m=256,t=2,p=2$!!$!!",
        "$argon2id$" + "A" * 500,
    ],
)
def test_what_is_no_argon2_hash_never_matches(stored):
    assert not services.verify_hash(stored, "password")
