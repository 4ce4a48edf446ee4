"""The emergency card on a personal device: kept only when the holder asks, only that card
(never documents), shown without a connection with the date of its last update, left in place
by a logout and removable from the login page."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import password_login
from tests.browser.test_pwa import LIST_CACHES

pytestmark = pytest.mark.browser

CARD = "/carte-urgence/fiche"
SHOTS = os.environ.get("KIOSK_SCREENSHOTS")


def _add_allergy(live_app, holder) -> None:
    from sqlalchemy import select

    from blueprints.profile.models import Allergy
    from core.db import db
    from core.people import Account

    with live_app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == holder.email))
        db.session.add(Allergy(patient_id=account.patient_id, substance="Pénicilline", severity="severe"))
        db.session.commit()


def test_card_kept_offline_then_removed(context, live_app, new_holder, problems):
    holder = new_holder(first_name="Philomène")
    _add_allergy(live_app, holder)
    page = context.new_page()
    password_login(page, live_app, holder)
    page.goto("/compte")
    page.get_by_role("link", name="Carte d’urgence").click()
    expect(page).to_have_url(re.compile(r"/carte-urgence$"))
    state = page.locator(".card-device-state")
    expect(state).to_have_text("Cet appareil ne garde pas votre carte d’urgence.")
    page.get_by_role("button", name="Garder sur cet appareil").click()
    expect(state).to_have_text("Cet appareil garde votre carte d’urgence.")
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/card-page-390x844.png", full_page=True)

    # Only the card, among static files; no document, no other page.
    entries = page.evaluate(LIST_CACHES)
    health = [e for e in entries if e["cache"] == "carnet-emergency-card"]
    assert [urlsplit(e["url"]).path for e in health] == [CARD]
    for e in entries:
        path = urlsplit(e["url"]).path
        assert path == CARD or path.startswith("/static/") or path == "/manifest.webmanifest", e

    # Without a connection: the card, with the date of its last update; other pages: the offline page.
    context.set_offline(True)
    try:
        page.goto(CARD)
        expect(page.locator(".emergency-card")).to_contain_text("Pénicilline")
        expect(page.locator(".emergency-card-date")).to_contain_text(re.compile(r"Mis\w* à jour le \d"))
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/card-offline-390x844.png", full_page=True)
        page.goto("/documents")
        expect(page.locator("h1")).to_have_text("Vous êtes hors ligne")
        # the installed app started without a connection (its start_url): the card is one tap away
        page.goto("/")
        expect(page.locator("h1")).to_have_text("Vous êtes hors ligne")
        button = page.locator("[data-card-offline] a.btn")
        expect(button).to_be_visible()
        expect(page.locator("[data-card-offline-none]")).to_be_hidden()
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/card-offline-start-390x844.png", full_page=True)
        button.click()
        expect(page.locator(".emergency-card")).to_contain_text("Pénicilline")
    finally:
        context.set_offline(False)

    # Logging out leaves the card (the holder chose it); the login page offers to remove it.
    page.goto("/compte")
    page.locator("main form.logout-form button").click()
    expect(page).to_have_url(re.compile(r"/connexion"))
    notice = page.locator("[data-card-kept-notice]")
    expect(notice).to_be_visible()
    assert page.evaluate("caches.has('carnet-emergency-card')")
    notice.get_by_role("button", name="Le retirer").click()
    expect(notice).to_be_hidden()
    assert page.evaluate("caches.has('carnet-emergency-card')") is False
    # without a card kept, the offline page has no button to it (only the plain mention)
    context.set_offline(True)
    try:
        page.goto("/")
        expect(page.locator("h1")).to_have_text("Vous êtes hors ligne")
        expect(page.locator("[data-card-offline-none]")).to_be_visible()
        expect(page.locator("[data-card-offline]")).to_be_hidden()
    finally:
        context.set_offline(False)
    assert problems.problems() == []
