"""Screenshots of the main screens on a phone (390×844) and a large screen (1280×800), saved
in tests/screenshots/ for people to look at. The test also checks what a person would notice
first: nothing wider than the screen, and every screen has a title."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, add_virtual_authenticator, new_context, password_login

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}


def no_horizontal_overflow(page) -> None:
    wide = page.evaluate("""() => {
        const limit = document.documentElement.clientWidth;
        return [...document.querySelectorAll('body *')]
          .filter(e => { const r = e.getBoundingClientRect();
                         return r.width > 0 && r.right > limit + 1 && getComputedStyle(e).position !== 'fixed'; })
          .filter(e => !e.closest('.visually-hidden, .skip-link'))
          .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''))
          .slice(0, 5);
    }""")
    assert wide == [], f"wider than the screen on {page.url}: {wide}"


@pytest.mark.parametrize("size", VIEWPORTS)
def test_screenshots(browser, base_url, live_app, new_holder, problems, size):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, base_url, VIEWPORTS[size], problems)
    try:
        page = context.new_page()

        def shot(name: str) -> None:
            expect(page.locator("main h1")).to_be_visible()
            no_horizontal_overflow(page)
            # What the screen shows first, then the whole page (in which fixed bars, such as
            # the phone's bottom navigation, stay where the first screen ends).
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), animations="disabled")
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}-full.png"), full_page=True, animations="disabled")

        page.goto("/connexion")
        shot("login")
        page.goto("/activation")
        shot("activation")

        holder = new_holder()
        password_login(page, live_app, holder, on_code_page=lambda p: shot("code"))
        shot("dashboard")

        page.goto("/compte/cles-d-acces")
        add_virtual_authenticator(context, page)
        page.locator("#passkey-name").fill("Mon téléphone")
        page.locator("[data-passkey-register] [data-passkey-button]").click()
        expect(page.locator("#passkeys .list-title")).to_have_text(["Mon téléphone"])
        shot("passkeys")

        page.goto("/compte")
        expect(page.locator("#sessions .list-row")).to_have_count(1)
        shot("security")
        expect(page).to_have_url(re.compile(r"/compte$"))
        assert problems.problems() == []
    finally:
        context.close()
