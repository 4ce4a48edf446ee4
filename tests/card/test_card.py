"""The emergency card a holder may keep on their own device: what it holds, that the stored
sheet carries no script and no session secret, never on a kiosk, and a logout that leaves it."""

from __future__ import annotations

from blueprints.profile.models import Allergy, ProfileFacts
from core.db import db
from tests.helpers import csrf_token


def _profile(app, account):
    with app.app_context():
        db.session.add_all(
            [
                Allergy(patient_id=account.patient_id, substance="Pénicilline", severity="severe"),
                ProfileFacts(patient_id=account.patient_id, blood_group="A+", donation="yes"),
            ]
        )
        db.session.commit()


def test_card_page_explains_and_shows_the_card(app, holder):
    client, account = holder
    _profile(app, account)
    html = client.get("/carte-urgence").get_data(as_text=True)
    assert "Pénicilline" in html and "A+" in html
    assert "data-card-keep" in html and "data-card-remove" in html
    assert 'data-card-url="/carte-urgence/fiche"' in html
    # reachable from the security page
    assert 'href="/carte-urgence"' in client.get("/compte").get_data(as_text=True)


def test_stored_sheet_has_no_script_and_no_session_secret(app, holder):
    client, account = holder
    _profile(app, account)
    r = client.get("/carte-urgence/fiche")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "Pénicilline" in html and "A+" in html
    assert "<script" not in html and "csrf" not in html.lower() and "hx-" not in html
    assert "/telecharger" not in html  # never a document
    assert "Updated on" in html or "Mise à jour" in html


def test_never_on_a_kiosk(app, kiosk_client, make_holder, login):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    login(kiosk, account)
    assert kiosk.get("/carte-urgence/fiche").status_code == 403
    html = kiosk.get("/carte-urgence").get_data(as_text=True)
    assert "data-card-keep" not in html
    assert 'data-card-refresh=""' in html


def test_logout_leaves_a_kept_card_and_clears_the_rest(app, holder, make_holder, login_as):
    client, _account = holder
    token = csrf_token(client, "/")
    client.set_cookie("carnet_card", "1")
    r = client.post("/deconnexion", data={"csrf_token": token})
    assert r.headers["Clear-Site-Data"] == '"cookies"'
    other, _ = make_holder()
    fresh = login_as(app.test_client(), other)
    r = fresh.post("/deconnexion", data={"csrf_token": csrf_token(fresh, "/")})
    assert r.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
