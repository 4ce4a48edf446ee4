"""The test machinery itself: login_as leaves the session a real login leaves, and the
factories go through the services (the traces they write say so)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.audit import AuditEvent
from core.db import db
from core.sessions import UserSession
from tests.helpers import csrf_token, events


def _live_sessions(app, account_id):
    with app.app_context():
        return list(
            db.session.scalars(
                select(UserSession).where(UserSession.account_id == account_id, UserSession.ended_at.is_(None))
            )
        )


def _session_columns(app, account_id):
    (record,) = _live_sessions(app, account_id)
    return {
        "kiosk": record.kiosk,
        "fresh": record.fresh_at == record.authenticated_at,
        "data": sorted(set(record.data) - {"csrf_token"}),
    }  # the login form's token, made on its page


def test_login_as_leaves_the_session_of_a_real_login(app, make_holder, login, login_as):
    real, _ = make_holder()
    direct, _ = make_holder()
    real_client, direct_client = login(app.test_client(), real), login_as(app.test_client(), direct)
    assert _session_columns(app, real.id) == _session_columns(app, direct.id)
    for client in (real_client, direct_client):
        assert client.get("/").status_code == 200
        assert client.get("/connexion").status_code in (302, 303)  # already logged in
    logins = {e.account_id: e.detail for e in events(app, "login")}
    assert logins[real.id] == logins[direct.id] == {"method": "password+otp"}


def test_login_as_is_fresh_unless_asked_otherwise(app, make_holder, login_as):
    account, _ = make_holder()
    fresh = login_as(app.test_client(), account)
    token = csrf_token(fresh, "/compte")
    new = "un tout nouveau mot de passe"
    r = fresh.post("/compte/mot-de-passe", data={"password": new, "confirm": new, "csrf_token": token})
    assert r.status_code == 303 and "/compte/confirmer" not in r.headers["Location"]

    other, _ = make_holder()
    stale = login_as(app.test_client(), other, fresh=False)
    token = csrf_token(stale, "/compte")
    r = stale.post("/compte/mot-de-passe", data={"password": new, "confirm": new, "csrf_token": token})
    assert r.status_code == 303 and "/compte/confirmer" in r.headers["Location"]


def test_a_session_from_login_as_times_out_like_any_other(app, make_holder, login_as):
    account, _ = make_holder()
    client = login_as(app.test_client(), account)
    clock.advance(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    r = client.get("/")
    assert r.status_code in (302, 303) and "/connexion" in r.headers["Location"]


def test_factories_write_through_the_services(app, make_holder, make_document, make_measure, make_share):
    account, _ = make_holder()
    doc = make_document(account, title="Ordonnance")
    make_measure(account.patient_id, "weight", 70.5)
    share_id, code, token = make_share(account)
    assert doc.title == "Ordonnance" and code and token
    with app.app_context():
        actions = {
            e.action: e
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.patient_id == account.patient_id))
        }
    assert {"document_added", "measure_added", "share_created"} <= set(actions)
    assert actions["share_created"].target_id == share_id
