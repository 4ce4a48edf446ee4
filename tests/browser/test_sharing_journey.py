"""Sharing in two real browsers: the holder creates a share on a phone, a professional types
the code on a desktop, opens a document; the holder sees the access in the history and a
notification, revokes, and the professional's next click is refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login
from tests.browser.test_documents_journey import add_documents, pdf_file

pytestmark = pytest.mark.browser


def test_share_open_revoke(browser, base_url, live_app, new_holder, problems):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone = new_context(browser, base_url, PHONE, problems)
    desk = new_context(browser, base_url, DESKTOP, problems)
    try:
        holder_page = phone.new_page()
        holder = new_holder()
        password_login(holder_page, live_app, holder)
        add_documents(holder_page, [pdf_file("bilan-sanguin.pdf")], "Résultats de biologie")
        # The upload has landed: the new document's own page (the form's /documents/ajouter
        # would match a looser pattern, and the upload's redirect would then interrupt the
        # next navigation).
        expect(holder_page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"))
        expect(holder_page.locator("#flashes")).to_contain_text("Document ajouté.")

        # the holder shares everything for 24 hours (the login is fresh: no confirmation asked);
        # each boosted click is followed by what only its new page has
        holder_page.locator(".bottomnav a[href='/partage']").click()
        expect(holder_page).to_have_url(re.compile(r"/partage$"))
        holder_page.locator("main a[href='/partage/nouveau']").first.click()
        expect(holder_page).to_have_url(re.compile(r"/partage/nouveau$"))
        form = holder_page.locator("#share-form")
        form.locator("button[type=submit]").click()
        code = holder_page.locator(".share-code").get_attribute("aria-label").split(":", 1)[1].strip()
        code = code.replace(" ", "").replace("\u00a0", "")
        assert re.fullmatch(r"[0-9A-Z]{12}", code)
        expect(holder_page.locator(".share-qr svg")).to_be_visible()
        holder_page.screenshot(path=str(SCREENSHOTS / "sharing-created-phone.png"), full_page=True)

        # a professional types it at the practice
        pro = desk.new_page()
        pro.goto("/connexion")
        pro.locator("a[href='/pro/acces']").first.click()
        access = pro.locator("#pro-access-form")
        access.locator("input[name=code]").fill(f"{code[:4]}-{code[4:8]}-{code[8:]}".lower())
        access.locator("input[name=given_name]").fill("Louis")
        access.locator("input[name=family_name]").fill("Pasteur")
        access.locator("select[name=profession]").select_option("medecin")
        access.locator("input[name=rpps]").fill("10000000042")
        access.locator("button[type=submit]").click()
        expect(pro).to_have_url(re.compile(r"/pro/dossier/[0-9a-f-]{36}$"))
        pro.screenshot(path=str(SCREENSHOTS / "sharing-pro-record-desktop.png"), full_page=True)
        pro.get_by_role("link", name=re.compile("Bilan sanguin")).first.click()
        expect(pro).to_have_url(re.compile(r"/documents/[0-9a-f-]{36}$"))
        record_url = pro.url

        # the holder sees it: a notification, the use on the share, the history
        holder_page.goto("/partage")
        expect(holder_page.locator(".share-notice").first).to_contain_text("Pasteur")
        expect(holder_page.locator(".share-uses").first).to_contain_text("Pasteur")
        holder_page.goto("/historique")
        expect(holder_page.locator("main")).to_contain_text("Louis Pasteur")
        holder_page.screenshot(path=str(SCREENSHOTS / "sharing-history-phone.png"), full_page=True)

        # ... and ends the access
        holder_page.goto("/partage")
        holder_page.get_by_role("button", name="Fermer cet accès").first.click()
        holder_page.locator(".confirm-panel:visible button[type=submit]").click()
        expect(holder_page.locator(".flashes")).to_contain_text("Accès fermé")  # only once it ended

        # the professional's next click is refused
        pro.goto(record_url)
        expect(pro).to_have_url(re.compile(r"/pro/acces"))
        expect(pro.locator("main")).not_to_contain_text("Bilan sanguin")
        pro.screenshot(path=str(SCREENSHOTS / "sharing-pro-refused-desktop.png"), full_page=True)
        assert [p for p in problems.problems() if "status of 4" not in p] == []
    finally:
        phone.close()
        desk.close()
