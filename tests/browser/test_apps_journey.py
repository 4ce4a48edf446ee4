"""A connected app, in a real browser: the holder connects the demo scale (examples/balance,
a separate client served on its own port), allows it on Carnet's consent screen, the scale
writes three weights, they appear on the holder's weight page marked with the app, the holder
disconnects it, and the scale's next call is refused; the history tells all of it."""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from blueprints.apps import services as apps
from core.db import db
from examples.balance.balance import create_app as create_balance
from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login
from tests.browser.test_screens import no_horizontal_overflow

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def balance(live_app):
    """The demo scale on its own port, referenced in Carnet with its exact redirect URI."""
    scale = create_balance(carnet_url=live_app.config["LIVE_URL"])
    server = make_server("localhost", 0, scale, threaded=True)
    url = f"http://localhost:{server.server_port}"
    with live_app.test_request_context(method="POST"):
        referenced, _secret = apps.register(
            name="Balance de démonstration",
            publisher="Carnet (démonstration)",
            description="Une balance connectée qui envoie vos pesées.",
            purpose_keys=["measures_write", "measures_read"],
            redirect_uris=[f"{url}/callback"],
            referenced_on=date(2026, 11, 1),
        )
        db.session.commit()
        scale.config["CLIENT_ID"] = referenced.client_id
        app_id = referenced.id
    thread = threading.Thread(target=server.serve_forever, name="balance", daemon=True)
    thread.start()
    yield url, app_id
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_connect_write_see_disconnect(browser, base_url, live_app, new_holder, problems, balance, size):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    scale_url, app_id = balance
    context = new_context(browser, base_url, PHONE if size == "phone" else DESKTOP, problems)
    try:
        page = context.new_page()

        def shot(name: str) -> None:
            no_horizontal_overflow(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True, animations="disabled")

        holder = new_holder()
        password_login(page, live_app, holder)

        # The scale sends the holder to Carnet's consent screen.
        page.goto(scale_url + "/")
        page.get_by_role("button", name="Connecter à Carnet").click()
        expect(page.locator("main h1")).to_have_text("Connecter Balance de démonstration à votre espace ?")
        expect(page.locator("#purpose-measures_write")).to_be_checked()
        expect(page.locator("#purpose-measures_read")).to_be_checked()
        shot("apps-consent")
        # Allowing makes the consent receipt (a PDF) before sending the holder back to the app.
        with page.expect_navigation(url=re.compile(re.escape(scale_url)), timeout=60_000):
            page.get_by_role("button", name="Autoriser").click(no_wait_after=True)
        expect(page.locator("#message")).to_have_text("Balance connectée.")

        # It writes three weights and reads them back.
        page.get_by_role("button", name="Envoyer trois pesées").click()
        expect(page.locator("#message")).to_have_text("3 pesées envoyées.")
        page.get_by_role("button", name="Relire mes poids").click()
        expect(page.locator("#weights li")).to_have_count(3)

        # They are on the holder's weight page, marked with the app.
        page.goto(base_url + "/constantes/poids")
        rows = page.locator("main").get_by_text(re.compile("Application connectée · Balance de démonstration"))
        expect(rows).to_have_count(3)
        shot("apps-weights")

        # The app's page tells what it did; disconnecting ends it at once.
        page.goto(base_url + "/partage")
        page.get_by_role("link", name=re.compile("Applications connectées")).click()
        expect(page.locator("main h1")).to_have_text("Applications connectées")
        shot("apps-catalogue")
        page.get_by_role("link", name="Balance de démonstration").click()
        expect(page.locator(".trace-list")).to_contain_text("a ajouté à vos mesures de poids")
        expect(page.locator(".trace-list")).to_contain_text("a lu vos mesures de poids")
        shot("apps-show")
        page.locator("#connection").get_by_role("button", name="Déconnecter", exact=True).click()
        page.locator("#disconnect-dialog").get_by_role("button", name="Déconnecter").click()
        expect(page.locator("#connection")).to_contain_text("n’est pas connectée")

        page.goto(scale_url + "/")
        page.get_by_role("button", name="Relire mes poids").click()
        expect(page.locator("#error")).to_contain_text("401")

        page.goto(base_url + "/historique")
        history = page.locator("main")
        expect(history).to_contain_text("Application déconnectée : Balance de démonstration")
        expect(history).to_contain_text("Application connectée : Balance de démonstration")
        page.goto(base_url + "/historique?qui=apps")
        expect(history).to_contain_text("L’application Balance de démonstration a ajouté à vos mesures de poids")
        shot("apps-history")
        assert problems.problems() == []
    finally:
        context.close()
