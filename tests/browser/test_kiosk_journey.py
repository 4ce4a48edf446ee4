"""At a public kiosk (1280×1024): registered by its one-time link, opened from the holder's
phone by scanning its QR code, documents read and printed, "Finish" — and then nothing of that
person is reachable (Back, history, storage); two idle minutes end it too, after a one-minute
countdown; the next person sees nothing of the one before."""

from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from blueprints.kiosk import services as kiosk_services
from tests.browser.helpers import PHONE, expect_dashboard, new_context, password_login
from tests.kiosk.helpers import TokenRecorder, enrol_link
from tests.samples import TEXT

pytestmark = pytest.mark.browser

KIOSK = {"viewport": {"width": 1280, "height": 1024}, "has_touch": True}  # a touch screen
SHOTS = os.environ.get("KIOSK_SCREENSHOTS")  # a folder outside the checkout, to look at the screens
# window.print opens a dialog no headless browser shows: count the calls instead (injected by
# the DevTools protocol, which the page's CSP does not govern).
COUNT_PRINTS = "window.print = function () { window.sessionStorage.setItem('prints', String(+(window.sessionStorage.getItem('prints') || 0) + 1)); };"

# Which window print() was called on and what it held (a PDF loaded in a frame, printed there),
# written on the top page's <html data-printed> where the test's expectations can wait for it.
RECORD_PRINTS = (
    "window.print = function () { try { var t = window.top; (t.carnetPrinted = t.carnetPrinted || [])"
    ".push(location.pathname + ' ' + document.contentType);"
    " t.document.documentElement.setAttribute('data-printed', t.carnetPrinted.join(', ')); } catch (e) {} };"
)


def _shot(page, name: str, full_page: bool = True) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full_page)


def _prints(page) -> int:
    return int(page.evaluate("window.sessionStorage.getItem('prints') || 0"))


def _enrol(live_app, kiosk, name: str) -> None:
    with live_app.app_context():
        path = enrol_link(live_app, name)
    kiosk.goto(path)
    kiosk.get_by_role("button", name=re.compile("Enregistrer cette borne")).click()
    expect(kiosk).to_have_url(re.compile(r"/borne$"))
    expect(kiosk.locator("#kiosk-code svg.qr")).to_be_visible()


def _add_document(live_app, holder, title: str) -> None:
    from sqlalchemy import select

    from blueprints.documents import services as documents
    from core import access
    from core.db import db
    from core.people import Account

    with live_app.test_request_context(method="POST"):
        account = db.session.scalar(select(Account).where(Account.email == holder.email))
        viewer = access.viewer_for(account)
        documents.add_documents(
            viewer,
            [documents.Upload(io.BytesIO(TEXT), "ordonnance.txt")],
            category="ORD_SOIN",
            act_date=date(2026, 3, 12),
            title=title,
        )
        db.session.commit()


def _open_from_phone(browser, base_url, live_app, problems, kiosk, holder, recorder, shot=None):
    """The holder scans the kiosk's code with their phone (its link, read from the QR code's
    secret), sees the kiosk's name, approves; the kiosk opens their space."""
    phone_ctx = new_context(browser, base_url, PHONE, problems)
    try:
        phone = phone_ctx.new_page()
        password_login(phone, live_app, holder)
        phone.goto(recorder.approval_path())
        expect(phone.locator("main")).to_contain_text("CPAM Lyon 3e - borne 2")
        if shot:
            _shot(phone, shot)
        phone.get_by_role("button", name=re.compile("Ouvrir sur cette borne")).click()
        expect(phone.locator(".notice-success")).to_contain_text("CPAM Lyon 3e - borne 2")
        if shot:
            _shot(phone, shot + "-done")
    finally:
        phone_ctx.close()
    expect_dashboard(kiosk, holder)


def _shows_nothing_of(page, *secrets: str) -> None:
    text = page.content()
    for secret in secrets:
        assert secret not in text, f"{secret!r} still on screen at {page.url}"


@pytest.fixture
def recorder(monkeypatch) -> TokenRecorder:
    recorder = TokenRecorder(kiosk_services.secrets)
    monkeypatch.setattr(kiosk_services, "secrets", recorder)
    return recorder


