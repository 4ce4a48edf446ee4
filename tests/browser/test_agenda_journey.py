"""The agenda in two real browsers: a professional with a permanent access proposes an
appointment from the patient's record (desktop); the holder is told, opens it on a phone,
accepts it with a reminder and finds it on the home page. Then the agenda's other screens
(prevention calendar, calendar app subscription) are looked at on both sizes."""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, login_code_for, new_context, password_login
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("AGENDA_SCREENSHOTS", "/tmp/carnet-agenda-screens"))


def _doctor_with_grant(live_app, holder_email: str) -> tuple[str, str]:
    """(the doctor's email, the grant id): a professional account the holder gave access to."""
    from sqlalchemy import select

    from blueprints.auth import services as auth
    from core import grants
    from core.db import db
    from core.people import Account

    rpps = "1" + "".join(secrets.choice("0123456789") for _ in range(10))
    with live_app.test_request_context(method="POST"):
        holder = db.session.scalar(select(Account).where(Account.email == holder_email))
        doctor = auth.create_professional(
            rpps=rpps,
            email=f"dr{rpps}@example.fr",
            given_name="Hélène",
            family_name="Bernard",
            profession="medecin",
            specialty=None,
            password=PASSWORD,
        )
        db.session.flush()
        grant = grants.Grant(patient_id=holder.patient_id, professional_id=doctor.professional_id)
        db.session.add(grant)
        db.session.commit()
        return doctor.email, grant.id


def _pro_login(page, live_app, email: str) -> None:
    page.goto("/connexion")
    form = page.locator("#login-form")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    page.locator("#code-form input[name=code]").fill(login_code_for(live_app, email))
    page.locator("#code-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/$"))


def test_a_professional_proposes_and_the_holder_accepts_on_a_phone(browser, base_url, live_app, new_holder, problems):
    from core import clock

    SHOTS.mkdir(parents=True, exist_ok=True)
    day = clock.paris_today() + timedelta(days=9)
    phone = new_context(browser, base_url, PHONE, problems)
    desk = new_context(browser, base_url, DESKTOP, problems)
    holder_desk = None
    try:
        holder = new_holder(first_name="Margaux")
        doctor_email, grant_id = _doctor_with_grant(live_app, holder.email)

        # the doctor, at the practice: the patient's record, the Appointments tab, a proposal
        pro = desk.new_page()
        _pro_login(pro, live_app, doctor_email)
        pro.goto(f"/pro/dossier/{grant_id}")
        pro.locator(".pro-tabs a", has_text="Rendez-vous").click()
        expect(pro).to_have_url(re.compile(rf"/agenda/dossier/{grant_id}$"))
        form = pro.locator("#proposal-form")
        form.locator("input[name=day]").fill(day.isoformat())
        form.locator("input[name=at]").fill("14:30")
        form.locator("input[name=duration]").fill("20")
        form.locator("input[name=place]").fill("Cabinet médical, 4 place du Marché")
        form.locator("input[name=reason]").fill("Contrôle de la tension")
        form.locator("button[type=submit]").click()
        expect(pro.locator("#flashes")).to_contain_text("Rendez-vous proposé")
        expect(pro.locator("main")).to_contain_text("En attente du patient")
        pro.screenshot(path=str(SHOTS / "agenda-pro-desktop.png"), full_page=True)

        # the holder, on a phone: told on the home page, answers from the agenda
        page = phone.new_page()
        password_login(page, live_app, holder)
        card = page.locator("#card-agenda")
        expect(card).to_contain_text("Dr Hélène Bernard")
        expect(card).to_contain_text("À répondre")
        page.screenshot(path=str(SHOTS / "agenda-home-proposal-phone.png"), full_page=True)
        # the notification says it too, and leads to the appointment
        page.locator("#card-notifications a").first.click()
        expect(page).to_have_url(re.compile(r"/partage"))
        notice = page.locator(".share-notice", has_text="vous propose un rendez-vous")
        expect(notice).to_be_visible()
        page.screenshot(path=str(SHOTS / "agenda-notice-phone.png"), full_page=True)
        page.locator(".bottomnav a[href='/']").click()  # five entries in the bar: the home card leads there
        expect(page).to_have_url(re.compile(r"/$"))
        page.locator("#card-agenda .card-title a").click()
        expect(page).to_have_url(re.compile(r"/agenda/$"))
        expect(page.locator("#to-answer")).to_be_visible()
        page.screenshot(path=str(SHOTS / "agenda-index-phone.png"), full_page=True)
        page.locator("main .list a.list-title", has_text="Dr Hélène Bernard").click()
        expect(page).to_have_url(re.compile(r"/agenda/rendez-vous/[0-9a-f-]{36}$"))
        expect(page.locator("main")).to_contain_text("Contrôle de la tension")
        page.screenshot(path=str(SHOTS / "agenda-proposal-phone.png"), full_page=True)
        page.locator("#answer select[name=reminder]").select_option("1440")
        page.locator("#answer button[type=submit]", has_text="Accepter").click()
        expect(page.locator("#flashes")).to_contain_text("Rendez-vous accepté")
        expect(page.locator("main .page-header")).to_contain_text("Confirmé")

        # back home: the appointment is there, nothing left to answer
        page.locator(".bottomnav a[href='/']").click()
        expect(page.locator("main h1")).to_contain_text("Margaux")
        card = page.locator("#card-agenda")
        expect(card).to_contain_text("Dr Hélène Bernard")
        expect(card).not_to_contain_text("À répondre")
        page.screenshot(path=str(SHOTS / "agenda-home-confirmed-phone.png"), full_page=True)

        # the doctor sees the answer
        pro.reload()
        expect(pro.locator("main")).to_contain_text("Confirmé")

        # the other screens, looked at on both sizes
        for name, ctx_page in (("phone", page), ("desktop", None)):
            target = ctx_page
            if target is None:  # the holder at a computer (the doctor's browser stays the doctor's)
                holder_desk = new_context(browser, base_url, DESKTOP, problems)
                target = holder_desk.new_page()
                password_login(target, live_app, holder)
            target.goto("/agenda/prevention")
            expect(target.locator("#prevention-now")).to_be_visible()
            target.screenshot(path=str(SHOTS / f"agenda-prevention-{name}.png"), full_page=True)
            target.goto("/agenda/abonnement")
            target.locator(
                "main form button[type=submit]", has_text=re.compile("Créer (mon lien privé|un nouveau lien)")
            ).click()
            expect(target.locator("#feed-url")).to_have_value(re.compile(r"/agenda/flux/[A-Za-z0-9_-]{32,}\.ics$"))
            target.screenshot(path=str(SHOTS / f"agenda-feed-{name}.png"), full_page=True)
            target.goto("/agenda/")
            target.screenshot(path=str(SHOTS / f"agenda-index-{name}.png"), full_page=True)
        assert not problems.problems(), problems.problems()
    finally:
        phone.close()
        desk.close()
        if holder_desk is not None:
            holder_desk.close()
