"""The screens that tell the holder who did what: grouped notifications and their settings,
the access history in words, measure times, a document deposited through a code; at phone
and desktop sizes, with screenshots, and nothing wrong in the console."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login
from tests.browser.test_screens import no_horizontal_overflow

pytestmark = pytest.mark.browser


def _seed(live_app, email: str, rpps: str) -> str:
    """A médecin traitant's visits (one card), a deposit, an emergency access, a stranger with
    a code; measures taken abroad, steps, a respiratory rate. Returns a deposited document's id."""
    from sqlalchemy import select

    from blueprints.auth import services as auth
    from blueprints.documents import services as documents
    from blueprints.measures import kinds
    from blueprints.measures.models import Measure
    from blueprints.pro import services as pro_services
    from core import access, clock, grants, notify
    from core.db import db
    from core.people import Account

    with live_app.test_request_context(method="POST"):
        holder = db.session.scalar(select(Account).where(Account.email == email))
        patient_id = holder.patient_id
        doctor = auth.create_professional(
            rpps=rpps,
            email=f"dr{rpps}@example.fr",
            given_name="Hélène",
            family_name="Bernard",
            profession="medecin",
            specialty=None,
            password="carnet-demo-2026",
        )
        db.session.flush()
        grant = grants.Grant(patient_id=patient_id, professional_id=doctor.professional_id)
        db.session.add(grant)
        db.session.flush()
        on_record = access.record_viewer(access.viewer_for(doctor), grant.id)
        for _ in range(3):
            pro_services.viewed(on_record, "overview", first_in_session=True)
        notify.tell_holder(
            on_record, "deposit", None, {"title": "Compte rendu de consultation du 2 décembre", "count": 1}
        )
        share = grants.Share(
            patient_id=patient_id,
            prefix=rpps[-4:],
            code_hash=uuid.uuid4().hex * 2,
            link_hash=uuid.uuid4().hex * 2,
            scope={"documents": "all", "summary": True},
            can_deposit=True,
            expires_at=clock.utcnow() + timedelta(hours=2),
        )
        db.session.add(share)
        db.session.flush()
        use = grants.ShareUse(
            share_id=share.id,
            patient_id=patient_id,
            given_name="Marc",
            family_name="Inconnu",
            profession="infirmier",
            rpps="29999999999",
        )
        db.session.add(use)
        db.session.flush()
        by_code = access.share_viewer(use.id)
        pro_services.share_opened(by_code, "code")
        doc = documents.add_documents(
            by_code,
            [documents.Upload(io.BytesIO(b"Soins du jour"), "soins.txt")],
            category="CPT_REND",
            act_date=date(2026, 12, 1),
            title="Soins infirmiers",
            source="professional",
            action=None,
        )[0]
        found = grants.EmergencyAccess(
            patient_id=patient_id,
            professional_id=doctor.professional_id,
            samu=False,
            reason="Malaise au cabinet",
            expires_at=clock.utcnow() + timedelta(hours=12),
        )
        db.session.add(found)
        db.session.flush()
        urgent = access.record_viewer(access.viewer_for(doctor), found.id)
        notify.tell_holder(urgent, "emergency", None, {"reason": found.reason, "samu": False})
        now = clock.utcnow()
        rows = []
        for kind, at, value, offset in (
            ("weight", now - timedelta(days=3, hours=2), 72.4, -300),
            ("weight", now - timedelta(days=1), 72.1, 60),
            ("respiratory_rate", now - timedelta(days=2), 14.5, 60),
            ("steps", datetime(2026, 11, 24, 15, 0, tzinfo=UTC), 8452, 540),
        ):
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "patient_id": patient_id,
                    "kind": kind,
                    "taken_at": int(at.timestamp()),
                    "utc_offset": offset,
                    "value": value,
                    "value2": None,
                    "context": None,
                    "source": "manual",
                    "created_at": now,
                    "dedup": kinds.dedup_key(kinds.KINDS[kind], value),
                }
            )
        db.session.execute(Measure.__table__.insert(), rows)
        db.session.commit()
        return doc.id


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_notices_history_and_times(browser, base_url, live_app, new_holder, problems, size):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, base_url, PHONE if size == "phone" else DESKTOP, problems)
    try:
        page = context.new_page()
        holder = new_holder()
        doc_id = _seed(live_app, holder.email, "1" + str(abs(hash((holder.email, size))))[:10].rjust(10, "0"))

        def shot(name: str) -> None:
            no_horizontal_overflow(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), animations="disabled")
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}-full.png"), full_page=True, animations="disabled")

        password_login(page, live_app, holder)
        card = page.locator("#card-notifications")
        expect(card).to_contain_text("accès d’urgence", ignore_case=True)
        shot("notices-home")

        page.goto("/partage")
        notices = page.locator("#notifications")
        expect(notices).to_contain_text("a ajouté «\u00a0Compte rendu de consultation du 2 décembre\u00a0»")
        expect(notices).to_contain_text("nom indiqué par la personne, non vérifié")
        expect(notices).to_contain_text("compte professionnel vérifié")
        expect(notices.locator(".share-notice")).to_have_count(3)
        page.locator("#notifications").scroll_into_view_if_needed()
        shot("notices-list")

        page.get_by_role("link", name="Comment me prévenir").click()
        expect(page).to_have_url(re.compile(r"/partage/notifications/reglages$"))
        shot("notices-preferences")
        page.locator("#access-1").check()
        page.locator("main button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/partage(#notifications)?$"))
        expect(page.locator(".notice-success")).to_contain_text("Vos choix sont enregistrés")

        page.goto("/historique")
        history = page.locator("#history-results")
        expect(history).to_contain_text("accès utilisé\u00a0: accès permanent")
        expect(history).to_contain_text("nom indiqué par la personne, non vérifié")
        expect(history).not_to_contain_text("autorisation d’accès")
        shot("history-words")

        page.goto("/constantes/poids")
        expect(page.locator("main")).to_contain_text("heure locale, UTC\u22125")
        shot("measure-times")
        page.goto("/constantes/frequence-respiratoire")
        expect(page.locator("main")).to_contain_text("14,5")
        page.goto("/constantes/pas")
        expect(page.locator("main")).to_contain_text("25 novembre 2026")  # Tokyo's 25th, 16:00 on the 24th in Paris
        expect(page.locator("main")).not_to_contain_text("24 nov")

        page.goto(f"/documents/{doc_id}")
        expect(page.locator("#doc-details")).to_contain_text("nom indiqué par la personne, non vérifié")
        shot("document-deposited-by-code")
        assert problems.problems() == []
    finally:
        context.close()
