"""Secure messaging in two real browsers: a professional (desktop) writes to a patient who gave
them access, with a PDF; the patient (phone) is told (mail, navigation count, home card), reads
it, replies with a photo from the phone, and saves the professional's attachment into
Documents; the professional sees the reply arrive without reloading."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, new_context, password_login, settled
from tests.browser.test_documents_journey import jpeg_with_gps, pdf_file
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("CARNET_SHOTS", "/tmp/carnet-shots"))


def _professional(live_app, holder_email: str) -> str:
    """A doctor with an account, granted permanent access by the holder. Returns the email."""
    from sqlalchemy import select

    from blueprints.auth import services as auth
    from blueprints.sharing import professionals
    from core.access import viewer_for
    from core.db import db
    from core.people import Account

    email = "dr.lemaire@example.fr"
    with live_app.test_request_context(method="POST"):
        pro = db.session.scalar(select(Account).where(Account.email == email))
        if pro is None:
            pro = auth.create_professional(
                rpps="10000000777",
                email=email,
                given_name="Hélène",
                family_name="Lemaire",
                profession="medecin",
                specialty="Médecine générale",
                password=PASSWORD,
            )
        holder = db.session.scalar(select(Account).where(Account.email == holder_email))
        professionals.grant(viewer_for(holder), pro.professional_id)
        db.session.commit()
    return email


def _pro_login(page, live_app, email: str) -> None:
    from core import notify

    page.goto("/connexion")
    form = page.locator("#login-form")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    with live_app.app_context():
        code = re.search(r"\b(\d{6})\b", notify.latest_to(email).subject).group(1)
    page.locator("#code-form input[name=code]").fill(code)
    page.locator("#code-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/$"))


def test_professional_writes_patient_replies_with_a_photo_and_saves_the_attachment(
    browser, base_url, live_app, new_holder, problems
):
    from core import notify

    SHOTS.mkdir(parents=True, exist_ok=True)
    phone = new_context(browser, base_url, PHONE, problems)
    desk = new_context(browser, base_url, DESKTOP, problems)
    try:
        holder = new_holder(first_name="Camille")
        pro_email = _professional(live_app, holder.email)
        patient = phone.new_page()
        password_login(patient, live_app, holder)
        expect(patient.locator(".bottomnav a[href='/messages'] .nav-count")).to_be_hidden()

        # the doctor writes from the practice, with the report attached
        doctor = desk.new_page()
        _pro_login(doctor, live_app, pro_email)
        doctor.screenshot(path=str(SHOTS / "messaging-pro-home-desktop.png"), full_page=True)
        doctor.locator("main a[href^='/messages/nouveau?a=']").first.click()
        expect(doctor).to_have_url(re.compile(r"/messages/nouveau\?a="))
        form = doctor.locator("#msg-new")
        form.locator("input[name=subject]").fill("Compte rendu de votre échographie")
        form.locator("textarea[name=body]").fill("Bonjour,\nVoici le compte rendu. Tout est normal.\nDr Lemaire")
        form.locator("input[type=file][name=files]").set_input_files([pdf_file("compte-rendu-echo.pdf")])
        doctor.screenshot(path=str(SHOTS / "messaging-new-desktop.png"), full_page=True)
        form.locator("button[type=submit]").click()
        # a PDF is read by PDFium in a bounded child process before it is kept: give it time
        expect(doctor).to_have_url(re.compile(r"/messages/[0-9a-f-]{36}$"), timeout=30_000)
        expect(doctor.locator(".msg-thread .msg-mine")).to_have_count(1)
        thread_url = doctor.url

        # the patient is told: by mail (never the text), and the navigation's count comes by
        # itself (the poll), without a reload
        with live_app.app_context():
            mail = notify.latest_to(holder.email)
        assert "Compte rendu de votre échographie" in mail.body and "Tout est normal" not in mail.body
        patient.evaluate("htmx.trigger(document.querySelector('[data-poll]'), 'poll-now')")
        expect(patient.locator(".bottomnav a[href='/messages'] .nav-count")).to_be_visible()
        expect(patient.locator(".bottomnav a[href='/messages'] .nav-count")).to_contain_text("1")
        patient.goto("/")
        expect(patient.locator("#card-messages")).to_contain_text("1 message non lu")
        patient.screenshot(path=str(SHOTS / "messaging-home-phone.png"), full_page=True)

        # ... reads it
        patient.locator(".bottomnav a[href='/messages']").click()
        expect(patient).to_have_url(re.compile(r"/messages$"))
        expect(patient.locator(".msg-row.is-unread")).to_have_count(1)
        settled(patient)
        patient.screenshot(path=str(SHOTS / "messaging-inbox-phone.png"), full_page=True)
        # a search swaps the list and says how many it found; focus stays in the search field
        search = patient.locator("#msg-q")
        search.fill("radiographie")
        expect(patient.locator("[data-results-status]")).to_have_text("Aucune conversation trouvée")
        search.fill("echographie")
        expect(patient.locator("[data-results-status]")).to_have_text("1 conversation trouvée")
        expect(search).to_be_focused()
        patient.locator(".msg-row a").first.click()
        expect(patient).to_have_url(re.compile(r"/messages/[0-9a-f-]{36}$"))
        expect(patient.locator(".msg-body")).to_contain_text("Tout est normal")
        expect(patient.locator(".msg-piece-link img")).to_be_visible()  # a thumbnail drawn by the server

        # ... replies with a photo from the phone
        reply = patient.locator("#reply")
        reply.locator("textarea[name=body]").fill("Merci docteur. Voici la photo de l'ordonnance.")
        reply.locator("input[type=file][name=photo]").set_input_files([jpeg_with_gps("ordonnance.jpg")])
        reply.locator("button[type=submit]").click()
        expect(patient.locator(".msg-thread .msg-mine")).to_have_count(1, timeout=30_000)
        expect(patient.locator(".msg-mine .msg-piece-link")).to_contain_text("ordonnance.jpg")
        expect(patient.locator("#reply textarea[name=body]")).to_have_value("")  # a fresh page, form emptied
        expect(patient.locator("#reply button[type=submit]")).to_be_enabled()

        # ... and saves the doctor's report into Documents, in one tap
        save = patient.locator(".msg:not(.msg-mine) form.msg-save")
        save.locator("select[name=category]").select_option(label="Comptes rendus")
        patient.screenshot(path=str(SHOTS / "messaging-thread-phone.png"), full_page=True)
        save.locator("button[type=submit]").click()
        expect(patient.locator("#flashes")).to_contain_text("est enregistré dans vos documents", timeout=30_000)
        expect(patient.locator(".msg:not(.msg-mine)")).to_contain_text("Dans mes documents")
        patient.goto("/documents")
        expect(patient.locator("#doc-list")).to_contain_text("Compte rendu echo")
        expect(patient.locator("#doc-list")).to_contain_text("Hélène Lemaire")  # the sender is its author

        # the doctor sees the reply arrive in the open conversation, and that it read theirs
        doctor.goto(thread_url)
        expect(doctor.locator(".msg-mine .msg-receipt")).to_contain_text("Lu")
        doctor.evaluate("htmx.trigger(document.getElementById('msg-live'), 'poll-now')")
        expect(doctor.locator(".msg-thread .msg:not(.msg-mine)")).to_contain_text("Merci docteur")
        doctor.screenshot(path=str(SHOTS / "messaging-thread-desktop.png"), full_page=True)
        patient.set_viewport_size({"width": 1280, "height": 800})
        patient.goto("/messages")
        patient.screenshot(path=str(SHOTS / "messaging-inbox-desktop.png"), full_page=True)
        assert problems.problems() == []
    finally:
        phone.close()
        desk.close()
