"""A helper (proche aidant) in a browser: the holder invites them, they accept from their own
space, switch to the holder's space and note a measure; the holder's history shows it as theirs;
the holder ends the delegation and the helper's next request is back in their own space, with
the switch no longer offering the holder's."""

from __future__ import annotations

import os
import re

import pytest

from tests.browser.helpers import DESKTOP, PHONE, new_context, password_login

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CARNET_SHOTS")  # a folder to keep screenshots in (never committed)


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _real(problems) -> list[str]:
    """Script errors and CSP violations; the 422 a refused form answers is expected here."""
    return [m for m in problems.problems() if "status of 422" not in m]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_helper_notes_a_measure_until_the_holder_ends_it(browser, base_url, live_app, new_holder, problems, viewport):
    from playwright.sync_api import expect

    n = viewport["viewport"]["width"]
    jeanne, paul = new_holder(first_name="Jeanne"), new_holder(first_name="Paul")
    helped = f"Jeanne {jeanne.family_name}"

    holder_context = new_context(browser, base_url, viewport, problems)
    holder = holder_context.new_page()
    password_login(holder, live_app, jeanne)
    helper_context = new_context(browser, base_url, viewport, problems)
    helper = helper_context.new_page()
    password_login(helper, live_app, paul)  # before the invitation's mail: the login reads the newest one
    holder.goto("/partage")
    holder.locator("main a.share-history-link", has_text="Aidants").click()
    expect(holder).to_have_url(re.compile(r"/aidants$"))
    form = holder.locator("#helper-invite form")
    form.locator("button[type=submit]").click()  # nothing filled: the errors are announced
    expect(holder.locator("#helper-invite .error-summary")).to_be_visible()
    _shot(holder, f"helpers-errors-{n}")
    form = holder.locator("#helper-invite form")
    form.locator("input[name=email]").fill(paul.email)
    form.get_by_label(re.compile("^Mesures")).check()
    form.locator("button[type=submit]").click()
    expect(holder.locator(".notice-success")).to_contain_text("Invitation enregistrée")
    expect(holder.locator("main")).to_contain_text("Invitation envoyée")
    _shot(holder, f"helpers-invited-{n}")

    helper.goto("/")
    expect(helper.locator(".helper-invitation")).to_contain_text("Quelqu’un vous demande de l’aider")
    helper.locator(".helper-invitation a").click()
    expect(helper).to_have_url(re.compile(r"/aidants$"))
    _shot(helper, f"helpers-invitation-{n}")
    helper.get_by_role("button", name="Accepter").click()
    expect(helper.locator(".notice-success")).to_contain_text("Invitation acceptée")
    switch = helper.locator("form.space-switch")
    switch.locator("select").select_option(label=f"Vous aidez {helped}")
    switch.locator("button[type=submit]").click()
    expect(helper.locator("main h1")).to_have_text(f"Vous aidez {helped}")
    expect(helper.locator("form.space-switch select option:checked")).to_have_text(f"Vous aidez {helped}")
    _shot(helper, f"helpers-home-{n}")
    helper.get_by_role("link", name="Mesures").first.click()
    expect(helper).to_have_url(re.compile(r"/constantes$"))
    helper.goto("/constantes/poids/ajouter")
    helper.locator("#measure-form input[name=value]").fill("64,5")
    helper.locator("#measure-form button[type=submit]").click()
    expect(helper.locator("main")).to_contain_text("64,5")
    _shot(helper, f"helpers-measure-{n}")

    holder.goto("/historique")
    row = holder.locator(".history-row").filter(has_text="Mesure ajoutée")
    expect(row.first).to_contain_text("Aidant")
    expect(row.first).to_contain_text(f"Paul {paul.family_name}")
    _shot(holder, f"helpers-history-{n}")

    holder.goto("/aidants")
    holder.get_by_role("button", name="Mettre fin maintenant").click()
    panel = holder.locator(".confirm-panel:popover-open")
    expect(panel).to_be_visible()
    panel.get_by_role("button", name="Mettre fin à son accès").click()
    expect(holder.locator(".notice-success")).to_contain_text("n’a plus accès")
    expect(holder.locator("main")).to_contain_text("Terminé")
    _shot(holder, f"helpers-ended-{n}")

    helper.goto("/constantes")
    expect(helper.locator("#flashes .notice-warning")).to_contain_text("Votre accès à cet espace a pris fin")
    expect(helper.locator("form.space-switch")).to_have_count(0)  # nothing else to switch to
    expect(helper.locator("main")).not_to_contain_text("64,5")
    assert _real(problems) == []
    helper_context.close()
    holder_context.close()
