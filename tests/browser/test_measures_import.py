"""Importing an Apple Health export on a phone, in Chromium: choose the kind of file, send
it (the background job runs in the live server's process), watch the progress poll until the
summary shows. Screenshots of the import page and of the summary go to tests/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login
from tests.samples import apple_xml, apple_zip, pressure, record

pytestmark = pytest.mark.browser


def test_import_an_apple_export_and_read_the_summary(page, live_app, new_holder, problems):
    holder = new_holder()
    password_login(page, live_app, holder)
    page.goto("/constantes/importer")
    expect(page.locator("main h1")).to_be_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "measures-import-phone.png"), full_page=True, animations="disabled")
    xml = apple_xml(
        record("BodyMass", 160, "lb", "2024-03-01 07:58:00 +0100", "Balance"),
        record("HeartRate", 62, "count/min", "2024-03-01 08:00:00 +0100"),
        pressure(125, 82, "2024-03-01 09:00:00 +0100"),
        record("BodyMass", 700, "kg", "2024-03-02 07:58:00 +0100", "Balance"),
        record("DietaryWater", 250, "mL", "2024-03-01 10:00:00 +0100"),
    )
    page.locator("input[name=format][value=apple]").check()
    page.locator("input[name=file]").set_input_files(
        {"name": "export.zip", "mimeType": "application/zip", "buffer": apple_zip(xml)}
    )
    page.locator("#import-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/constantes/importer/[0-9a-f-]{36}$"))
    summary = page.locator(".import-summary")
    expect(summary).to_be_visible(timeout=15_000)
    expect(page.locator(".import-added .import-num")).to_have_text("3")
    expect(page.locator(".import-rejected .import-num")).to_have_text("1")
    page.screenshot(path=str(SCREENSHOTS / "measures-import-summary-phone.png"), full_page=True, animations="disabled")
    assert problems.problems() == []


FIXTURES = __import__("pathlib").Path(__file__).resolve().parent.parent / "measures" / "fixtures"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_device_csv_shows_its_columns_and_unknown_columns_get_a_chooser(
    browser, base_url, live_app, new_holder, problems, viewport
):
    """An OMRON connect export: the preview says which column became which kind and unit.
    A file Carnet does not recognise: the chooser, used with the keyboard, then the import."""
    context = new_context(browser, base_url, PHONE if viewport == "phone" else DESKTOP, problems)
    page = context.new_page()
    try:
        holder = new_holder()
        password_login(page, live_app, holder)
        SCREENSHOTS.mkdir(exist_ok=True)

        page.goto("/constantes/importer")
        page.locator("input[name=format][value=csv]").check()
        page.locator("input[name=file]").set_input_files(
            {
                "name": "OMRON connect.csv",
                "mimeType": "text/csv",
                "buffer": (FIXTURES / "omron_connect.csv").read_bytes(),
            }
        )
        page.locator("#import-form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/constantes/importer/[0-9a-f-]{36}$"))
        mapping = page.locator(".import-mapping")
        expect(mapping).to_contain_text("Tension, systolique, en mmHg")
        expect(mapping).to_contain_text("Fuseau horaire")
        expect(page.locator(".import-preview table")).to_contain_text("126/81")
        page.screenshot(
            path=str(SCREENSHOTS / f"measures-import-csv-mapping-{viewport}.png"), full_page=True, animations="disabled"
        )

        page.goto("/constantes/importer")
        page.locator("input[name=format][value=csv]").check()
        page.locator("input[name=file]").set_input_files(
            {"name": "glycemies.csv", "mimeType": "text/csv", "buffer": (FIXTURES / "unknown_columns.csv").read_bytes()}
        )
        page.locator("#import-form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/constantes/importer/[0-9a-f-]{36}$"))
        chooser = page.locator("#import-chooser")
        expect(chooser).to_have_attribute("open", "")
        expect(page.locator(".import-preview [role=alert]").first).to_contain_text("pas reconnu")
        expect(page.get_by_role("button", name="Confirmer et importer")).to_be_disabled()
        # an incomplete answer first: the error is announced, the choices kept
        page.locator("#import-date-column").select_option("0")
        page.locator("#import-col-1").select_option("blood_pressure.sys|mmHg")
        page.get_by_role("button", name="Relire le fichier avec ces colonnes").click()
        expect(page.locator(".import-chooser-form [role=alert]")).to_contain_text("deux colonnes")
        expect(page.locator("#import-col-1")).to_have_value("blood_pressure.sys|mmHg")
        expect(page.locator("#import-date-column")).to_have_value("0")
        page.screenshot(
            path=str(SCREENSHOTS / f"measures-import-csv-chooser-{viewport}.png"), full_page=True, animations="disabled"
        )
        page.locator("#import-col-1").select_option("glucose|mmol/L")
        page.locator("#import-col-2").select_option("glucose|mmol/L")
        page.locator("#import-col-2").focus()
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.locator(".import-preview table")).to_contain_text("Glycémie")
        expect(page.locator(".import-mapping")).to_contain_text("Glycémie, en mmol/L")
        page.get_by_role("button", name="Confirmer et importer").click()
        expect(page.locator(".import-added .import-num")).to_have_text("4", timeout=15_000)
        assert [m for m in problems.problems() if "status of 422" not in m] == []
    finally:
        context.close()
