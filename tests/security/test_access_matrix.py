"""Every URL × method × kind of viewer: anonymous → login, professional kept out of holder
pages, holder kept out of nothing it owns. New routes must be listed here, or the test fails."""
import re

from tests.conftest import csrf_token

PUBLIC = {"auth.login", "auth.login_code", "auth.activate", "auth.activate_password", "auth.set_language",
          "auth.passkey_options", "auth.passkey_login", "auth.logout", "auth.session_status",
          "dashboard.service_worker", "dashboard.manifest", "demo.outbox", "static"}
HOLDER_ONLY_PREFIXES = ("/documents", "/historique", "/profil")


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "00000000-0000-4000-8000-000000000000", rule.rule)


def test_every_protected_route_refuses_anonymous(app, client):
    token = csrf_token(client)
    checked = 0
    for rule, method in _routes(app):
        if rule.endpoint in PUBLIC:
            continue
        r = client.open(_url(rule), method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        assert r.status_code in (302, 303, 401) and "/connexion" in r.headers.get("Location", ""), \
            f"{method} {rule.rule} answered {r.status_code} to an anonymous visitor"
        checked += 1
    assert checked >= 8


def test_professional_cannot_reach_holder_pages(app, client, make_pro, login):
    login(client, make_pro())
    token = csrf_token(client, "/compte")
    checked = 0
    for rule, method in _routes(app):
        if not rule.rule.startswith(HOLDER_ONLY_PREFIXES):
            continue
        r = client.open(_url(rule), method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        assert r.status_code in (403, 404), f"{method} {rule.rule} answered {r.status_code} to a professional"
        checked += 1
    assert checked >= 10


def test_holder_cannot_touch_another_holders_records(app, client, make_holder, login):
    owner, _ = make_holder()
    intruder, _ = make_holder()
    with app.app_context():
        from core.db import db
        from core.people import Credential
        from core.sessions import UserSession

        cred = Credential(account_id=owner.id, credential_id=b"owner-key", public_key=b"k", name="Owner key")
        db.session.add(cred)
        other_session = UserSession(token_hash="x" * 64, account_id=owner.id)
        db.session.add(other_session)
        db.session.commit()
        cred_id, session_id = cred.id, other_session.id
    login(client, intruder)
    token = csrf_token(client, "/compte")
    assert client.get(f"/compte/cles-d-acces/{cred_id}/nom").status_code == 404
    assert client.post(f"/compte/cles-d-acces/{cred_id}/nom", data={"name": "x", "csrf_token": token}).status_code == 404
    client.post(f"/compte/sessions/{session_id}/terminer", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(UserSession, session_id).ended_at is None
        assert db.session.get(Credential, cred_id) is not None
