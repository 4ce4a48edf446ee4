"""What htmx-flask leaves to core.web: fragments only for plain htmx requests, redirects htmx
can follow, and answers that vary on HX-Request."""

import pytest

from core import web

PLAIN = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


@pytest.mark.parametrize("headers, fragment", [({}, False), (PLAIN, True), (BOOSTED, False), (RESTORE, False)])
def test_only_a_plain_htmx_request_gets_a_fragment(app, headers, fragment):
    with app.test_request_context("/", headers=headers):
        assert web.wants_fragment() is fragment


def test_a_fragment_for_one_target(app):
    with app.test_request_context("/", headers={**PLAIN, "HX-Target": "chart-block"}):
        assert web.wants_fragment("chart-block") and not web.wants_fragment("other")
    with app.test_request_context("/", headers={**BOOSTED, "HX-Target": "chart-block"}):
        assert not web.wants_fragment("chart-block")


@pytest.mark.parametrize(
    "headers, reload, status, hx",
    [
        ({}, False, 303, False),
        (PLAIN, False, 204, True),
        (BOOSTED, False, 303, False),
        ({}, True, 303, False),
        (BOOSTED, True, 204, True),
    ],
)
def test_hx_redirect(app, headers, reload, status, hx):
    with app.test_request_context("/", headers=headers):
        resp = web.hx_redirect("/ailleurs", reload=reload)
    assert resp.status_code == status
    assert (resp.headers.get("HX-Redirect") == "/ailleurs") is hx
    assert hx or resp.headers["Location"] == "/ailleurs"


def test_pages_vary_on_hx_request(client):
    assert "HX-Request" in client.get("/connexion").headers["Vary"]
