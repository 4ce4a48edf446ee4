import base64
import json
from datetime import timedelta

from flask import session
from sqlalchemy import select

from blueprints.auth import passkeys
from core import audit, clock
from core.db import db
from core.people import Credential
from core.sessions import UserSession
from tests.helpers import PASSWORD, csrf_token


def _add_key(app, account, name="Mon téléphone"):
    with app.app_context():
        cred = Credential(account_id=account.id, credential_id=name.encode(), public_key=b"k", name=name)
        db.session.add(cred)
        db.session.commit()
        return cred.id


def _actions(app, account):
    with app.app_context():
        return db.session.scalars(
            select(audit.AuditEvent.action)
            .where(audit.AuditEvent.account_id == account.id)
            .order_by(audit.AuditEvent.id)
        ).all()


def test_screen_lists_keys_and_sessions(app, client, make_holder, login):
    account, _ = make_holder()
    _add_key(app, account)
    login(client, account)
    html = client.get("/compte").get_data(as_text=True)
    assert "Mon téléphone" in html and 'id="sessions"' in html


def test_rename_inline(app, client, make_holder, login):
    account, _ = make_holder()
    cid = _add_key(app, account)
    login(client, account)
    token = csrf_token(client, "/compte")
    form = client.get(f"/compte/cles-d-acces/{cid}/nom", headers={"HX-Request": "true"})
    assert (
        form.status_code == 200
        and "<form" in form.get_data(as_text=True)
        and "<html" not in form.get_data(as_text=True)
    )
    bad = client.post(
        f"/compte/cles-d-acces/{cid}/nom", data={"name": "", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/compte/cles-d-acces/{cid}/nom",
        data={"name": "Tablette <b>", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    body = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "Tablette &lt;b&gt;" in body and body.lstrip().startswith("<li")
    assert "passkey_renamed" in _actions(app, account)


def test_removing_a_key_needs_fresh_authentication(app, client, make_holder, login):
    account, _ = make_holder()
    cid = _add_key(app, account)
    login(client, account)
    token = csrf_token(client, "/compte")
    clock.advance(timedelta(minutes=6))
    r = client.post(f"/compte/cles-d-acces/{cid}/supprimer", data={"csrf_token": token})
    assert r.status_code == 303 and "/compte/confirmer" in r.headers["Location"]
    with app.app_context():
        assert db.session.get(Credential, cid) is not None
    wrong = client.post("/compte/confirmer", data={"password": "not the password", "csrf_token": token})
    assert wrong.status_code == 422
    right = client.post("/compte/confirmer?next=/compte", data={"password": PASSWORD, "csrf_token": token})
    assert right.status_code == 303 and right.headers["Location"] == "/compte"
    r = client.post(f"/compte/cles-d-acces/{cid}/supprimer", data={"csrf_token": token})
    assert r.status_code == 303
    with app.app_context():
        assert db.session.get(Credential, cid) is None
    assert "passkey_removed" in _actions(app, account) and "reauthenticated" in _actions(app, account)


def test_passkey_registration_options_need_fresh_auth_and_no_kiosk(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    token = csrf_token(client, "/compte")
    r = client.post("/compte/cles-d-acces/options", headers={"X-CSRFToken": token})
    assert r.status_code == 200
    opts = r.json
    assert opts["authenticatorSelection"]["residentKey"] == "required"
    assert opts["authenticatorSelection"]["userVerification"] == "required"
    with app.app_context():
        rec = db.session.scalars(
            select(UserSession).where(UserSession.account_id == account.id, UserSession.ended_at.is_(None))
        ).one()
        rec.kiosk = True
        db.session.commit()
    assert client.post("/compte/cles-d-acces/options", headers={"X-CSRFToken": token}).status_code == 403
    assert "kiosque" in client.get("/compte/cles-d-acces").get_data(as_text=True).lower()


def test_passkey_challenge_is_single_use(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    token = csrf_token(client, "/compte")
    client.post("/compte/cles-d-acces/options", headers={"X-CSRFToken": token})
    junk = {"credential": {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}, "name": "x"}
    first = client.post("/compte/cles-d-acces", json=junk, headers={"X-CSRFToken": token})
    assert first.status_code == 400
    with client.session_transaction() as s:
        assert not s.get("webauthn_register")


def test_end_one_session_and_all_others(app, client, make_holder, login):
    account, _ = make_holder()
    other1, other2 = app.test_client(), app.test_client()
    login(other1, account)
    login(other2, account)
    login(client, account)
    with app.app_context():
        sessions = db.session.scalars(
            select(UserSession).where(UserSession.account_id == account.id, UserSession.ended_at.is_(None))
        ).all()
    assert len(sessions) == 3
    token = csrf_token(client, "/compte")
    html = client.get("/compte").get_data(as_text=True)
    ids = [s.id for s in sessions if f"/compte/sessions/{s.id}/terminer" in html]
    assert len(ids) == 2  # the current session has no "End" button
    r = client.post(f"/compte/sessions/{ids[0]}/terminer", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="sessions"' in r.get_data(as_text=True)
    alive = [c.get("/").status_code for c in (other1, other2)]
    assert sorted(alive) == [200, 302]
    client.post("/compte/sessions/terminer-les-autres", data={"csrf_token": token})
    assert other1.get("/").status_code == 302 and other2.get("/").status_code == 302
    assert client.get("/").status_code == 200
    assert {"session_ended", "sessions_ended"} <= set(_actions(app, account))


def test_change_password_ends_other_sessions(app, client, make_holder, login):
    account, _ = make_holder()
    other = app.test_client()
    login(other, account)
    login(client, account)
    token = csrf_token(client, "/compte")
    weak = client.post("/compte/mot-de-passe", data={"password": "court", "confirm": "court", "csrf_token": token})
    assert weak.status_code == 422
    new = "un tout nouveau mot de passe"
    r = client.post("/compte/mot-de-passe", data={"password": new, "confirm": new, "csrf_token": token})
    assert r.status_code == 303
    assert other.get("/").status_code == 302 and client.get("/").status_code == 200
    third = app.test_client()
    login(third, account, password=new)
    assert third.get("/").status_code == 200


def test_dashboard_shows_identity_and_security(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    html = client.get("/").get_data(as_text=True)
    assert account.patient.nir not in html  # masked
    assert account.patient.nir[-2:] in html and account.email in html
    assert 'href="/compte"' in html


def test_overlapping_ceremonies_keep_their_own_challenges(app, client, make_holder):
    """An autofill request and a button press may both ask for options: each challenge is
    kept (a few at most), and each is single use."""

    token = csrf_token(client)
    first = client.post("/connexion/passkey/options", headers={"X-CSRFToken": token}).json["challenge"]
    second = client.post("/connexion/passkey/options", headers={"X-CSRFToken": token}).json["challenge"]
    assert first != second

    def answer(challenge):
        data = (
            base64.urlsafe_b64encode(json.dumps({"type": "webauthn.get", "challenge": challenge}).encode())
            .decode()
            .rstrip("=")
        )
        return json.dumps({"response": {"clientDataJSON": data}})

    with app.test_request_context(method="POST"):
        session["webauthn_login"] = {first: "2099-01-01T00:00:00+00:00"}
        try:
            passkeys._take("login", answer(second))
            raise AssertionError("a challenge never issued to this session was accepted")
        except passkeys.PasskeyError:
            pass

        session["webauthn_login"] = {first: clock.utcnow().isoformat(), second: clock.utcnow().isoformat()}
        assert passkeys._take("login", answer(second))
        assert list(session["webauthn_login"]) == [first]
        try:
            passkeys._take("login", answer(second))
            raise AssertionError("a challenge was used twice")
        except passkeys.PasskeyError:
            pass


def test_sessions_past_their_limits_are_not_listed(app, client, make_holder, login):
    account, _ = make_holder()
    gone = app.test_client()
    login(gone, account)  # a device that then goes away without logging out
    clock.advance(timedelta(minutes=10))
    login(client, account)
    clock.advance(timedelta(minutes=6))  # 16 minutes of silence for the other device
    html = client.get("/compte").get_data(as_text=True)
    assert "/terminer" not in html  # only this device is listed
    assert "1 session active" in client.get("/").get_data(as_text=True)
