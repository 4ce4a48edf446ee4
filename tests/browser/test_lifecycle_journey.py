"""The life of a space in a browser: objecting with the letter, closing one's space."""

from __future__ import annotations

import os
import re

import pytest

from tests.browser.helpers import DESKTOP, PHONE, new_context, password_login

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CARNET_SHOTS")  # a folder to keep screenshots in (never committed)


def _real(problems) -> list[str]:
    """Script errors and CSP violations; the 422 a refused form answers is expected here."""
    return [m for m in problems.problems() if "status of 422" not in m]


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_objecting_with_the_letter_deletes_the_space(browser, base_url, new_holder, problems, viewport):
    from playwright.sync_api import expect

    holder = new_holder(pending=True)
    context = new_context(browser, base_url, viewport, problems)
    page = context.new_page()
    page.goto("/activation")
    page.get_by_role("link", name=re.compile("Opposez-vous")).click()
    expect(page).to_have_url(re.compile(r"/opposition$"))
    form = page.locator("#oppose-form")
    form.locator("input[name=nir]").fill(holder.nir)
    form.locator("input[name=birth_date]").fill(holder.birth_date.isoformat())
    form.locator("input[name=code]").fill("AAAA-BBBB-CCCC")
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("#oppose-form .field-error")).to_contain_text("ne correspondent")
    _shot(page, f"oppose-error-{viewport['viewport']['width']}")
    form = page.locator("#oppose-form")
    form.locator("input[name=code]").fill(holder.activation_code)
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/opposition/recepisse$"))
    expect(page.locator("main h1")).to_contain_text("Votre opposition est enregistrée")
    expect(page.locator("main")).to_contain_text("OPP-")
    _shot(page, f"opposed-{viewport['viewport']['width']}")
    assert _real(problems) == []
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_closing_my_space_logs_me_out_for_good(browser, base_url, live_app, new_holder, problems, viewport):
    from playwright.sync_api import expect

    holder = new_holder()
    context = new_context(browser, base_url, viewport, problems)
    page = context.new_page()
    password_login(page, live_app, holder)
    page.goto("/compte")
    page.get_by_role("link", name="Fermer mon espace…").click()
    expect(page).to_have_url(re.compile(r"/mon-espace/fermer$"))
    expect(page.locator("main h1")).to_have_text("Fermer mon espace")
    _shot(page, f"close-{viewport['viewport']['width']}")
    page.locator("#close-form button[type=submit]").click()
    expect(page.locator("#close-form .field-error")).to_contain_text("Cochez cette case")
    page.locator("#close-form input[name=confirm]").check()
    page.locator("#close-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/espace-ferme$"))
    expect(page.locator("main h1")).to_have_text("Votre espace est fermé")
    _shot(page, f"closed-{viewport['viewport']['width']}")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/connexion"))
    assert _real(problems) == []
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_guardian_of_two_children_vaccinates_one(browser, base_url, live_app, problems, viewport, tmp_path):
    """Provisioned from the population file: a parent and two children. The parent switches to
    one child's space, adds a vaccination there; the other child's space is unchanged."""
    from playwright.sync_api import expect
    from sqlalchemy import select

    from blueprints.auth import services
    from core.db import db
    from core.people import Account, Patient
    from tests.browser.helpers import Holder
    from tests.helpers import PASSWORD, valid_nir

    n = viewport["viewport"]["width"]
    parent = valid_nir(f"18506759{n:05d}")
    leo, emma = valid_nir(f"12004759{n:05d}"), valid_nir(f"22209759{n:05d}")
    email = f"famille{n}@example.fr"
    path = tmp_path / "family.csv"
    path.write_text(
        "nir;birth_date;given_names;family_name;email;postal_address;guardian_nirs\n"
        f"{parent};1985-06-12;Paul;Moreau;{email};;\n"
        f"{leo};2020-04-02;Léo;Moreau;{email};;{parent}\n"
        f"{emma};2022-09-09;Emma;Moreau;{email};;{parent}\n",
        encoding="utf-8",
    )
    assert "3 spaces created" in live_app.test_cli_runner().invoke(args=["patients", "provision", str(path)]).output
    with live_app.test_request_context(method="POST"):
        pid = db.session.scalar(select(Patient.id).where(Patient.nir == parent))
        services.finish_activation(db.session.scalar(select(Account).where(Account.patient_id == pid)), PASSWORD)
        db.session.commit()
    holder = Holder(email, parent, None, "Paul", "Moreau", "")

    context = new_context(browser, base_url, viewport, problems)
    page = context.new_page()
    password_login(page, live_app, holder)
    switch = page.locator("form.space-switch")
    expect(switch.locator("select")).to_have_value(pid)
    switch.locator("select").select_option(label="Léo Moreau")
    switch.locator("button[type=submit]").click()
    expect(page.locator("main h1")).to_have_text("Espace santé\u00a0: Léo Moreau")
    expect(page.locator("form.space-switch select option:checked")).to_have_text("Léo Moreau")
    _shot(page, f"guardian-home-{n}")
    page.goto("/profil/vaccinations/ajouter")
    form = page.locator("main form").first
    form.locator("input[name=name]").fill("ROR")
    form.locator("input[name=on_date]").fill("2024-01-15")
    form.locator("input[name=lot_number]").fill("AB123")
    form.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("ROR")
    expect(page.locator("form.space-switch select option:checked")).to_have_text("Léo Moreau")
    _shot(page, f"guardian-vaccination-{n}")
    page.locator("form.space-switch select").select_option(label="Emma Moreau")
    page.locator("form.space-switch button[type=submit]").click()
    expect(page.locator("main h1")).to_have_text("Espace santé\u00a0: Emma Moreau")
    page.goto("/profil/vaccinations/ajouter?annuler=1")
    expect(page.locator("main")).not_to_contain_text("AB123")
    expect(page.locator("main")).not_to_contain_text("ROR")
    assert _real(problems) == []
    context.close()