def test_kiosk_journey_qr_documents_print_finish(browser, base_url, live_app, new_holder, problems, recorder):
    first = new_holder(first_name="Bérénice")
    _add_document(live_app, first, "Ordonnance-Kiosque-BX")
    kiosk_ctx = new_context(browser, base_url, KIOSK, problems)
    kiosk_ctx.add_init_script(COUNT_PRINTS)
    kiosk = kiosk_ctx.new_page()
    _enrol(live_app, kiosk, "CPAM Lyon 3e - borne 2")
    expect(kiosk.locator("#page")).to_have_class(re.compile(r"\bkiosk\b"))
    assert kiosk.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    _shot(kiosk, "kiosk-welcome-1280x1024")

    _open_from_phone(browser, base_url, live_app, problems, kiosk, first, recorder, shot="phone-approve-390x844")
    finish = kiosk.get_by_role("button", name="Terminer")
    expect(finish).to_be_visible()
    expect(kiosk.locator(".kiosk-guidance")).to_be_visible()
    _shot(kiosk, "kiosk-home-1280x1024")
    # every target of the kiosk's frame is at least 56 px high
    heights = kiosk.eval_on_selector_all(
        ".kiosk-bar a, .kiosk-bar button, .kiosk-nav a", "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 56, heights

    # documents: the list, one document, printed in one tap
    kiosk.locator(".kiosk-nav a", has_text="Documents").click()
    expect(kiosk).to_have_url(re.compile(r"/documents"))
    kiosk.get_by_role("link", name=re.compile("Ordonnance-Kiosque-BX")).first.click()
    expect(kiosk.locator("main h1")).to_contain_text("Ordonnance-Kiosque-BX")
    _shot(kiosk, "kiosk-document-1280x1024")
    expect(finish).to_be_visible()
    kiosk.locator("main [data-print-button]").click()
    assert _prints(kiosk) == 1
    # the summary, printed in one tap
    kiosk.goto("/profil/resume")
    kiosk.locator("main [data-print-button]").click()
    assert _prints(kiosk) == 2
    _shot(kiosk, "kiosk-summary-1280x1024")

    # "Finish": back to the welcome screen, nothing of the person anywhere
    kiosk.get_by_role("button", name="Terminer").click()
    expect(kiosk).to_have_url(re.compile(r"/borne$"))
    expect(kiosk.locator("#kiosk-code svg.qr")).to_be_visible()
    secrets = ("Bérénice", first.family_name, "Ordonnance-Kiosque-BX")
    _shows_nothing_of(kiosk, *secrets)
    for _step in range(4):  # Back, again and again: never a page of the person
        kiosk.go_back()
        kiosk.wait_for_load_state()
        _shows_nothing_of(kiosk, *secrets)
    for path in ("/", "/documents", "/profil/resume"):
        kiosk.goto(path)
        expect(kiosk).to_have_url(re.compile(r"/borne$"))
        _shows_nothing_of(kiosk, *secrets)
    for path in ("/connexion", "/pro/acces"):  # the other ways in, as the next person finds them
        kiosk.goto(path)
        _shows_nothing_of(kiosk, *secrets)
        _shot(kiosk, f"kiosk-{path.strip('/').replace('/', '-')}-1280x1024")
    kiosk.goto("/borne")
    assert kiosk.evaluate("window.localStorage.length") == 0
    assert kiosk.evaluate("caches.keys().then(k => k.length)") == 0
    assert kiosk.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0

    # the next person, at the same kiosk, sees only their own space
    second = new_holder(first_name="Gaspard")
    _open_from_phone(browser, base_url, live_app, problems, kiosk, second, recorder)
    kiosk.goto("/documents")
    _shows_nothing_of(kiosk, *secrets)
    kiosk.goto("/profil/resume")
    _shows_nothing_of(kiosk, *secrets)
    kiosk_ctx.close()
    assert problems.problems() == []


def test_kiosk_idle_countdown_then_welcome(browser, base_url, live_app, new_holder, problems, recorder):
    from core import clock

    holder = new_holder(first_name="Eulalie")
    kiosk_ctx = new_context(browser, base_url, KIOSK, problems)
    kiosk = kiosk_ctx.new_page()
    _enrol(live_app, kiosk, "CPAM Lyon 3e - borne 2")
    _open_from_phone(browser, base_url, live_app, problems, kiosk, holder, recorder)
    # the browser's clock and the server's move together, without waiting
    kiosk.clock.install()
    kiosk.goto("/documents")
    expect(kiosk.locator("main h1")).to_be_visible()
    try:
        clock.freeze(clock.utcnow())
        clock.advance(timedelta(seconds=62))
        kiosk.clock.fast_forward(62_000)
        kiosk.clock.run_for(2_000)
        warning = kiosk.locator("#idle-warning")
        expect(warning).to_be_visible()
        seconds = int(kiosk.locator("#idle-warning-seconds").inner_text())
        assert 50 <= seconds <= 60
        expect(kiosk.locator("#idle-countdown")).to_have_text(re.compile(r"^0:[0-9]{2}$"))
        _shot(kiosk, "kiosk-idle-warning-1280x1024", full_page=False)
        with kiosk.expect_response(lambda r: r.url.endswith("/borne/present")):
            kiosk.get_by_role("button", name="Je suis là").tap()
        expect(warning).to_be_hidden()
        # "I am here" counted on the server too: 100 s later the space is still open
        clock.advance(timedelta(seconds=100))
        kiosk.clock.fast_forward(100_000)
        kiosk.clock.run_for(2_000)
        expect(warning).to_be_visible()
        expect(kiosk).to_have_url(re.compile(r"/documents$"))
        # then nobody answers: the space closes and the welcome screen comes back
        clock.advance(timedelta(seconds=125))
        kiosk.clock.fast_forward(125_000)
        kiosk.clock.run_for(2_000)
        expect(kiosk).to_have_url(re.compile(r"/borne$"))
    finally:
        clock.reset()
    _shows_nothing_of(kiosk, "Eulalie", holder.family_name)
    kiosk.go_back()
    kiosk.wait_for_load_state()
    _shows_nothing_of(kiosk, "Eulalie", holder.family_name)
    # a login typed halfway and left: back to the welcome screen, the address gone with it
    kiosk.goto("/connexion")
    kiosk.locator("#login-form input[name=email]").fill(holder.email)
    kiosk.clock.fast_forward(125_000)
    kiosk.clock.run_for(2_000)
    expect(kiosk).to_have_url(re.compile(r"/borne$"))
    _shows_nothing_of(kiosk, holder.email)
    kiosk_ctx.close()
    assert problems.problems() == []


def test_kiosk_prints_the_summary_and_the_card_in_one_tap(browser, base_url, live_app, new_holder, problems, recorder):
    """At a kiosk, "Ma synthèse" and the emergency card reach the print dialog in one tap: the PDF
    loads in a hidden frame of the screen and print() is called on that frame; no PDF tab opens
    and the screen stays where it was."""
    holder = new_holder(first_name="Honorine")
    kiosk_ctx = new_context(browser, base_url, KIOSK, problems)
    kiosk_ctx.add_init_script(RECORD_PRINTS)
    kiosk = kiosk_ctx.new_page()
    _enrol(live_app, kiosk, "CPAM Lyon 3e - borne 2")
    _open_from_phone(browser, base_url, live_app, problems, kiosk, holder, recorder)
    kiosk.goto("/profil/synthese")
    a4 = kiosk.locator("#synthesis-a4-form")
    expect(a4.get_by_role("button", name="Imprimer")).to_be_visible()
    _shot(kiosk, "kiosk-synthesis-1280x1024")
    pdf_made = 60_000  # WeasyPrint takes a while on a loaded machine: wait for the answer itself
    with kiosk.expect_response(lambda r: "/profil/synthese/pdf" in r.url, timeout=pdf_made) as answer:
        a4.get_by_role("button", name="Imprimer").tap()
    assert answer.value.headers["content-type"] == "application/pdf"
    printed = kiosk.locator("html")
    expect(printed).to_have_attribute("data-printed", "/profil/synthese/pdf application/pdf")
    expect(kiosk).to_have_url(re.compile(r"/profil/synthese$"))
    assert len(kiosk_ctx.pages) == 1

    with kiosk.expect_response(lambda r: r.url.endswith("/profil/synthese/carte"), timeout=pdf_made):
        kiosk.locator("#card-form").get_by_role("button", name="Imprimer ma carte").tap()
    expect(printed).to_have_attribute(
        "data-printed", "/profil/synthese/pdf application/pdf, /profil/synthese/carte application/pdf"
    )
    expect(kiosk).to_have_url(re.compile(r"/profil/synthese$"))
    assert len(kiosk_ctx.pages) == 1
    kiosk_ctx.close()
    assert problems.problems() == []
