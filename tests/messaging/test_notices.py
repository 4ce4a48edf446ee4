"""A professional's new message is also a card in the holder's notifications: one card per
professional and Paris day (the home's card and the Sharing page's feed), leading to the
conversation, read once the conversations it names are read. The navigation's unread count
of messages is unchanged; the holder's choice "not told" keeps the card muted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from blueprints.messaging.models import Thread
from core import clock, notify
from core.db import db
from tests.helpers import rows
from tests.messaging.helpers import grant, reply, thread_id_of, unread, write_new

MORNING = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # 9:00 in Paris


def _cards(app, patient_id):
    return rows(
        app,
        notify.Notification,
        notify.Notification.patient_id == patient_id,
        notify.Notification.kind == "message",
    )


def _clients(app, people, login_as):
    holder, _other, pro, stranger = people
    grant(app, holder, pro)
    grant(app, holder, stranger)
    pro_client, stranger_client, holder_client = app.test_client(), app.test_client(), app.test_client()
    login_as(pro_client, pro)
    login_as(stranger_client, stranger)
    login_as(holder_client, holder)
    return holder, pro_client, stranger_client, holder_client


def test_one_card_per_professional_and_day_leading_to_the_thread(app, people, login_as):
    clock.freeze(MORNING)
    holder, pro_client, stranger_client, holder_client = _clients(app, people, login_as)
    first = thread_id_of(write_new(pro_client, holder.patient_id, subject="Vos résultats"))
    reply(pro_client, first, "Un complément")
    second = thread_id_of(write_new(pro_client, holder.patient_id, subject="Ordonnance"))
    write_new(stranger_client, holder.patient_id, subject="Rendez-vous de contrôle")
    cards = _cards(app, holder.patient_id)
    assert len(cards) == 2  # one per professional
    mine = next(c for c in cards if c.detail["subject"] == "Ordonnance")
    assert mine.detail["count"] == 3 and mine.detail["threads"] == [second, first] and mine.read_at is None
    # the Sharing page's feed and the home card say it and lead to the latest conversation
    home = holder_client.get("/").get_data(as_text=True)
    card = home.split('id="card-notifications"')[1].split("</section>")[0]
    assert "2 nouvelles" in card and "Lire la conversation" in card  # the latest: the other professional's
    feed = holder_client.get("/partage").get_data(as_text=True)
    assert "vous a écrit 3 fois" in feed and "«\u00a0Ordonnance\u00a0»" in feed
    assert f'href="/messages/{second}"' in feed and "Lire la conversation" in feed
    assert "Rendez-vous de contrôle" in feed
    # the navigation's count is still the messages' own
    assert unread(holder_client) == 4
    # the next day: a new card
    clock.freeze(MORNING + timedelta(days=1))
    login_as(pro_client, people[2])
    reply(pro_client, first, "Le lendemain")
    assert len(_cards(app, holder.patient_id)) == 3


def test_the_card_is_read_when_the_conversations_it_names_are(app, people, login_as):
    clock.freeze(MORNING)
    holder, pro_client, _stranger_client, holder_client = _clients(app, people, login_as)
    first = thread_id_of(write_new(pro_client, holder.patient_id, subject="Vos résultats"))
    second = thread_id_of(write_new(pro_client, holder.patient_id, subject="Ordonnance"))
    holder_client.get(f"/messages/{first}")
    [card] = _cards(app, holder.patient_id)
    assert card.read_at is None  # "Ordonnance" still waits
    holder_client.get(f"/messages/{second}")
    [card] = _cards(app, holder.patient_id)
    assert card.read_at is not None
    # a new message brings it back as new
    reply(pro_client, second, "Une précision")
    [card] = _cards(app, holder.patient_id)
    assert card.read_at is None and card.detail["count"] == 3


def test_the_holders_own_messages_make_no_card_and_not_told_mutes_it(app, people, login_as):
    clock.freeze(MORNING)
    holder, pro_client, _stranger_client, holder_client = _clients(app, people, login_as)
    tid = thread_id_of(write_new(pro_client, holder.patient_id))
    reply(holder_client, tid, "Merci")
    assert [c.detail["count"] for c in _cards(app, holder.patient_id)] == [1]
    with app.app_context():
        notify.save_preferences(holder.patient_id, {"message": "none"})
        db.session.commit()
    reply(pro_client, tid, "Bonne journée")
    [card] = _cards(app, holder.patient_id)
    assert card.muted and "Bonne journée" not in holder_client.get("/partage").get_data(as_text=True)
    assert "vous a écrit" not in holder_client.get("/partage").get_data(as_text=True)
    assert rows(app, Thread)[0].holder_unread == 1  # the conversation itself is untouched


def test_both_homes_show_the_latest_conversation_in_the_same_card(app, people, login_as):
    """The holder's and the professional's homes draw one messages card (dashboard/_messages_card.html),
    each with its own words when there is no conversation yet."""
    clock.freeze(MORNING)
    holder, pro_client, _stranger_client, holder_client = _clients(app, people, login_as)

    def card(client):
        return client.get("/").get_data(as_text=True).split('id="card-messages"')[1].split("</section>")[0]

    assert "Écrivez en toute sécurité aux professionnels" in card(holder_client)
    assert "Écrivez en toute sécurité à vos patients" in card(pro_client)
    write_new(pro_client, holder.patient_id, subject="Vos résultats")
    holder_card, pro_card = card(holder_client), card(pro_client)
    assert "1 message non lu" in holder_card and "Vos résultats" in holder_card
    assert "Rien de nouveau" in pro_card and "Vos résultats" in pro_card
