"""Accessibility the tests enforce: axe-core catches what blocks; a crawler walks every page a
holder and a professional (with a share code) reach by links, at phone (390×844) and kiosk
(1280×1024) sizes, each checked by axe (tests/browser/axe.py), with one h1 and a title of its
own; phone pages with text at 200 % stay one screen wide."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser.helpers import KIOSK, PHONE, new_context, password_login
from tests.browser.test_documents_journey import add_documents, pdf_file
from tests.browser.test_rough_edges import HOLDER_PAGES, _make_share

pytestmark = pytest.mark.browser

SIZES = {"phone": PHONE, "kiosk": KIOSK}
# Links a crawler must not follow: leaving, files (downloads, images, CSV), the demo mailbox.
SKIP = re.compile(
    r"^/(deconnexion|demo/|static/|sw\.js|manifest)|/(telecharger|vignette|pages/\d+|apercu|session/etat)$|\.(csv|pdf|png|svg)$"
)
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
LINKS = """() => [...document.querySelectorAll('a[href]')]
  .filter(a => !a.hasAttribute('download') && a.target !== '_blank')
  .map(a => a.href)"""


def test_axe_reports_a_serious_finding(page, problems):
    """The watcher is not a test that cannot fail: an image without a text alternative
    (critical) put into the login page is reported."""
    page.goto("/connexion")
    expect(page.locator("main h1")).to_be_visible()
    runs = problems.axe[0]
    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/icons/icon-192.png\">')"
    )
    found = axe.check_now(page, runs)
    assert any("critical image-alt on /connexion" in f for f in found), found
    runs.blocking.clear()
    assert problems.problems() == []


def _same_origin_path(url: str, base_url: str) -> str | None:
    if not url.startswith(base_url):
        return None
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return None if SKIP.search(parts.path) else path


def crawl(page, base_url: str, start: str, limit: int = 90) -> dict[str, tuple[str, int]]:
    """Every page reachable by links from `start` (breadth first): path → (title, h1 count).
    Pages of one shape (the same path but for ids and query strings) are visited once."""
    seen_shapes: set[str] = set()
    found: dict[str, tuple[str, int]] = {}
    queue = deque([start])
    while queue and len(found) < limit:
        path = queue.popleft()
        shape = UUID.sub("{id}", path.split("?")[0]) + ("?" if "?" in path else "")
        if shape in seen_shapes:
            continue
        seen_shapes.add(shape)
        response = page.goto(path)
        assert response is not None and response.ok, f"{path} answered {response and response.status}"
        page.wait_for_load_state("load")
        landed = urlsplit(page.url)  # where a redirect led (a code session's "/" is its record)
        found[landed.path + (f"?{landed.query}" if landed.query else "")] = (page.title(), page.locator("h1").count())
        for url in page.evaluate(LINKS):
            nxt = _same_origin_path(url.split("#")[0], base_url)
            if nxt and nxt not in found:
                queue.append(nxt)
    return found


def check_pages(found: dict[str, tuple[str, int]]) -> None:
    """One h1 on each page; a title naming the page (not only the app), not shared by pages of
    another shape."""
    no_h1 = sorted(p for p, (_t, h1) in found.items() if h1 != 1)
    assert not no_h1, f"pages without exactly one h1: {no_h1}"
    by_title: dict[str, set[str]] = {}
    for path, (title, _h1) in found.items():
        assert title.strip() and title.strip() != "· Carnet", f"{path} has no title of its own"
        by_title.setdefault(title, set()).add(UUID.sub("{id}", path.split("?")[0]))
    shared = {t: sorted(shapes) for t, shapes in by_title.items() if len(shapes) > 1}
    assert not shared, f"one title for different pages: {shared}"


@pytest.mark.parametrize("size", SIZES)
def test_every_page_a_holder_and_a_professional_reach(browser, base_url, live_app, new_holder, problems, size):
    holder_ctx = new_context(browser, base_url, SIZES[size], problems)
    pro_ctx = new_context(browser, base_url, SIZES[size], problems)
    public_ctx = new_context(browser, base_url, SIZES[size], problems)
    try:
        page = holder_ctx.new_page()
        holder = new_holder()
        password_login(page, live_app, holder)
        add_documents(page, [pdf_file("bilan-sanguin.pdf")], "Résultats de biologie")
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"), timeout=60_000)  # a loaded machine
        code = _make_share(page)

        found = crawl(page, base_url, "/")
        assert {"/", "/documents", "/partage", "/historique", "/compte", "/profil", "/constantes"} <= set(found)
        assert any(p.startswith("/documents/") for p in found)
        assert "/accessibilite" in found, "the accessibility statement is linked from the footer"
        check_pages(found)

        pro = pro_ctx.new_page()
        pro.goto("/pro/acces")
        access = pro.locator("#pro-access-form")
        access.locator("input[name=code]").fill(code)
        access.locator("input[name=given_name]").fill("Louis")
        access.locator("input[name=family_name]").fill("Pasteur")
        access.locator("select[name=profession]").select_option("medecin")
        access.locator("input[name=rpps]").fill("10000000042")
        access.locator("button[type=submit]").click()
        expect(pro).to_have_url(re.compile(r"/pro/dossier/[0-9a-f-]{36}$"))
        record = urlsplit(pro.url).path
        pro_found = crawl(pro, base_url, record)
        assert any("/documents" in p for p in pro_found), pro_found
        check_pages(pro_found)

        public = public_ctx.new_page()  # nobody logged in
        public_found = {}
        for path in ("/connexion", "/activation", "/pro/acces", "/accessibilite"):
            public.goto(path)
            public_found[path] = (public.title(), public.locator("h1").count())
        check_pages(public_found)

        checked = problems.screens()
        assert len(checked) >= len(found) + len(pro_found), "every crawled page was checked by axe"
        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        holder_ctx.close()
        pro_ctx.close()
        public_ctx.close()


WIDE = """() => {
  const limit = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('main *, header *, nav *')]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > limit + 1; })
    .filter(e => !e.closest('.visually-hidden, .skip-link') && !e.ownerSVGElement)
    .map(e => (e.parentElement ? e.parentElement.tagName.toLowerCase() + '.' + e.parentElement.className + ' > ' : '') + e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : ''));
  return {scroll: document.documentElement.scrollWidth, width: limit, wide: wide.slice(0, 6)};
}"""


def test_phone_pages_reflow_with_text_at_200_percent(browser, base_url, live_app, new_holder, problems):
    """Text at 200 % (the browser's text size, set through the DevTools protocol): no page of
    a phone scrolls sideways; rows, badges and labels wrap."""
    context = new_context(browser, base_url, PHONE, problems)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        holder = new_holder()
        password_login(page, live_app, holder)
        add_documents(page, [pdf_file("ordonnance-du-docteur-martin.pdf")], "Ordonnances et soins")
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"), timeout=60_000)  # a loaded machine
        doc_page = urlsplit(page.url).path
        cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
        too_wide = {}
        for path in [*HOLDER_PAGES, doc_page, "/accessibilite"]:
            page.goto(path)
            expect(page.locator("main h1").first).to_be_visible()
            size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
            assert size >= 30, f"text not enlarged on {path}: {size}px"
            measured = page.evaluate(WIDE)
            if measured["scroll"] > measured["width"] or measured["wide"]:
                too_wide[path] = measured
        assert not too_wide, f"wider than the phone at 200 % text: {too_wide}"
        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        context.close()
