"""The home screen's short-lived cache: reused only while nothing it shows can have changed."""
from __future__ import annotations

from datetime import timedelta

import pytest

from blueprints.dashboard import services
from core import clock, pagecache
from tests.helpers import csrf_token


@pytest.fixture
def renders(monkeypatch):
    """How many times the home screen was actually built."""
    count = {"n": 0}
    real = services.holder_home

    def counting(viewer):
        count["n"] += 1
        return real(viewer)

    monkeypatch.setattr(services, "holder_home", counting)
    pagecache.clear()
    yield count
    pagecache.clear()


@pytest.fixture
def holder(app, client, make_holder, login_as):
    account, _ = make_holder(given_names="Aurore")
    login_as(client, account)
    return client


def test_the_same_page_is_reused_within_the_minute(holder, renders):
    first = holder.get("/").get_data(as_text=True)
    second = holder.get("/").get_data(as_text=True)
    assert first == second and renders["n"] == 1


def test_any_traced_change_shows_at_once(holder, renders):
    holder.get("/")
    r = holder.post("/profil/allergies/ajouter", data={"substance": "Pollen", "severity": "mild",
                                                       "csrf_token": csrf_token(holder, "/profil")})
    assert r.status_code in (302, 303)
    page = holder.get("/").get_data(as_text=True)  # the flash of the change: built afresh
    assert "1 allergie" in page or "1 allergy" in page
    assert renders["n"] >= 2


def test_a_new_minute_builds_the_page_again(holder, renders):
    holder.get("/")
    clock.advance(timedelta(seconds=61))
    holder.get("/")
    assert renders["n"] == 2


def test_pages_are_never_shared_between_sessions(app, holder, make_holder, login_as, renders):
    other_account, _ = make_holder(given_names="Bastien")
    other = login_as(app.test_client(), other_account)
    assert "Aurore" in holder.get("/").get_data(as_text=True)
    page = other.get("/").get_data(as_text=True)
    assert "Bastien" in page and "Aurore" not in page
    assert renders["n"] == 2


def test_a_page_with_a_message_is_never_kept(holder, renders):
    holder.get("/")
    r = holder.post("/documents/visibilite", data={"action": "hide", "next": "/",
                                                    "csrf_token": csrf_token(holder, "/documents")})
    assert r.status_code == 303  # nothing selected: a message, no change, no trace
    with_message = holder.get("/").get_data(as_text=True)
    assert 'class="notice notice-warning"' in with_message
    after = holder.get("/").get_data(as_text=True)
    assert 'class="notice notice-warning"' not in after
    assert renders["n"] == 2  # the message page was built and not kept; the plain one was reused
