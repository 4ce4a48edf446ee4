"""Server-side sessions: replay after logout, timeouts with a controlled clock, rotation."""

from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.db import db
from core.sessions import UserSession


def _cookie(client, app):
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def test_new_session_id_at_login(app, client, make_holder, login):
    account, _ = make_holder()
    client.get("/connexion")
    before = _cookie(client, app)
    login(client, account)
    after = _cookie(client, app)
    assert before != after and len(after) >= 43  # 256 bits, base64url
    stale = app.test_client()
    stale.set_cookie(app.config["SESSION_COOKIE_NAME"], before)
    assert stale.get("/").status_code == 302


def test_copied_cookie_is_refused_after_logout(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    stolen = _cookie(client, app)
    token = client.get("/compte").get_data(as_text=True).split('"X-CSRFToken": "')[1].split('"')[0]
    r = client.post("/deconnexion", data={"csrf_token": token})
    assert r.status_code == 303
    assert r.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    r = thief.get("/")
    assert r.status_code == 302 and "/connexion" in r.headers["Location"]


def test_idle_timeout(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    clock.advance(timedelta(minutes=14))
    assert client.get("/").status_code == 200  # activity: the idle timer restarts
    clock.advance(timedelta(minutes=14))
    assert client.get("/").status_code == 200
    clock.advance(timedelta(minutes=15, seconds=30))
    r = client.get("/")
    assert r.status_code == 302
    assert "inactivit" in client.get(r.headers["Location"]).get_data(as_text=True)  # told why
    with app.app_context():
        ended = db.session.scalars(
            select(UserSession).where(UserSession.account_id == account.id, UserSession.end_reason == "idle")
        ).all()
        assert len(ended) == 1


def test_polling_does_not_extend_idle(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    for _ in range(3):
        clock.advance(timedelta(minutes=4))
        r = client.get("/session/etat")
        assert r.status_code == 200 and r.json["authenticated"]
    assert client.get("/session/etat").json["idle_remaining"] <= 3 * 60  # polls did not reset it
    clock.advance(timedelta(minutes=3, seconds=30))  # 15.5 minutes since the last real activity
    assert client.get("/").status_code == 302


def test_idle_remaining_counts_down(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    clock.advance(timedelta(minutes=5))
    left = client.get("/session/etat").json["idle_remaining"]
    assert 9 * 60 <= left <= 10 * 60 + 1


def test_absolute_timeout_even_when_active(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    for _ in range(12 * 6):
        clock.advance(timedelta(minutes=10))
        if client.get("/").status_code != 200:
            break
    else:
        raise AssertionError("session outlived 12 hours")
    with app.app_context():
        reasons = db.session.scalars(select(UserSession.end_reason).where(UserSession.account_id == account.id)).all()
    assert "absolute" in reasons


def test_kiosk_idle_is_two_minutes(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    with app.app_context():
        rec = db.session.scalars(
            select(UserSession).where(UserSession.account_id == account.id, UserSession.ended_at.is_(None))
        ).one()
        rec.kiosk = True
        db.session.commit()
    clock.advance(timedelta(minutes=2, seconds=30))
    assert client.get("/").status_code == 302


def _last_active(app, account):
    with app.app_context():
        return db.session.scalar(
            select(UserSession.last_active_at).where(
                UserSession.account_id == account.id, UserSession.ended_at.is_(None)
            )
        )


def test_activity_is_written_at_most_once_per_touch_window(app, client, make_holder, login):
    """A page view inside the touch window writes nothing (no write transaction, no fsync per
    request); the next one after the window records the activity."""
    account, _ = make_holder()
    login(client, account)
    clock.freeze(clock.utcnow())
    start = _last_active(app, account)
    window = timedelta(seconds=app.config["SESSION_TOUCH_SECONDS"])
    clock.advance(window / 2)
    assert client.get("/").status_code == 200
    assert _last_active(app, account) == start
    clock.advance(window)
    assert client.get("/").status_code == 200
    assert _last_active(app, account) == clock.utcnow()


def test_polling_never_records_activity(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    start = _last_active(app, account)
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        assert client.get("/session/etat").status_code == 200
    assert _last_active(app, account) == start


def test_idle_timeout_counts_from_the_last_recorded_activity(app, client, make_holder, login):
    """Activity inside the touch window is not recorded, so the timeout can come at most one
    window early, never late."""
    account, _ = make_holder()
    login(client, account)
    clock.advance(timedelta(seconds=app.config["SESSION_TOUCH_SECONDS"] // 2))
    assert client.get("/").status_code == 200  # not recorded: inside the window
    clock.advance(timedelta(minutes=15, seconds=1) - timedelta(seconds=app.config["SESSION_TOUCH_SECONDS"] // 2))
    assert client.get("/").status_code == 302
