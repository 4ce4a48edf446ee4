"""Health measures in a real browser, phone and desktop: fill the profile, add a blood
pressure (a typo first), see it on the chart and on the dashboard, switch the period with
htmx, import a small Apple Health export, correct then delete a value."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login
from tests.browser.test_screens import no_horizontal_overflow
from tests.samples import apple_xml, apple_zip, pressure, record

pytestmark = pytest.mark.browser


def _chart_drawn(page) -> bool:
    """The <img> loaded an SVG the browser could draw (a broken image has no natural width)."""
    return page.locator(".measure-chart img").evaluate("img => img.complete && img.naturalWidth > 0")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_measures_journey(browser, base_url, live_app, new_holder, problems, size):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, base_url, PHONE if size == "phone" else DESKTOP, problems)
    try:
        page = context.new_page()

        def shot(name: str) -> None:
            no_horizontal_overflow(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True, animations="disabled")

        holder = new_holder()
        password_login(page, live_app, holder)
        nav = ".bottomnav" if size == "phone" else ".sidenav"

        # fill the profile: one allergy
        page.locator(f"{nav} a[href='/profil']").click()
        page.locator("#section-allergies").get_by_role("link", name="Ajouter une allergie").click()
        page.locator("#add-allergies input[name=substance]").fill("Pénicilline")
        page.locator("#add-allergies button[type=submit]").click()
        expect(page.locator("#section-allergies .list-title")).to_contain_text("Pénicilline")

        # measures: empty, then a blood pressure with a typo first
        page.get_by_role("link", name="Mes mesures").click()
        expect(page.locator("main h1")).to_have_text("Mes mesures")
        expect(page.locator(".empty-state")).to_be_visible()
        shot("measures-empty")
        page.locator("main").get_by_role("link", name="Ajouter une mesure").first.click()
        expect(page).to_have_url(re.compile(r"/constantes/ajouter$"))  # the list of kinds, not the old page
        page.get_by_role("link", name=re.compile("Tension artérielle")).click()
        expect(page).to_have_url(re.compile(r"/constantes/tension/ajouter$"))
        form = page.locator("#measure-form")
        form.locator("input[name=value]").fill("128")
        form.locator("input[name=value2]").fill("182")
        form.locator("button[type=submit]").click()
        expect(page.locator("#measure-form #value2-error")).to_contain_text("plus petit")
        shot("measures-form-error")
        page.locator("#measure-form input[name=value2]").fill("82")
        page.locator("#measure-form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/constantes/tension$"))
        expect(page.locator(".flashes")).to_contain_text("Mesure enregistrée")
        expect(page.locator(".measure-values .list-title").first).to_have_text("128/82\u00a0mmHg")
        page.wait_for_function(
            "() => { const i = document.querySelector('.measure-chart img'); return i && i.complete; }"
        )
        assert _chart_drawn(page)
        expect(page.locator(".measure-summary")).to_contain_text("128/82")
        shot("measures-chart")

        # another period, swapped in place by htmx, with the address kept
        page.locator(".measure-ranges").get_by_role("link", name="1 an").click()
        expect(page).to_have_url(re.compile(r"periode=1y"))
        expect(page.locator(".measure-ranges [aria-current=true]")).to_have_text("1 an")
        page.wait_for_function(
            "() => { const i = document.querySelector('.measure-chart img');"
            " return i && i.complete && i.src.includes('periode=1y'); }"
        )
        assert _chart_drawn(page)

        # the dashboard shows the latest value
        page.locator(f"{nav} a[href='/']").click()
        expect(page.locator("#card-measures")).to_contain_text("128/82")
        shot("measures-dashboard")

        # import a small Apple Health export
        page.goto("/constantes/importer")
        xml = apple_xml(
            record("BodyMass", 160, "lb", "2026-11-01 07:58:00 +0100", "Balance"),
            pressure(125, 82, "2026-11-02 09:00:00 +0100"),
        )
        page.locator("input[name=format][value=apple]").check()
        page.locator("input[name=file]").set_input_files(
            {"name": "export.zip", "mimeType": "application/zip", "buffer": apple_zip(xml)}
        )
        page.locator("#import-form button[type=submit]").click()
        expect(page.locator(".import-summary")).to_be_visible(timeout=15_000)
        expect(page.locator(".import-added .import-num")).to_have_text("2")
        page.get_by_role("link", name="Voir mes mesures").click()
        weight = page.locator(".measure-cards .card").filter(has_text="Poids")
        expect(weight).to_contain_text("72,6\u00a0kg")
        shot("measures-overview")

        # correct, then delete, the weight
        weight.get_by_role("link", name="Poids").click()
        page.locator(".measure-values a[href*='/modifier']").first.click()
        page.locator("#measure-form input[name=value]").fill("72,4")
        page.locator("#measure-form button[type=submit]").click()
        expect(page.locator(".measure-values .list-title").first).to_have_text("72,4\u00a0kg")
        page.locator(".measure-values button[popovertarget]").first.click()
        page.locator(".measure-values .confirm-panel button[type=submit]").first.click()
        expect(page.locator(".flashes")).to_contain_text("Mesure supprimée")
        expect(page.locator(".measure-values")).to_have_count(0)
        # The 422 answer of the refused form is expected; nothing else may go wrong.
        assert [p for p in problems.problems() if "status of 422" not in p] == []
    finally:
        context.close()
