"""The health profile in a real browser: inline add, edit and remove with htmx, the in-page
confirmation, an inline block edit, the summary; screenshots at phone and desktop sizes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login, settled
from tests.browser.test_screens import no_horizontal_overflow

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", {"phone": PHONE, "desktop": DESKTOP})
def test_profile_journey(browser, base_url, live_app, new_holder, problems, size):
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
        page.locator(".bottomnav a[href='/profil']" if size == "phone" else ".sidenav a[href='/profil']").click()
        expect(page.locator("main h1")).to_have_text("Ma santé")
        shot("profile-empty")

        section = page.locator("#section-allergies")
        section.get_by_role("link", name="Ajouter une allergie").click()
        form = page.locator("#add-allergies form")
        settled(page)
        form.locator("button[type=submit]").click()  # empty: the form comes back with an error
        expect(page.locator("#add-allergies .field-error")).to_be_visible()
        settled(page)
        shot("profile-add-error")
        page.locator("#add-allergies input[name=substance]").fill("Pénicilline")
        page.locator("#add-allergies input[name=reaction]").fill("Urticaire géante")
        page.locator("#add-allergies select[name=severity]").select_option("severe")
        page.locator("#add-allergies button[type=submit]").click()
        expect(section.locator(".list-title")).to_contain_text("Pénicilline")
        settled(page)

        section.get_by_role("link", name="Modifier « Pénicilline »").click()
        expect(section.locator("input[name=substance]")).to_be_visible()
        settled(page)
        section.locator("input[name=substance]").fill("Pénicilline G")
        section.locator("button[type=submit]").first.click()
        expect(section.locator(".list-title")).to_contain_text("Pénicilline G")
        settled(page)

        page.locator("#block-blood").get_by_role("link", name="Modifier").click()
        expect(page.locator("#block-blood select[name=blood_group]")).to_be_visible()
        settled(page)
        page.locator("#block-blood select[name=blood_group]").select_option("O-")
        page.locator("#block-blood button[type=submit]").click()
        expect(page.locator("#block-blood .profile-single")).to_have_text("O−")
        settled(page)

        treatments = page.locator("#section-treatments")
        treatments.get_by_role("link", name="Ajouter un traitement").click()
        expect(treatments.locator("input[name=name]")).to_be_visible()
        settled(page)
        treatments.locator("input[name=name]").fill("Ventoline 100 µg")
        treatments.locator("input[name=dosage]").fill("2 bouffées si besoin")
        treatments.locator("button[type=submit]").click()
        expect(treatments.locator(".list-title")).to_contain_text("Ventoline")
        settled(page)

        page.locator("#section-contacts").get_by_role("link", name="Ajouter un contact").click()
        contacts = page.locator("#section-contacts")
        expect(contacts.locator("input[name=name]")).to_be_visible()
        settled(page)
        contacts.locator("input[name=name]").fill("Louis Martin")
        contacts.locator("input[name=relation]").fill("Frère")
        contacts.locator("input[name=phone]").fill("06 99 88 77 66")
        shot("profile-add-form")
        contacts.locator("button[type=submit]").click()
        expect(contacts.locator(".list-title")).to_contain_text("Louis Martin")
        page.goto("/profil")
        shot("profile-filled")

        # remove with the in-page confirmation
        section = page.locator("#section-allergies")
        section.get_by_role("button", name="Supprimer « Pénicilline G »").click()
        expect(section.locator(".confirm-panel")).to_be_visible()
        section.locator(".confirm-panel button[type=submit]").click()
        expect(section.locator(".empty-state")).to_be_visible()

        page.goto("/profil/administratif")
        shot("profile-admin")
        page.locator("#block-identity").get_by_role("link", name="Modifier").click()
        expect(page.locator("#block-identity input[name=nir]")).to_be_visible()
        settled(page)
        page.locator("#block-identity input[name=nir]").fill("1 87 03 75 123 456 00")
        page.locator("#block-identity button[type=submit]").click()
        expect(page.locator("#nir-error")).to_be_visible()
        shot("profile-admin-nir-error")

        page.goto("/")  # reached through a boosted link, the print button works too
        page.locator('a[href="/profil/resume"]').first.click()
        expect(page).to_have_url(re.compile(r"/profil/resume$"))
        expect(page.locator("[data-print-button]")).to_be_visible()
        settled(page)
        shot("profile-summary")
        # The 422 answers of the two refused forms are expected; nothing else may go wrong.
        assert [p for p in problems.problems() if "status of 422" not in p] == []
    finally:
        context.close()


@pytest.mark.parametrize("size", {"phone": PHONE, "desktop": DESKTOP})
def test_add_form_opened_as_its_own_page(browser, base_url, live_app, new_holder, problems, size):
    """The add form opened directly (new tab, bookmark): an error, then a save that lands on
    the profile page with the new allergy, no htmx re-target error and no dead button."""
    viewport = PHONE if size == "phone" else DESKTOP
    context = new_context(browser, base_url, viewport, problems)
    try:
        page = context.new_page()
        password_login(page, live_app, new_holder())
        page.goto("/profil/allergies/ajouter")
        page.locator("main button[type=submit]").click()
        expect(page.locator("#substance-error")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / f"profile-own-page-error-{size}.png"), animations="disabled")
        page.locator("input[name=substance]").fill("Pollens de graminées")
        page.locator("main button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/profil(#section-allergies)?$"))
        expect(page.locator("#section-allergies .list-title")).to_contain_text("Pollens de graminées")
        expect(page.locator("#substance-error")).to_have_count(0)
        page.screenshot(path=str(SCREENSHOTS / f"profile-own-page-saved-{size}.png"), animations="disabled")
        assert [p for p in problems.problems() if "status of 422" not in p] == []
    finally:
        context.close()
