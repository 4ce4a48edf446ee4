"""The home screen: the figures of its cards, read through statements built once."""

from datetime import timedelta

from core import clock


def test_home_shows_this_holders_figures_only(app, client, make_holder, login_as):
    """Statements are built once and shared: each holder still sees only their own space."""
    first, _ = make_holder(given_names="Aurore")
    second, _ = make_holder(given_names="Bastien")
    login_as(client, first)
    other = login_as(app.test_client(), second)
    other.get("/")  # builds and caches the statements with the other holder
    page = client.get("/").get_data(as_text=True)
    assert "Aurore" in page and "Bastien" not in page
    assert "1 session active" in page or "1 active session" in page


def test_active_sessions_leave_the_count_when_idle(app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account)
    clock.advance(timedelta(minutes=10))
    second = login_as(app.test_client(), account)
    page = second.get("/").get_data(as_text=True)
    assert "2 sessions actives" in page or "2 active sessions" in page
    clock.advance(timedelta(minutes=6))  # the first one is 16 minutes idle now
    page = second.get("/").get_data(as_text=True)
    assert "1 session active" in page or "1 active session" in page


def test_previous_login_is_the_one_before_this_session(app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account)
    assert "first login" in client.get("/").get_data(as_text=True) or "première connexion" in client.get("/").get_data(
        as_text=True
    )
    clock.advance(timedelta(days=3))
    again = login_as(app.test_client(), account)
    page = again.get("/").get_data(as_text=True)
    assert "first login" not in page and "première connexion" not in page


def test_every_visit_builds_the_page_afresh(app, client, make_holder, login):
    """No response cache: a value written a second ago (here without any trace, as a
    background import writes between its start and end traces) shows on the next visit."""
    from blueprints.measures import kinds
    from blueprints.measures.models import Measure
    from core.db import db

    account, _ = make_holder()
    login(client, account)
    assert "72,4" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        weight = kinds.get("weight")
        db.session.add(
            Measure(
                patient_id=account.patient_id,
                kind="weight",
                taken_at=int(clock.utcnow().timestamp()),
                utc_offset=60,
                value=72.4,
                source="apple",
                dedup=kinds.dedup_key(weight, 72.4, None, None),
            )
        )
        db.session.commit()
    assert "72,4" in client.get("/").get_data(as_text=True)
