"""With the keyboard only, at phone (390×844) and kiosk (1280×1024) sizes: log in (a wrong
password first), open a document, edit its details (an empty title first), share the record,
end the share. After each swap focus is where the person expects it (the first invalid field,
the new content, the main content), never on <body>; no focus stop is hidden by the sticky
bars; axe checks every screen on the way (tests/browser/axe.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import KIOSK, PHONE, login_code_for, new_context, password_login, settled
from tests.browser.test_documents_journey import add_documents, pdf_file

pytestmark = pytest.mark.browser

SIZES = {"phone": PHONE, "kiosk": KIOSK}

# The focused element, and whether a sticky bar (or anything else) covers it: its centre, or its
# first line when it is tall (a focused <main> reaches under the bottom bar, its top is in sight).
FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: 'body'};
  const r = el.getBoundingClientRect();
  const inBar = !!el.closest('.topbar, .bottomnav, .sidenav, .skip-link');
  let covered = false;
  if (!inBar && r.width > 0 && r.height > 0) {
    const hit = document.elementFromPoint(r.left + r.width / 2, Math.min(r.top + Math.min(r.height / 2, 20), innerHeight - 1));
    covered = !(hit && (el.contains(hit) || hit.contains(el) || (hit.control === el)));
  }
  return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 60),
          covered: covered, html: el.outerHTML.slice(0, 120)};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUS)


def tab_to(page, selector: str, text: str | None = None, limit: int = 80) -> None:
    """Tab until the focus is on `selector` (with `text`, if given); every stop on the way is
    checked to be in sight (not under the bottom navigation or the top bar)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = focused(page)
        assert not state.get("covered"), f"focus hidden on {page.url}: {state}"
        on = page.evaluate(
            "([s, t]) => { const e = document.activeElement; return !!e && e.matches(s)"
            " && (!t || (e.innerText || e.value || '').includes(t)); }",
            [selector, text],
        )
        if on:
            return
    raise AssertionError(f"never reached {selector} {text or ''} with Tab on {page.url}")


def expect_focus_in(page, selector: str) -> None:
    """The focus is on `selector` or inside it (never on <body>)."""
    page.wait_for_function(
        "s => { const e = document.activeElement; return !!e && e !== document.body && !!e.closest(s); }",
        arg=selector,
    )


@pytest.mark.parametrize("size", SIZES)
def test_log_in_document_share_revoke_with_the_keyboard(browser, base_url, live_app, new_holder, problems, size):
    holder = new_holder()
    setup = new_context(browser, base_url, SIZES[size], problems)
    try:
        page = setup.new_page()
        password_login(page, live_app, holder)
        add_documents(page, [pdf_file("bilan-sanguin.pdf")], "Résultats de biologie")
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"), timeout=60_000)  # a loaded machine
        first_code = login_code_for(live_app, holder.email)
    finally:
        setup.close()

    context = new_context(browser, base_url, SIZES[size], problems)
    try:
        page = context.new_page()
        page.goto("/connexion")
        page.keyboard.press("Tab")
        assert focused(page)["text"] == "Aller au contenu", "the first stop skips to the content"

        # a wrong password: the error is announced and the focus is on the field to correct
        tab_to(page, "#login-form input[name=email]")
        page.keyboard.type(holder.email)
        tab_to(page, "#login-form input[name=password]")
        page.keyboard.type("not-the-password")
        page.keyboard.press("Enter")
        summary = page.locator("#login-form [data-error-summary]")
        expect(summary).to_be_visible()
        expect(summary).to_have_attribute("role", "alert")
        expect(page.locator("#login-form input[name=password]")).to_be_focused()
        settled(page)
        page.keyboard.press("Control+A")
        page.keyboard.type(holder.password)
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/connexion/code$"))
        tab_to(page, "#code-form input[name=code]")
        page.keyboard.type(login_code_for(live_app, holder.email, previous=first_code))
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"^http://localhost:\d+/$"))

        # the documents, then the document: each boosted page puts the focus on its content
        tab_to(page, "nav a[href='/documents']")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/documents$"))
        expect(page.locator("#main")).to_be_focused()
        tab_to(page, "a.doc-link", "Bilan sanguin")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"), timeout=60_000)  # a loaded machine
        expect(page.locator("#main")).to_be_focused()

        # editing in place keeps the h1; an empty title is refused and focused; saving returns
        # the focus to the document's details
        tab_to(page, "#doc-details a", "Modifier les informations")
        page.keyboard.press("Enter")
        title = page.locator("#doc-details input[name=title]")
        expect(title).to_be_focused()
        expect(page.locator("main h1")).to_have_count(1)
        page.keyboard.press("Control+A")
        page.keyboard.press("Backspace")
        page.keyboard.press("Enter")
        expect(page.locator("#doc-details [data-error-summary]")).to_be_visible()
        expect(title).to_be_focused()
        expect(title).to_have_attribute("aria-invalid", "true")
        settled(page)
        page.keyboard.type("Bilan du printemps")
        page.keyboard.press("Enter")
        expect(page.locator("main h1")).to_have_text("Bilan du printemps")
        expect_focus_in(page, "#doc-details")

        # share everything for a day
        tab_to(page, "nav a[href='/partage']")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/partage$"))
        expect(page.locator("#main")).to_be_focused()
        tab_to(page, "main a[href='/partage/nouveau']")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/partage/nouveau$"))
        expect(page.locator("#main")).to_be_focused()
        tab_to(page, "#share-form button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.locator(".share-code")).to_be_visible()
        expect_focus_in(page, "main")

        # ... and end it: the confirmation takes the focus, the answer returns it to the page
        tab_to(page, "nav a[href='/partage']")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/partage$"))
        expect(page.locator("#main")).to_be_focused()
        tab_to(page, "main button", "Fermer cet accès")
        page.keyboard.press("Enter")
        expect_focus_in(page, ".confirm-panel:popover-open")
        tab_to(page, ".confirm-panel:popover-open button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.locator(".flashes")).to_contain_text("Accès fermé")
        expect_focus_in(page, "main")
        assert [p for p in problems.problems() if "status of 4" not in p] == [], "\n".join(problems.problems())
    finally:
        context.close()
