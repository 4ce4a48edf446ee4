"""Reimbursements in a real browser, phone and desktop: from the bottom bar to the list,
a nature filter and a search swapped in by htmx with the URL kept, older acts, one act and
its explanations, the year with its chart, the relevé page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, new_context, password_login
from tests.browser.test_screens import no_horizontal_overflow

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("CARNET_SHOTS", "/tmp/carnet-shots"))


def _seed(live_app, holder) -> None:
    """Three years of the demo's lines for this holder, as the demo space has them."""
    from sqlalchemy import select

    from blueprints.demo.reimbursements import add_demo_reimbursements
    from core.db import db
    from core.people import Patient

    with live_app.app_context():
        patient_id = db.session.scalar(select(Patient.id).where(Patient.nir == holder.nir))
        add_demo_reimbursements(patient_id)
        db.session.commit()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_reimbursements_journey(browser, base_url, live_app, new_holder, problems, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, base_url, PHONE if size == "phone" else DESKTOP, problems)
    try:
        page = context.new_page()

        def shot(name: str) -> None:
            no_horizontal_overflow(page)
            page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True, animations="disabled")

        holder = new_holder()
        _seed(live_app, holder)
        password_login(page, live_app, holder)
        card = page.locator("#card-reimbursements")
        expect(card).to_contain_text("Dernier paiement")
        # On a phone the bottom bar keeps five entries: the home card leads there.
        link = "#card-reimbursements .card-title a" if size == "phone" else ".sidenav a[href='/remboursements']"
        page.locator(link).click()
        expect(page.locator("main h1")).to_have_text("Remboursements")
        expect(page.locator(".remb-month").first).to_be_visible()
        expect(page.locator(".remb-caps")).to_contain_text("Participations forfaitaires")
        shot("reimbursements-list")

        # a nature of care: the results are swapped in, the URL keeps the filter
        page.locator(".remb-more-filters summary").click()
        page.locator("#remb-nature").select_option("pharmacie")
        expect(page).to_have_url(re.compile(r"nature=pharmacie"))
        expect(page.locator("#reimbursement-results .list-meta").first).to_contain_text("Pharmacie")
        expect(page.locator("[data-results-status]")).to_have_text(re.compile(r"^\d+ actes? trouvés?$"))
        assert "Consultation de médecine générale" not in page.locator("#reimbursement-results").inner_text()
        page.locator("#remb-nature").select_option("")
        expect(page).not_to_have_url(re.compile(r"nature="))

        # a search, then older acts
        page.locator("#remb-q").fill("lunettes")
        expect(page).to_have_url(re.compile(r"q=lunettes"))
        expect(page.locator("#reimbursement-results .list-title")).to_have_text(["Lunettes (monture et verres)"])
        # the count is heard from the status region that stays in place; focus stays in the search
        expect(page.locator("[data-results-status]")).to_have_text("1 acte trouvé")
        expect(page.locator("#remb-q")).to_be_focused()
        page.locator("#remb-q").fill("")
        expect(page).not_to_have_url(re.compile(r"q=lunettes"))
        more = page.locator("#reimbursement-more a")
        if more.count():
            before = page.locator(".remb-row").count()
            more.click()
            expect(page.locator(".remb-row")).not_to_have_count(before)
            expect(page.locator(".remb-row").nth(before)).to_be_focused()  # the first older act

        # one act: who paid what, explained
        page.locator(".remb-row", has_text="Séjour de 3 jours").click()
        expect(page.locator("main h1")).to_contain_text("Séjour de 3 jours")
        expect(page.locator(".remb-amounts")).to_contain_text("Base de remboursement")
        expect(page.locator(".remb-total")).to_contain_text("60,00")
        shot("reimbursements-act")

        # the year, with its chart and its table
        page.goto("/remboursements")
        page.locator("main .page-header").get_by_role("link", name=re.compile("Année")).click()
        expect(page.locator(".remb-chart")).to_be_visible()
        expect(page.locator(".remb-natures tfoot")).to_contain_text("Total")
        shot("reimbursements-year")

        page.goto("/remboursements/releve")
        expect(page.get_by_role("button", name="Télécharger le PDF")).to_be_visible()
        shot("reimbursements-statement")
        page.goto("/remboursements/importer")
        page.locator(".remb-help summary").click()
        expect(page.locator(".remb-columns")).to_be_visible()
        shot("reimbursements-import")
        assert problems.problems() == []
    finally:
        context.close()
