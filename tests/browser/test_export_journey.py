"""Taking everything with you, in a browser: from the account page, prepare the file, follow
its progress until it is ready (the poll's swap, focus on what changed), download the zip."""

from __future__ import annotations

import os
import re
import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, new_context, password_login

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CARNET_SHOTS")  # a folder to keep screenshots in (never committed)


@pytest.fixture(autouse=True)
def _patient_waits():
    """The machine may be busy: waits for a navigation or a swap get a longer bound here."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=20_000)  # the shared bound (tests/browser/conftest.py)


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_prepare_wait_and_download_everything(browser, base_url, live_app, new_holder, problems, viewport, tmp_path):
    holder = new_holder()
    context = new_context(browser, base_url, viewport, problems)
    page = context.new_page()
    password_login(page, live_app, holder)
    page.goto("/compte")
    page.get_by_role("link", name="Récupérer toutes mes données").click()
    expect(page).to_have_url(re.compile(r"/mon-espace/recuperer$"))
    expect(page.locator("main h1")).to_have_text("Récupérer toutes mes données")
    width = viewport["viewport"]["width"]
    _shot(page, f"export-start-{width}")
    page.get_by_role("button", name="Préparer mon fichier").click()
    ready = page.locator("#export-status-title")
    expect(ready).to_contain_text("Votre fichier est prêt", timeout=60_000)  # the poll swapped it in
    expect(ready).to_be_focused()
    link = page.get_by_role("link", name="Télécharger mes données (zip)")
    expect(page.locator("#export-status")).to_contain_text("téléchargeable jusqu’au")
    _shot(page, f"export-ready-{width}")
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "carnet.zip"
    info.value.save_as(path)
    names = set(zipfile.ZipFile(path).namelist())
    assert {"LISEZMOI.txt", "fhir/bundle.json", "synthese.pdf", "mesures.csv", "historique.csv"} <= names
    assert problems.problems() == []
    context.close()
