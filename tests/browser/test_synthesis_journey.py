""" "Ma synthèse" in a real browser: reached from the profile in one tap, kept in Documents
through htmx (focus sent to the answer), the emergency card's choice refused when empty, then
printed; the PDFs fetched with the page's own session. Screenshots at phone and desktop sizes,
and the PDFs' first pages drawn to PNG beside them."""

from __future__ import annotations

import io
import re

import pypdf
import pypdfium2
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.db import db
from core.people import Account
from tests import factories
from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login
from tests.browser.test_screens import no_horizontal_overflow

pytestmark = pytest.mark.browser
PDF_MS = 60_000  # a PDF is made in a child process: on a busy machine, more than the usual 10 s


def _first_page_png(data: bytes, path) -> None:
    pdf = pypdfium2.PdfDocument(data)
    pdf[0].render(scale=1.5).to_pil().save(path)


@pytest.mark.parametrize("size", {"phone": PHONE, "desktop": DESKTOP})
def test_synthesis_journey(browser, base_url, live_app, new_holder, problems, size):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = PHONE if size == "phone" else DESKTOP
    context = new_context(browser, base_url, viewport, problems)
    try:
        page = context.new_page()

        def shot(name: str) -> None:
            no_horizontal_overflow(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), animations="disabled")
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}-full.png"), full_page=True, animations="disabled")

        password_login(page, live_app, new_holder())
        page.goto("/profil")
        page.get_by_role("link", name="Ma synthèse (PDF)").click()
        expect(page.locator("main h1")).to_have_text("Ma synthèse (PDF)")
        shot("synthesis")

        # the A4 form opens the PDF in one tap, in the language ticked
        form = page.locator("#synthesis-a4-form")
        expect(form).to_have_attribute("action", "/profil/synthese/pdf")
        expect(form).to_have_attribute("method", "get")
        expect(form.locator("input[name=lang][value=fr]")).to_be_checked()
        answer = page.request.get("/profil/synthese/pdf?lang=en", timeout=PDF_MS)
        assert answer.ok and answer.headers["content-type"] == "application/pdf"
        text = pypdf.PdfReader(io.BytesIO(answer.body())).pages[0].extract_text()
        assert "My health summary" in text
        _first_page_png(answer.body(), SCREENSHOTS / f"synthesis-a4-{size}.png")

        # keeping it: swapped in place, focus on the answer, a link to the new document
        form.locator("input[name=lang][value=en]").check()
        page.get_by_role("button", name="La garder dans mes documents").click()
        kept = page.locator("#synthesis-keep .notice-success")
        expect(kept).to_be_visible(timeout=PDF_MS)
        expect(page.locator("#synthesis-keep")).to_be_focused()
        expect(kept.get_by_role("link")).to_contain_text("My health summary of")
        shot("synthesis-kept")

        # the card: nothing ticked is refused, in the page
        card = page.locator("#card-form")
        for box in card.locator("input[name=items]").all():
            box.uncheck()
        card.get_by_role("button", name="Imprimer ma carte").click()
        expect(page.locator("#card-form .field-error")).to_contain_text("Choisissez au moins un élément")
        shot("synthesis-card-error")
        expect(page.locator("#card-form input[name=items][value=blood]")).not_to_be_checked()

        # then printed with the page's own form token and session
        token = page.locator("#card-form input[name=csrf_token]").input_value()
        answer = page.request.post(
            "/profil/synthese/carte",
            multipart={"csrf_token": token, "items": "allergies", "lang": "fr"},
            headers={"Origin": base_url, "Referer": base_url + "/profil/synthese"},
            timeout=PDF_MS,
        )
        assert answer.ok and answer.headers["content-type"] == "application/pdf", answer.text()[:500]
        assert len(pypdf.PdfReader(io.BytesIO(answer.body())).pages) == 1
        _first_page_png(answer.body(), SCREENSHOTS / f"synthesis-card-{size}.png")
        # the refused card answered 422, as a plain form post does: the browser logs it, nothing else may
        unexpected = [p for p in problems.problems() if not ("status of 422" in p and "/profil/synthese/carte" in p)]
        assert unexpected == [], "\n".join(unexpected)
    finally:
        context.close()


@pytest.mark.parametrize("size", {"phone": PHONE, "desktop": DESKTOP})
def test_a_professional_downloads_the_summary(browser, base_url, live_app, new_holder, problems, size):
    """A share with the summary only: the professional's summary page offers the PDF in a
    language; the PDF holds the profile and nothing the share leaves out."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    holder = new_holder()
    with live_app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == holder.email))
        _share_id, code, _token = factories.make_share(live_app, account.patient_id, {"summary": True})
    context = new_context(browser, base_url, PHONE if size == "phone" else DESKTOP, problems)
    try:
        pro = context.new_page()
        pro.goto("/pro/acces")
        form = pro.locator("#pro-access-form")
        form.locator("input[name=code]").fill(code)
        form.locator("input[name=given_name]").fill("Louis")
        form.locator("input[name=family_name]").fill("Pasteur")
        form.locator("select[name=profession]").select_option("medecin")
        form.locator("input[name=rpps]").fill("10000000042")
        form.locator("button[type=submit]").click()
        expect(pro).to_have_url(re.compile(r"/pro/dossier/[0-9a-f-]{36}$"))
        pro.goto(pro.url + "/resume")
        pdf_form = pro.locator("form.summary-pdf")
        expect(pdf_form.locator("select[name=lang]")).to_have_value("fr")
        no_horizontal_overflow(pro)
        pro.screenshot(path=str(SCREENSHOTS / f"synthesis-pro-summary-{size}.png"), animations="disabled")
        answer = pro.request.get(pdf_form.get_attribute("action") + "?lang=en", timeout=PDF_MS)
        assert answer.ok and answer.headers["content-type"] == "application/pdf"
        text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(answer.body())).pages)
        assert holder.first_name in text and "Latest documents" not in text and "Measures" not in text
        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        context.close()
