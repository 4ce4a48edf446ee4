"""Who may open the sharing screens: the holder, on their own rows only."""

from __future__ import annotations

from core.db import db
from core.grants import Block, Grant, Share
from core.notify import Notification
from tests.helpers import csrf_token, rows, share_on_screen, token_of

GETS = ("/partage", "/partage/nouveau", "/partage/professionnels?q=dr")
POSTS = (
    "/partage/nouveau",
    "/partage/revoquer-tout",
    "/partage/acces",
    "/partage/blocages",
    "/partage/urgence",
    "/partage/x/fiche",
    "/partage/x/revoquer",
    "/partage/acces/x/terminer",
    "/partage/blocages/x/retirer",
    "/partage/notifications/x/imprevu",
)


def test_anonymous_goes_to_login(client):
    token = csrf_token(client)
    for url in GETS:
        r = client.get(url)
        assert r.status_code in (302, 303) and "/connexion" in r.headers["Location"], url
    for url in POSTS:
        r = client.post(url, data={"csrf_token": token})
        assert r.status_code in (302, 303) and "/connexion" in r.headers["Location"], url


def test_professional_is_refused_everywhere(app, client, make_pro, login_as):
    login_as(client, make_pro())
    token = csrf_token(client, "/")
    for url in GETS:
        assert client.get(url).status_code == 403, url
    for url in POSTS:
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url


def test_another_holders_ids_are_not_found(app, client, make_holder, login_as, professional):

    owner, _ = make_holder()
    owner_client = login_as(app.test_client(), owner)
    _r, code, token = share_on_screen(owner_client)
    pro = professional("81234567810")
    owner_client.post("/partage/acces", data={"professional_id": pro["id"], "csrf_token": token_of(owner_client)})
    owner_client.post("/partage/blocages", data={"rpps": "12345678901", "csrf_token": token_of(owner_client)})
    with app.app_context():
        note = Notification(patient_id=owner.patient_id, kind="access", actor_name="Dr A")
        db.session.add(note)
        db.session.commit()
        note_id = note.id
    (share,), (grant,), (block,) = rows(app, Share), rows(app, Grant), rows(app, Block)
    intruder, _ = make_holder()
    login_as(client, intruder)
    t = token_of(client)
    for url, data in (
        (f"/partage/{share.id}/fiche", {"code": code, "token": token}),
        (f"/partage/{share.id}/revoquer", {}),
        (f"/partage/acces/{grant.id}/terminer", {}),
        (f"/partage/blocages/{block.id}/retirer", {}),
        (f"/partage/notifications/{note_id}/imprevu", {}),
    ):
        assert client.post(url, data={**data, "csrf_token": t}).status_code == 404, url
    client.post("/partage/revoquer-tout", data={"csrf_token": t})
    assert rows(app, Share)[0].revoked_at is None and rows(app, Grant)[0].ended_at is None
    assert len(rows(app, Block)) == 1 and rows(app, Notification)[0].flagged_at is None
    page = client.get("/partage").get_data(as_text=True)
    assert pro["name"] not in page and "12345678901" not in page and "Dr A" not in page


def test_navigation_has_sharing_and_no_history_entry(holder):
    client, _ = holder
    html = client.get("/historique").get_data(as_text=True)
    nav = html.split('class="bottomnav"', 1)[1].split("</nav>", 1)[0]
    assert nav.count("<li>") == 5 and 'href="/partage" aria-current="page"' in nav and "/historique" not in nav
    page = client.get("/partage").get_data(as_text=True)
    assert 'href="/historique"' in page and 'href="/historique"' in client.get("/").get_data(as_text=True)
