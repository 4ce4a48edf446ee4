"""The consent screen of an app asking for the holder's appointments and reimbursements: each
purpose in French with the data it reads, both allowed by default, at phone and desktop sizes
(axe runs on the page through PageProblems)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from blueprints.apps import services as apps
from core.db import db
from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login
from tests.browser.test_screens import no_horizontal_overflow
from tests.factories import DEMO_REDIRECT
from tests.fhir_api.test_oauth import authorize_url, pkce

pytestmark = pytest.mark.browser
SCOPE = "launch/patient openid patient/Patient.rs patient/Appointment.rs patient/ExplanationOfBenefit.rs"


@pytest.fixture(scope="module")
def budget_app(live_app):
    with live_app.test_request_context(method="POST"):
        referenced, _secret = apps.register(
            name="Budget Santé",
            publisher="Éditeur Budget",
            description="Vos rendez-vous et vos remboursements au même endroit.",
            purpose_keys=["appointments_read", "reimbursements_read"],
            redirect_uris=[DEMO_REDIRECT],
            referenced_on=date(2026, 11, 1),
        )
        db.session.commit()
        return referenced.client_id


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_consent_screen_words_appointments_and_reimbursements(
    browser, base_url, live_app, new_holder, problems, budget_app, size
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, base_url, PHONE if size == "phone" else DESKTOP, problems)
    try:
        page = context.new_page()
        password_login(page, live_app, new_holder())
        _verifier, challenge = pkce()
        page.goto(authorize_url(budget_app, challenge, scope=SCOPE, aud=f"{base_url}/fhir"))
        expect(page.locator("main h1")).to_have_text("Connecter Budget Santé à votre espace ?")
        expect(page.locator("#purpose-appointments_read")).to_be_checked()
        expect(page.locator("#purpose-reimbursements_read")).to_be_checked()
        main = page.locator("main")
        expect(main).to_contain_text("Vous rappeler vos rendez-vous")
        expect(main).to_contain_text("Lit vos rendez-vous : avec qui, quand, où et pourquoi")
        expect(main).to_contain_text("Suivre vos dépenses de santé")
        expect(main).to_contain_text("Lit vos remboursements : ce que vous avez payé")
        no_horizontal_overflow(page)
        page.screenshot(
            path=str(SCREENSHOTS / f"apps-consent-agenda-money-{size}.png"), full_page=True, animations="disabled"
        )
    finally:
        context.close()
    assert not problems.problems(), problems.problems()
