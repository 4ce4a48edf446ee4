"""What people write stays text (markup, scripts and htmx attributes are inert), and the
polls of the navigation and of an open conversation never keep a session alive."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import event

from blueprints.messaging import routes
from core import clock, db as carnet_db, sessions
from tests.helpers import HX
from tests.messaging.helpers import grant, reply, thread_id_of, unread, write_new

HOSTILE = (
    '<img src=x onerror="alert(1)">',
    '<div hx-get="/compte" hx-trigger="load" hx-target="body">x</div>',
    '<a href="javascript:alert(1)">lien</a>',
    "<script>alert(document.cookie)</script>",
    '{{ 7*7 }} <button hx-post="/deconnexion" hx-trigger="load">',
)


def test_hostile_text_in_subject_body_and_file_name_is_inert(app, people, login_as):
    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    pro_client, holder_client = app.test_client(), app.test_client()
    login_as(pro_client, pro)
    login_as(holder_client, holder)
    body = "\n".join(HOSTILE)
    r = write_new(
        pro_client,
        holder.patient_id,
        subject='<svg onload="alert(1)"> hx-get="/compte"',
        body=body,
        files=[(io.BytesIO(b"note"), '<img src=x onerror="alert(2)">.txt')],
    )
    tid = thread_id_of(r)
    for client in (holder_client, pro_client):
        for path, headers in (
            (f"/messages/{tid}", {}),
            (f"/messages/{tid}/nouveaux?vus=0", HX),
            ("/messages", {}),
            ("/", {}),
        ):
            html = client.get(path, headers=headers).get_data(as_text=True)
            assert "<img src=x" not in html and "<svg onload" not in html and "<script>alert" not in html, path
            assert 'hx-get="/compte"' not in html and 'hx-post="/deconnexion"' not in html, path
            assert 'href="javascript:' not in html, path
        page = client.get(f"/messages/{tid}").get_data(as_text=True)
        assert "&lt;div hx-get=&#34;/compte&#34;" in page or "&lt;div hx-get=&quot;/compte&quot;" in page
        # the messages are drawn where htmx processes nothing
        assert re.search(r'<ol class="msg-thread"[^>]*hx-disable', page)
        assert "{{ 7*7 }}" in page  # a template expression stays text


def test_the_polls_are_passive_views():
    assert getattr(routes.unread, "carnet_passive", False)
    assert getattr(routes.fresh, "carnet_passive", False)


def test_polling_never_extends_the_session(app, people, login_as, login):
    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    pro_client, holder_client = app.test_client(), app.test_client()
    login_as(pro_client, pro)
    tid = thread_id_of(write_new(pro_client, holder.patient_id))
    login(holder_client, holder)
    assert holder_client.get(f"/messages/{tid}").status_code == 200  # the last real activity
    for _ in range(3):
        clock.advance(timedelta(minutes=4))
        assert holder_client.get("/messages/non-lus", headers=HX).status_code == 200
        assert holder_client.get(f"/messages/{tid}/nouveaux?vus=1", headers=HX).status_code == 204
    assert holder_client.get("/session/etat").json["idle_remaining"] <= 3 * 60  # the polls did not reset it
    clock.advance(timedelta(minutes=4))  # 16 minutes after the last real activity: over
    ended = holder_client.get("/messages/non-lus", headers=HX)
    assert ended.status_code == 204 and "/connexion" in ended.headers["HX-Redirect"]


def test_a_poll_asks_for_no_write(app, people, login_as, monkeypatch):
    """A poll on a session due a touch writes nothing and asks for no write transaction (on
    SQLite, the next one would take the write lock); a real page still touches the session."""
    holder, *_ = people
    client = login_as(app.test_client(), holder)
    clock.advance(timedelta(minutes=2))
    asked, real = [], sessions.write_intent
    monkeypatch.setattr(sessions, "write_intent", lambda: (asked.append(True), real()))
    assert client.get("/messages/non-lus", headers=HX).status_code == 200
    assert not asked
    assert client.get("/messages").status_code == 200
    assert asked


def test_an_open_conversation_gets_new_messages_and_the_count_follows(app, people, login_as):
    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    pro_client, holder_client = app.test_client(), app.test_client()
    login_as(pro_client, pro)
    login_as(holder_client, holder)
    tid = thread_id_of(write_new(pro_client, holder.patient_id, body="Premier"))
    assert holder_client.get(f"/messages/{tid}").status_code == 200
    assert holder_client.get(f"/messages/{tid}/nouveaux?vus=1", headers=HX).status_code == 204

    reply(pro_client, tid, "Second message")
    assert unread(holder_client) == 1
    fresh = holder_client.get(f"/messages/{tid}/nouveaux?vus=1", headers=HX)
    assert fresh.status_code == 200 and "Second message" in fresh.get_data(as_text=True)
    assert '{"vus": "2"}' in fresh.get_data(as_text=True)  # the next poll asks from there
    assert holder_client.get(f"/messages/{tid}/nouveaux?vus=2", headers=HX).status_code == 204
    assert unread(holder_client) == 0  # read as it arrived on screen
    oob = holder_client.get("/messages/non-lus", headers=HX).get_data(as_text=True)
    assert oob.count('hx-swap-oob="true"') == 2 and "hidden" in oob


def test_reading_a_thread_asks_for_the_write_lock_before_writing(app, people, login_as):
    """Opening a conversation (its page or its poll, both GET) marks messages read: the write
    must come in a transaction that took SQLite's write lock up front (BEGIN IMMEDIATE waits
    for another writer), never as an upgrade of the read one (refused at once: a 500)."""

    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    pro_client, holder_client = app.test_client(), app.test_client()
    login_as(pro_client, pro)
    login_as(holder_client, holder)
    tid = thread_id_of(write_new(pro_client, holder.patient_id))
    with app.app_context():
        engine = carnet_db.db.engine
    upgrades = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")) and carnet_db._read_only.get():
            upgrades.append(statement.split()[1])

    event.listen(engine, "before_cursor_execute", watch)
    try:
        assert holder_client.get(f"/messages/{tid}/nouveaux?vus=0", headers=HX).status_code in (200, 204)
        assert unread(holder_client) == 0  # it did mark them read
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert upgrades == []
