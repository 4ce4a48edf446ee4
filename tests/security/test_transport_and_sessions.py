"""HSTS in production, and ending a session that is not the holder's."""

from sqlalchemy import select

from app import create_app
from core.db import db
from core.sessions import UserSession
from tests.helpers import csrf_token


def test_production_sends_hsts(tmp_path, monkeypatch):

    for key in list(__import__("os").environ):
        if key.startswith("CARNET_"):
            monkeypatch.delenv(key)
    prod = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "s" * 48,
            "CODE_PEPPER": "p" * 48,
            "WEBAUTHN_ORIGIN": "https://carnet.example",
            "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
            "AUDIT_KEY": "a" * 43,
        },
        instance_path=str(tmp_path),
    )
    with prod.app_context():
        db.create_all()
    for path in ("/connexion", "/static/css/app.css", "/nulle-part"):
        r = prod.test_client().get(path, base_url="https://carnet.example")
        assert r.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", path


def test_development_over_http_sends_no_hsts(client):
    """HSTS on http://localhost would pin every local app to https for a year."""
    assert "Strict-Transport-Security" not in client.get("/connexion").headers


def _live(app, account_id):
    with app.app_context():
        return db.session.scalars(
            select(UserSession.id).where(UserSession.account_id == account_id, UserSession.ended_at.is_(None))
        ).all()


def test_ending_someone_elses_session_is_404_and_changes_nothing(app, client, make_holder, login):
    me, _ = make_holder()
    other, _ = make_holder()
    theirs = app.test_client()
    login(theirs, other)
    login(client, me)
    token = csrf_token(client, "/compte")
    [their_session] = _live(app, other.id)
    for sid in (their_session, "00000000-0000-4000-8000-000000000000", "pas-un-identifiant"):
        r = client.post(f"/compte/sessions/{sid}/terminer", data={"csrf_token": token}, headers={"HX-Request": "true"})
        assert r.status_code == 404, sid
    assert _live(app, other.id) == [their_session]
    assert theirs.get("/").status_code == 200
    assert client.get("/").status_code == 200


def test_ending_my_own_other_session_still_works(app, client, make_holder, login):
    me, _ = make_holder()
    phone = app.test_client()
    login(phone, me)
    login(client, me)
    token = csrf_token(client, "/compte")
    [current] = [
        s
        for s in _live(app, me.id)
        if f"/compte/sessions/{s}/terminer" not in client.get("/compte").get_data(as_text=True)
    ]
    [other] = [s for s in _live(app, me.id) if s != current]
    r = client.post(f"/compte/sessions/{current}/terminer", data={"csrf_token": token})
    assert r.status_code == 200 and client.get("/").status_code == 200  # my own session: nothing ends
    r = client.post(f"/compte/sessions/{other}/terminer", data={"csrf_token": token})
    assert r.status_code == 200 and "appareil" in r.get_data(as_text=True)
    assert phone.get("/").status_code == 302
