"""Importing an Apple Health export on a phone, in Chromium: choose the kind of file, send
it (the background job runs in the live server's process), watch the progress poll until the
summary shows. Screenshots of the import page and of the summary go to tests/screenshots/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, password_login
from tests.constants.conftest import apple_xml, apple_zip, pressure, record

pytestmark = pytest.mark.browser


def test_import_an_apple_export_and_read_the_summary(page, live_app, new_holder, problems):
    holder = new_holder()
    password_login(page, live_app, holder)
    page.goto("/constantes/importer")
    expect(page.locator("main h1")).to_be_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "measures-import-phone.png"), full_page=True, animations="disabled")
    xml = apple_xml(record("BodyMass", 160, "lb", "2024-03-01 07:58:00 +0100", "Balance"),
                    record("HeartRate", 62, "count/min", "2024-03-01 08:00:00 +0100"),
                    pressure(125, 82, "2024-03-01 09:00:00 +0100"),
                    record("BodyMass", 700, "kg", "2024-03-02 07:58:00 +0100", "Balance"),
                    record("DietaryWater", 250, "mL", "2024-03-01 10:00:00 +0100"))
    page.locator("input[name=format][value=apple]").check()
    page.locator("input[name=file]").set_input_files(
        {"name": "export.zip", "mimeType": "application/zip", "buffer": apple_zip(xml)})
    page.locator("#import-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/constantes/importer/[0-9a-f-]{36}$"))
    summary = page.locator(".import-summary")
    expect(summary).to_be_visible(timeout=15_000)
    expect(page.locator(".import-added .import-num")).to_have_text("3")
    expect(page.locator(".import-rejected .import-num")).to_have_text("1")
    page.screenshot(path=str(SCREENSHOTS / "measures-import-summary-phone.png"), full_page=True, animations="disabled")
    assert problems.problems() == []
