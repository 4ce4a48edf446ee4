"""The idle timer asks the server before warning or ending: a tab whose session was ended
elsewhere goes to the login page, and activity in another tab keeps this one open."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import expect_dashboard, password_login

pytestmark = pytest.mark.browser


def _short_idle(page, seconds: int) -> None:
    page.evaluate(f"document.getElementById('page').setAttribute('data-idle-seconds', '{seconds}')")


def test_tab_follows_a_session_ended_elsewhere(context, live_app, new_holder, problems):
    holder = new_holder()
    tab = context.new_page()
    password_login(tab, live_app, holder)
    expect_dashboard(tab, holder)
    other = context.new_page()
    other.goto("/compte")
    other.locator("form.logout-form button").first.click()
    expect(other).to_have_url(re.compile(r"/connexion"))
    _short_idle(tab, 30)  # 30 s locally; the server's answer must send it away long before
    tab.evaluate(
        "document.getElementById('page').setAttribute('data-idle-seconds', '9')"
    )  # warning window: it asks now
    expect(tab).to_have_url(re.compile(r"/connexion"), timeout=5_000)
    assert problems.problems() == []


def test_activity_in_another_tab_keeps_this_one_open(context, live_app, new_holder, problems):
    holder = new_holder()
    tab = context.new_page()
    password_login(tab, live_app, holder)
    expect_dashboard(tab, holder)
    _short_idle(tab, 4)  # locally idle within 4 s; the server (15 minutes) says otherwise
    tab.wait_for_timeout(6000)  # past the local limit: without asking, the tab would have logged out
    expect(tab.locator("#idle-warning")).to_be_hidden()
    expect_dashboard(tab, holder)
    assert tab.url.endswith("/")
    assert problems.problems() == []
