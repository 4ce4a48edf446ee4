"""Secure messaging: who may write to whom, reading, read receipts, unread counts, archive,
search, closing, refusing, and what a revoked grant or a block changes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from blueprints.messaging.models import Message, Thread
from core import clock, notify
from core.db import db
from core.grants import Block, ShareUse
from tests.helpers import HX, csrf_token, rows, traces, use_code
from tests.messaging.helpers import end_grant, grant, reply, thread_id_of, unread, write_new


def test_professional_with_a_grant_writes_and_the_holder_reads_and_replies(app, people, login_as):
    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    pro_client, holder_client = app.test_client(), app.test_client()
    login_as(pro_client, pro)
    login_as(holder_client, holder)

    r = write_new(pro_client, holder.patient_id, body="<script>alert(1)</script> Bonjour")
    assert r.status_code == 303, r.get_data(as_text=True)
    tid = thread_id_of(r)
    assert unread(holder_client) == 1
    page = holder_client.get("/messages").get_data(as_text=True)
    assert "Résultats" in page and "is-unread" in page

    shown = holder_client.get(f"/messages/{tid}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bonjour" in shown and "<script>alert(1)" not in shown
    assert unread(holder_client) == 0
    # the professional sees the read receipt
    assert "Lu " in pro_client.get(f"/messages/{tid}").get_data(as_text=True)

    assert reply(holder_client, tid, "Merci docteur").status_code == 303
    assert unread(pro_client) == 1
    assert [m.sender for m in rows(app, Message)] == ["professional", "holder"]
    assert {t.action for t in traces(app)} >= {"message_sent", "message_thread_read"}


def test_who_may_start_a_thread(app, people, login_as):
    holder, other, pro, stranger = people
    holder_client, pro_client, stranger_client = app.test_client(), app.test_client(), app.test_client()
    login_as(holder_client, holder)
    login_as(pro_client, pro)
    login_as(stranger_client, stranger)
    # nobody has access: nobody may start
    assert write_new(holder_client, pro.professional_id).status_code == 422
    assert write_new(pro_client, holder.patient_id).status_code == 422
    # a grant opens both ways, for that professional only
    grant(app, holder, pro)
    assert write_new(holder_client, pro.professional_id).status_code == 303
    assert write_new(stranger_client, holder.patient_id).status_code == 422
    # no holder-to-holder: a patient's id is no professional
    assert write_new(holder_client, other.patient_id).status_code == 422
    assert len(rows(app, Thread)) == 1


def test_a_record_opened_by_code_lets_its_professional_write_for_30_days(app, people, login_as, make_share):
    holder, _other, pro, _stranger = people
    _sid, code, _token = make_share(holder)
    with app.test_request_context(method="POST"):
        rpps = db.session.merge(pro).professional.rpps
    use_code(app.test_client(), code, rpps=rpps)
    assert rows(app, ShareUse)
    pro_client = app.test_client()
    login_as(pro_client, pro)
    assert write_new(pro_client, holder.patient_id).status_code == 303
    clock.freeze(clock.utcnow() + timedelta(days=31))
    login_as(pro_client, pro)  # the earlier session ended long ago
    assert write_new(pro_client, holder.patient_id, subject="Plus tard").status_code == 422


def test_revoked_grant_stops_new_messages_but_keeps_history_for_the_holder(app, people, login_as):
    holder, _other, pro, _stranger = people
    grant_id = grant(app, holder, pro)
    holder_client, pro_client = app.test_client(), app.test_client()
    login_as(holder_client, holder)
    login_as(pro_client, pro)
    tid = thread_id_of(write_new(pro_client, holder.patient_id, body="Premier message"))
    end_grant(app, holder, grant_id)
    assert reply(pro_client, tid, "Encore moi").status_code == 422
    assert write_new(pro_client, holder.patient_id, subject="Nouveau").status_code == 422
    page = holder_client.get(f"/messages/{tid}")
    assert page.status_code == 200 and "Premier message" in page.get_data(as_text=True)
    # the professional wrote before: the holder may still write to them, and they may answer there
    assert reply(holder_client, tid, "Une question encore").status_code == 303
    assert reply(pro_client, tid, "Je vous réponds").status_code == 303


def test_each_sees_only_their_threads(app, people, login_as):
    holder, other, pro, stranger = people
    grant(app, holder, pro)
    pro_client = app.test_client()
    login_as(pro_client, pro)
    tid = thread_id_of(write_new(pro_client, holder.patient_id, subject="Confidentiel-QX"))
    for account in (other, stranger):
        c = app.test_client()
        login_as(c, account)
        assert c.get(f"/messages/{tid}").status_code == 404
        assert "Confidentiel-QX" not in c.get("/messages").get_data(as_text=True)
        assert reply(c, tid, "intrus").status_code == 404
    assert len(rows(app, Message)) == 1


def test_refusal_and_block(app, people, login_as):
    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    holder_client, pro_client = app.test_client(), app.test_client()
    login_as(holder_client, holder)
    login_as(pro_client, pro)
    tid = thread_id_of(write_new(pro_client, holder.patient_id))
    token = csrf_token(holder_client, f"/messages/{tid}")
    assert holder_client.post(f"/messages/{tid}/refuser", data={"csrf_token": token}).status_code == 303
    assert write_new(pro_client, holder.patient_id, subject="Autre").status_code == 422
    assert reply(pro_client, tid, "Dans ce fil, oui").status_code == 303  # open threads go on
    # blocking from the conversation itself, as Sharing would
    assert holder_client.post(f"/messages/{tid}/bloquer", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        (block,) = rows(app, Block)
        assert block.rpps == db.session.merge(pro).professional.rpps and block.name.startswith("Dr ")
    assert pro_client.get(f"/messages/{tid}").status_code == 404
    assert holder_client.get(f"/messages/{tid}").status_code == 200  # history stays the holder's
    assert reply(holder_client, tid, "bloqué").status_code == 422


def test_close_archive_and_search(app, people, login_as):
    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    holder_client, pro_client = app.test_client(), app.test_client()
    login_as(holder_client, holder)
    login_as(pro_client, pro)
    tid = thread_id_of(write_new(pro_client, holder.patient_id, subject="Échographie", body="Rendez-vous pris"))
    write_new(pro_client, holder.patient_id, subject="Vaccin", body="Rappel tétanos")
    assert "Vaccin" not in holder_client.get("/messages?q=echographie").get_data(as_text=True)
    found = holder_client.get("/messages?q=RENDEZ", headers=HX).get_data(as_text=True)
    assert "Échographie" in found
    # how many, for the page's status region (French plurals), and said when nothing matches
    assert 'data-results-count="1 conversation trouvée"' in found
    both = holder_client.get("/messages", headers=HX).get_data(as_text=True)
    assert 'data-results-count="2 conversations trouvées"' in both
    none = holder_client.get("/messages?q=radiographie", headers=HX).get_data(as_text=True)
    assert 'data-results-count="Aucune conversation trouvée"' in none
    page = holder_client.get("/messages").get_data(as_text=True)
    assert page.count("data-results-status") == 1 and 'role="status"' in page
    token = csrf_token(holder_client, f"/messages/{tid}")
    holder_client.post(f"/messages/{tid}/archiver", data={"csrf_token": token})
    assert "Échographie" not in holder_client.get("/messages").get_data(as_text=True)
    assert "Échographie" in holder_client.get("/messages?archives=1").get_data(as_text=True)
    # the holder cannot close; the professional can, and then nobody writes
    assert holder_client.post(f"/messages/{tid}/fermer", data={"csrf_token": token}).status_code == 403
    pro_token = csrf_token(pro_client, f"/messages/{tid}")
    assert pro_client.post(f"/messages/{tid}/fermer", data={"csrf_token": pro_token}).status_code == 303
    assert reply(holder_client, tid, "après").status_code == 422
    assert reply(pro_client, tid, "après").status_code == 422


def test_new_message_mails_the_holder_without_its_text(app, people, login_as):

    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    pro_client = app.test_client()
    login_as(pro_client, pro)
    write_new(pro_client, holder.patient_id, subject="Bilan", body="Votre glycémie est à 1,02 g/L")
    with app.app_context():
        mail = notify.latest_to(holder.email)
    assert mail is not None and "Bilan" in mail.subject + mail.body and "glycémie" not in mail.body


def test_unread_poll_is_one_query(app, people, login_as):
    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    pro_client, holder_client = app.test_client(), app.test_client()
    login_as(pro_client, pro)
    login_as(holder_client, holder)
    for n in range(3):
        write_new(pro_client, holder.patient_id, subject=f"Sujet {n}")
    assert unread(holder_client) == 3
    with app.app_context():
        assert db.session.scalar(select(Thread.holder_unread).limit(1)) == 1
