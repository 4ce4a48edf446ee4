"""A professional without an account opens a record with the patient's code or QR link."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from core import clock, grants, notify
from core.db import db
from core.sessions import UserSession
from tests.helpers import RPPS, events, form_token, strip_variable, use_code


def test_login_page_points_professionals_to_the_code_page(client):
    html = client.get("/connexion").get_data(as_text=True)
    assert 'href="/pro/acces"' in html


def test_the_right_code_opens_the_record_in_a_new_session(app, client, space, make_share):
    share_id, code, _ = make_share(space["patient_id"])
    csrf = form_token(client)
    name = app.config["SESSION_COOKIE_NAME"]
    before = client.get_cookie(name).value
    r = use_code(client, code, csrf=csrf)
    assert r.status_code == 303 and r.headers["Location"] == f"/pro/dossier/{share_id}"
    assert client.get_cookie(name).value != before  # session id rotated
    fixated = app.test_client()
    fixated.set_cookie(name, before)  # the id from before the code opens nothing
    assert fixated.get(f"/pro/dossier/{share_id}").status_code in (302, 303)
    page = client.get(f"/pro/dossier/{share_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Camille" in html and "Dr Hélène Durand" in html
    with app.app_context():
        old = db.session.scalar(select(UserSession).where(UserSession.end_reason == "rotated"))
        assert old is not None and old.data == {}
        use = db.session.scalar(select(grants.ShareUse))
        assert (use.rpps, use.family_name, use.profession) == (RPPS, "Durand", "medecin")
    opened = events(app, "share_opened")
    assert len(opened) == 1 and opened[0].grant_id == share_id and opened[0].actor_profession == "medecin"
    assert opened[0].detail["scope"] == ["documents", "measures", "summary"] and opened[0].detail["via"] == "code"
    assert code not in str([e.detail for e in events(app)])


def test_the_holder_is_told_in_the_app_and_by_mail(app, client, space, make_share):
    _, code, _ = make_share(space["patient_id"])
    use_code(client, code)
    with app.app_context():
        note = db.session.scalar(select(notify.Notification))
        assert note.kind == "access" and note.actor_rpps == RPPS and note.patient_id == space["patient_id"]
        mail = notify.latest_to(space["account"].email)
    assert mail is not None and "Hélène Durand" in mail.body


def test_the_qr_link_opens_the_record_without_a_code(app, client, space, make_share):
    share_id, _, token = make_share(space["patient_id"])
    page = client.get(f"/pro/acces?lien={token}").get_data(as_text=True)
    assert 'name="code"' not in page and "QR" in page
    assert "Link recognised" not in page and "Lien reconnu" not in page  # nothing said before it is checked
    html = client.get("/pro/acces?lien=not-a-token").get_data(as_text=True)
    assert strip_variable(html) == strip_variable(page)  # a wrong link looks the same on GET
    r = use_code(client, token=token)
    assert r.status_code == 303 and r.headers["Location"] == f"/pro/dossier/{share_id}"
    assert "Lien reconnu" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert events(app, "share_opened")[0].detail["via"] == "link"


def test_a_wrong_link_gets_the_answer_of_a_wrong_code(client, space, make_share):
    _, code, _ = make_share(space["patient_id"])
    wrong_link = use_code(client, token="x" * 32)
    wrong_code = use_code(client, code[:5] + "0000-0000")
    assert wrong_link.status_code == wrong_code.status_code == 422
    assert strip_variable(wrong_link.get_data(as_text=True)) == strip_variable(wrong_code.get_data(as_text=True))


def test_every_refusal_is_the_same_answer(app, space, make_share, make_holder):
    """Wrong, expired, revoked, locked, capped and blocked: one status, one body."""
    pid = space["patient_id"]
    answers = {}

    def attempt(name, code, ip="10.1.0.1", rpps=RPPS):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ip
        r = use_code(client, code, rpps=rpps)
        answers[name] = (r.status_code, strip_variable(r.get_data(as_text=True)))

    _, code, _ = make_share(pid)
    attempt("wrong", code[:5] + ("0000-0000" if code[5:] != "0000-0000" else "1111-1111"))
    attempt("unknown prefix", "ZZZZ-ZZZZ-ZZZZ")
    expired_id, expired, _ = make_share(pid, hours=1)
    revoked_id, revoked, _ = make_share(pid)
    locked_id, locked, _ = make_share(pid)
    blocked_id, blocked, _ = make_share(pid)
    with app.app_context():
        db.session.get(grants.Share, revoked_id).revoked_at = clock.utcnow()
        db.session.get(grants.Share, locked_id).locked_at = clock.utcnow()
        db.session.add(grants.Block(patient_id=pid, rpps="20202020202"))
        db.session.commit()
    clock.advance(timedelta(hours=1, minutes=1))
    attempt("expired", expired)
    attempt("revoked", revoked)
    attempt("locked", locked)
    attempt("blocked", blocked, rpps="20202020202")
    for _ in range(grants.IP_LIMIT):
        attempt("filler", "ZZZZ-ZZZZ-ZZZZ", ip="10.9.9.9")
    live_id, live, _ = make_share(pid)
    attempt("capped", live, ip="10.9.9.9")
    del answers["filler"]
    statuses = {status for status, _ in answers.values()}
    bodies = {body for _, body in answers.values()}
    assert statuses == {422} and len(bodies) == 1, sorted(answers)
    assert "ouvre aucun dossier" in bodies.pop()
    failed = events(app, "share_code_failed")
    assert all("code" not in e.detail or e.detail["code"] is None for e in failed)
    assert any(e.detail.get("blocked") and e.patient_id == pid for e in failed)
    # the same code from another address still works: the cap was the address's
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.1.0.2"
    assert use_code(client, live).status_code == 303


def test_the_form_checks_what_is_typed(client):
    r = use_code(client, "", rpps="123")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "11" in html and "does not open" not in html


def test_without_csrf_nothing_is_tried(app, client, space, make_share):
    _, code, _ = make_share(space["patient_id"])
    r = client.post(
        "/pro/acces", data={"code": code, "given_name": "A", "family_name": "B", "profession": "medecin", "rpps": RPPS}
    )
    assert r.status_code == 400 and not events(app, "share_opened")


def test_an_account_is_told_to_use_its_patients_list(app, client, make_pro, login_as):
    login_as(client, make_pro())
    html = client.get("/pro/acces").get_data(as_text=True)
    assert 'name="code"' not in html and 'href="/"' in html


def test_end_clears_the_code_session(app, client, space, make_share):
    share_id, code, _ = make_share(space["patient_id"])
    use_code(client, code)
    page = client.get(f"/pro/dossier/{share_id}").get_data(as_text=True)

    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    r = client.post("/pro/terminer", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["Location"].startswith("/pro/acces")
    assert "Clear-Site-Data" in r.headers
    again = client.get(f"/pro/dossier/{share_id}")
    assert again.status_code in (302, 303) and again.headers["Location"].startswith("/connexion")


def test_a_code_session_reaches_no_holder_page(client, space, make_share):
    share_id, code, _ = make_share(space["patient_id"])
    use_code(client, code)
    for url in ("/documents", "/profil", "/historique", "/compte", "/mesures"):
        assert client.get(url).status_code in (401, 403, 404, 302), url
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == f"/pro/dossier/{share_id}"
