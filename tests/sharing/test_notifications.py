"""Notifications: listed newest first and marked read, "this wasn't expected" with its ways
out, and the card on the home screen."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from core.db import db
from core.grants import Grant, Share
from core.notify import Notification
from tests.helpers import HX, rows, share_on_screen, token_of, traces


def notify(app, patient_id, **kw) -> str:

    with app.app_context():
        note = Notification(
            patient_id=patient_id,
            kind=kw.pop("kind", "access"),
            actor_name=kw.pop("name", "Dr Alice"),
            actor_rpps=kw.pop("rpps", "10101010101"),
            actor_profession="medecin",
            **kw,
        )
        db.session.add(note)
        db.session.commit()
        return note.id


def test_list_newest_first_then_read(app, holder):
    client, account = holder
    notify(app, account.patient_id, name="Dr Older")
    clock.advance(timedelta(minutes=1))
    notify(app, account.patient_id, name="Dr Newer", kind="deposit")
    page = client.get("/partage").get_data(as_text=True)
    assert page.index("Dr Newer added a document") < page.index("Dr Older opened your space")
    assert page.count("share-notice-unread") == 2
    assert all(n.read_at is not None for n in rows(app, Notification))
    assert "share-notice-unread" not in client.get("/partage").get_data(as_text=True)


def test_flag_traces_and_offers_the_ways_out(app, holder):
    client, account = holder
    share_on_screen(client, label="Cabinet")
    (share,) = rows(app, Share)
    note_id = notify(app, account.patient_id, grant_id=share.id, rpps="10101010101")
    r = client.post(f"/partage/notifications/{note_id}/imprevu", data={"csrf_token": token_of(client)}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.startswith("<li") and "not expected" in html
    assert f"/partage/{share.id}/revoquer" in html and "/partage/blocages" in html and 'value="10101010101"' in html
    (note,) = rows(app, Notification)
    assert note.flagged_at is not None
    (event,) = traces(app, "access_flagged")
    assert event.target_type == "notifications" and event.target_id == note_id
    assert event.detail["grant_id"] == share.id
    # the ways out work from there
    client.post(f"/partage/{share.id}/revoquer", data={"csrf_token": token_of(client)})
    client.post("/partage/blocages", data={"rpps": "10101010101", "name": "Dr Alice", "csrf_token": token_of(client)})
    page = client.get("/partage").get_data(as_text=True)
    assert f'/partage/{share.id}/revoquer"' not in page.split('id="notifications"')[1].split("</section>")[0]
    assert "Block this professional" not in page
    # flagging twice leaves one trace; without htmx it goes back to the page
    r = client.post(f"/partage/notifications/{note_id}/imprevu", data={"csrf_token": token_of(client)})
    assert r.status_code == 303 and len(traces(app, "access_flagged")) == 1


def test_flag_on_a_grant_offers_to_end_it(app, holder, professional):
    client, account = holder
    pro = professional("81234567899")
    client.post("/partage/acces", data={"professional_id": pro["id"], "csrf_token": token_of(client)})
    (grant,) = rows(app, Grant)
    note_id = notify(app, account.patient_id, grant_id=grant.id, rpps=pro["rpps"])
    html = client.post(
        f"/partage/notifications/{note_id}/imprevu", data={"csrf_token": token_of(client)}, headers=HX
    ).get_data(as_text=True)
    assert f"/partage/acces/{grant.id}/terminer" in html


def test_dashboard_card(app, holder):
    client, account = holder
    home = client.get("/").get_data(as_text=True)
    assert 'id="card-notifications"' in home and "you will be told here" in home
    notify(app, account.patient_id, name="Dr <b>Bold</b>")
    home = client.get("/").get_data(as_text=True)
    card = home.split('id="card-notifications"')[1].split("</section>")[0]
    assert "1 new" in card and "Dr &lt;b&gt;Bold&lt;/b&gt;" in card and "/partage#notifications" in home
    client.get("/partage")
    card = client.get("/").get_data(as_text=True).split('id="card-notifications"')[1].split("</section>")[0]
    assert "Nothing new" in card
