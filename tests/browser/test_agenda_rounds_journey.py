"""Counter-proposals in two real browsers: the doctor proposes (desktop), the holder asks for
another time (phone), the doctor, from their home, answers with a third time, the holder
accepts. Every page is checked by axe (PageProblems); the new screens are photographed at
phone and desktop sizes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, new_context, password_login
from tests.browser.test_agenda_journey import SHOTS, _doctor_with_grant, _pro_login

pytestmark = pytest.mark.browser


def test_three_times_until_the_holder_accepts(browser, base_url, live_app, new_holder, problems):
    from core import clock

    SHOTS.mkdir(parents=True, exist_ok=True)
    first, second, third = (clock.paris_today() + timedelta(days=d) for d in (9, 10, 11))
    phone = new_context(browser, base_url, PHONE, problems)
    desk = new_context(browser, base_url, DESKTOP, problems)
    pro_phone = new_context(browser, base_url, PHONE, problems)
    holder_desk = new_context(browser, base_url, DESKTOP, problems)
    try:
        holder = new_holder(first_name="Margaux")
        doctor_email, grant_id = _doctor_with_grant(live_app, holder.email)

        # the doctor's home: nothing planned yet, and where to start
        pro = desk.new_page()
        _pro_login(pro, live_app, doctor_email)
        expect(pro.locator("section[aria-labelledby=pro-agenda]")).to_contain_text("Aucun rendez-vous à venir")
        pro.screenshot(path=str(SHOTS / "rounds-pro-home-empty-desktop.png"), full_page=True)
        pro.goto(f"/agenda/dossier/{grant_id}")
        form = pro.locator("#proposal-form")
        form.locator("input[name=day]").fill(first.isoformat())
        form.locator("input[name=at]").fill("14:30")
        form.locator("input[name=reason]").fill("Bilan annuel")
        form.locator("button[type=submit]").click()
        expect(pro.locator("#flashes")).to_contain_text("Rendez-vous proposé")

        # the holder, on a phone, asks for another time
        page = phone.new_page()
        password_login(page, live_app, holder)
        page.goto("/agenda/")
        page.locator("main .list a.list-title", has_text="Dr Hélène Bernard").click()
        expect(page).to_have_url(re.compile(r"/agenda/rendez-vous/[0-9a-f-]{36}$"))
        appt_id = page.url.rsplit("/", 1)[1]
        counter = page.locator("#counter-form")
        counter.locator("input[name=day]").fill(second.isoformat())
        counter.locator("input[name=at]").fill("17:00")
        counter.locator("button[type=submit]").click()
        expect(page.locator("#flashes")).to_contain_text("Votre demande est envoyée")
        expect(page.locator("main .page-header")).to_contain_text("Autre horaire demandé")

        # the doctor sees the request on their home and answers with a third time
        pro.goto("/")
        asked = pro.locator("section[aria-labelledby=pro-agenda]")
        expect(asked).to_contain_text("votre réponse est attendue")
        expect(asked).to_contain_text("Margaux")
        pro.screenshot(path=str(SHOTS / "rounds-pro-home-asked-desktop.png"), full_page=True)
        asked.locator("a.list-title", has_text="Margaux").click()
        expect(pro).to_have_url(re.compile(rf"/agenda/dossier/{grant_id}#rdv-{appt_id}$"))
        row = pro.locator(f"#rdv-{appt_id}")
        row.locator("summary", has_text="Proposer un autre horaire").click()
        again = pro.locator(f"#again-{appt_id}")
        again.locator("input[name$='-day']").fill(third.isoformat())
        again.locator("input[name$='-at']").fill("08:45")
        pro.screenshot(path=str(SHOTS / "rounds-pro-record-answer-desktop.png"), full_page=True)
        again.locator("button[type=submit]").click()
        expect(pro.locator("#flashes")).to_contain_text("Autre horaire proposé")
        expect(pro.locator(f"#rdv-{appt_id}")).to_contain_text("En attente du patient")

        # the holder sees every time put forward, and accepts the third
        page.reload()
        rounds = page.locator(".agenda-rounds li")
        expect(rounds).to_have_count(3)
        expect(page.locator("#answer")).to_contain_text("ne peut pas vous recevoir à l’horaire demandé")
        page.screenshot(path=str(SHOTS / "rounds-holder-proposal-phone.png"), full_page=True)
        page.locator("#answer button[type=submit]", has_text="Accepter").click()
        expect(page.locator("#flashes")).to_contain_text("Rendez-vous accepté")
        expect(page.locator("main .page-header")).to_contain_text("Confirmé")
        expect(page.locator(".agenda-rounds li").last).to_contain_text(re.compile(r"8\sh\s45"))

        # the doctor's home lists it as confirmed, on a desktop and on a phone
        pro.goto("/")
        expect(pro.locator("section[aria-labelledby=pro-agenda]")).to_contain_text("Confirmé")
        pro.screenshot(path=str(SHOTS / "rounds-pro-home-desktop.png"), full_page=True)
        pro_small = pro_phone.new_page()
        _pro_login(pro_small, live_app, doctor_email)
        expect(pro_small.locator("section[aria-labelledby=pro-agenda]")).to_contain_text("Margaux")
        pro_small.screenshot(path=str(SHOTS / "rounds-pro-home-phone.png"), full_page=True)

        # the doctor writes: the holder's notifications say it, and lead to the conversation
        pro.locator("main a[href^='/messages/nouveau?a=']").first.click()
        compose = pro.locator("#msg-new")
        compose.locator("input[name=subject]").fill("Avant votre bilan")
        compose.locator("textarea[name=body]").fill("Venez à jeun, s’il vous plaît.")
        compose.locator("button[type=submit]").click()
        expect(pro).to_have_url(re.compile(r"/messages/[0-9a-f-]{36}$"))
        thread_path = pro.url.split(base_url, 1)[1]
        page.goto("/partage")
        card = page.locator(".share-notice", has_text="vous a écrit")
        expect(card).to_contain_text("Avant votre bilan")
        page.screenshot(path=str(SHOTS / "rounds-feed-message-phone.png"), full_page=True)
        card.locator("a", has_text="Lire la conversation").click()
        expect(page).to_have_url(re.compile(re.escape(thread_path) + "$"))
        expect(page.locator("main")).to_contain_text("Venez à jeun")

        # how to be told of appointments, and the notifications feed, on both sizes
        for name, target in (("phone", page), ("desktop", None)):
            if target is None:
                target = holder_desk.new_page()
                password_login(target, live_app, holder)
            target.goto("/partage/notifications/reglages")
            expect(target.locator("main")).to_contain_text("propositions, confirmations, annulations et rappels")
            target.screenshot(path=str(SHOTS / f"rounds-preferences-{name}.png"), full_page=True)
            target.goto("/partage")
            expect(target.locator("main")).to_contain_text("vous propose un autre horaire")
            expect(target.locator(".share-notice", has_text="vous a écrit")).not_to_contain_text("Nouveau")
            target.screenshot(path=str(SHOTS / f"rounds-feed-{name}.png"), full_page=True)
        assert not problems.problems(), problems.problems()
    finally:
        for ctx in (phone, desk, pro_phone, holder_desk):
            ctx.close()
