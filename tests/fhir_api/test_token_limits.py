"""/oauth/token is rate-limited per client and per address: at the limit a request is still
answered, over it the answer is 429 with an OAuth error body and Retry-After, and the next
window answers again. An app refreshing its holder's token as tokens expire is never limited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blueprints.apps import oauth
from core import clock
from tests.fhir_api.test_oauth import connected, exchange  # noqa: F401  (the fixture is used by name)

START = datetime(2026, 12, 3, 10, 0, 20, tzinfo=UTC)  # 20 s into a minute: 40 s left in it


@pytest.fixture
def limits(app):
    """Tight limits for the test (3 per address, 5 per client), the clock stopped at START."""
    saved = {k: app.config[k] for k in ("OAUTH_TOKEN_PER_ADDRESS_MINUTE", "OAUTH_TOKEN_PER_CLIENT_MINUTE")}
    app.config.update(OAUTH_TOKEN_PER_ADDRESS_MINUTE=3, OAUTH_TOKEN_PER_CLIENT_MINUTE=5)
    clock.freeze(START)
    yield
    app.config.update(saved)


def _guess(client, client_id: str = "app-x", address: str = "203.0.113.7"):
    """A refresh token guessed: what a limit exists to stop."""
    return client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "devine", "client_id": client_id},
        environ_base={"REMOTE_ADDR": address},
    )


def test_one_address_up_to_its_limit_then_429_until_the_window_ends(client, limits):
    for _ in range(3):
        r = _guess(client, client_id=f"app-{_}")
        assert r.status_code in (400, 401), r.json  # answered: the grant is wrong, not refused
    over = _guess(client, client_id="app-9")
    assert over.status_code == 429
    assert over.json["error"] == "temporarily_unavailable" and "error_description" in over.json
    assert over.headers["Retry-After"] == "40" and over.headers["Cache-Control"] == "no-store"
    assert _guess(client, address="198.51.100.1").status_code != 429  # another address is not concerned
    clock.advance(timedelta(seconds=40))
    assert _guess(client, client_id="app-10").status_code in (400, 401)


def test_one_client_from_many_addresses_up_to_its_limit_then_429(client, limits):
    for n in range(5):
        assert _guess(client, address=f"192.0.2.{n}").status_code in (400, 401)
    over = _guess(client, address="192.0.2.99")
    assert over.status_code == 429 and over.headers["Retry-After"] == "40"
    assert _guess(client, client_id="app-y", address="192.0.2.98").status_code in (400, 401)


def test_a_confidential_client_is_counted_by_its_basic_auth_name(client, limits):
    for n in range(5):
        r = client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": "devine"},
            auth=("app-basic", "secret"),
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"},
        )
        assert r.status_code != 429
    assert (
        client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": "devine"},
            auth=("app-basic", "secret"),
            environ_base={"REMOTE_ADDR": "192.0.2.50"},
        ).status_code
        == 429
    )


def test_an_app_refreshing_as_its_tokens_expire_is_never_limited(app, limits, connected):  # noqa: F811
    """A day of hourly refreshes, even under the tight limits of this test."""
    client, _account, the_app, verifier, code = connected
    tok = exchange(client, the_app.client_id, code, verifier).json
    api = app.test_client()
    for _hour in range(24):
        clock.advance(timedelta(seconds=oauth.ACCESS_SECONDS - 60))  # a minute before it expires
        r = api.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": the_app.client_id},
        )
        assert r.status_code == 200, (r.status_code, r.json)
        tok = r.json
