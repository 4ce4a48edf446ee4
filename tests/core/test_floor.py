"""The fixed cost every logged-in request pays (docs/performance.md, 9 onwards):
each rule that keeps it low, and that the protections it touches still hold."""

from __future__ import annotations

# --- 9. Flask-Login reads its user from the session record alone ---------------------------


def test_the_user_comes_from_the_record_without_the_stock_identifier(app, holder, monkeypatch):
    """The stock loader hashed the address and user agent (SHA-512) on every request for a
    session protection Carnet turns off; the record is the protection."""
    client, account = holder
    manager = app.login_manager

    def refuse():
        raise AssertionError("session identifier computed on a request")

    monkeypatch.setattr(manager, "_session_identifier_generator", refuse)
    r = client.get("/session/etat")
    assert r.status_code == 200 and r.get_json()["authenticated"] is True
    assert client.get("/").status_code == 200


def test_an_ended_record_still_logs_nobody_in(app, holder):
    from core import sessions
    from core.db import db

    client, account = holder
    with app.app_context():
        assert sessions.end_for_account(account.id) == 1
        db.session.commit()
    assert client.get("/session/etat").get_json()["authenticated"] is False
    assert client.get("/").status_code in (302, 303)
