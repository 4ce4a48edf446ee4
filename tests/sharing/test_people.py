"""Permanent grants (search as you type), blocks by RPPS, emergency settings."""

from __future__ import annotations

from core import access
from core.db import db
from core.grants import Block, EmergencySettings, Grant
from tests.helpers import HX, rows, token_of, traces


def test_search_by_name_or_rpps_returns_a_fragment(app, holder, professional):
    client, _ = holder
    pro = professional("81234567890")
    other = professional("19999999999")
    r = client.get("/partage/professionnels?q=" + pro["family_name"][:6].lower(), headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.startswith('<div id="pro-results"') and "81234567890" in html
    assert "<html" not in html
    assert "81234567890" in client.get("/partage/professionnels?q=812345", headers=HX).get_data(as_text=True)
    html = client.get("/partage/professionnels?q=8123", headers=HX).get_data(as_text=True)
    assert other["rpps"] not in html
    assert "pro-results" in client.get("/partage/professionnels?q=a", headers=HX).get_data(as_text=True)
    page = client.get("/partage/professionnels?q=81234567890").get_data(as_text=True)
    assert "<html" in page and "81234567890" in page  # without JavaScript: the whole page
    index = client.get("/partage").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:250ms, search"' in index


def test_grant_then_end(app, holder, professional):
    client, account = holder
    pro = professional("81234567891")
    pid = pro["id"]
    r = client.post("/partage/acces", data={"professional_id": pid, "csrf_token": token_of(client)})
    assert r.status_code == 303
    client.post("/partage/acces", data={"professional_id": pid, "csrf_token": token_of(client)})  # once only
    (grant,) = rows(app, Grant)
    assert grant.patient_id == account.patient_id and grant.professional_id == pid and grant.ended_at is None
    page = client.get("/partage").get_data(as_text=True)
    assert pro["name"] in page and "81234567891" in page
    found = client.get("/partage/professionnels?q=81234567891", headers=HX).get_data(as_text=True)
    assert "Has access" in found
    client.post(f"/partage/acces/{grant.id}/terminer", data={"csrf_token": token_of(client)})
    assert rows(app, Grant)[0].ended_at is not None
    assert len(traces(app, "grant_created")) == 1 and len(traces(app, "grant_ended")) == 1
    assert traces(app, "grant_created")[0].target_label == pro["name"]
    assert (
        client.post("/partage/acces", data={"professional_id": "nope", "csrf_token": token_of(client)}).status_code
        == 404
    )


def test_block_validates_the_rpps_and_unblocks(app, holder):
    client, account = holder
    r = client.post("/partage/blocages", data={"rpps": "1234", "csrf_token": token_of(client)}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and html.startswith('<form id="block-form"') and "exactly 11 digits" in html
    r = client.post("/partage/blocages", data={"rpps": "1234", "csrf_token": token_of(client)})
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)
    assert rows(app, Block) == []
    r = client.post(
        "/partage/blocages",
        data={"rpps": "123 456 789 01", "name": "Dr <i>Z</i>", "csrf_token": token_of(client)},
        headers=HX,
    )
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/partage")
    (block,) = rows(app, Block)
    assert block.rpps == "12345678901" and block.patient_id == account.patient_id
    page = client.get("/partage").get_data(as_text=True)
    assert "Dr &lt;i&gt;Z&lt;/i&gt;" in page and "12345678901" in page
    client.post(f"/partage/blocages/{block.id}/retirer", data={"csrf_token": token_of(client)})
    assert rows(app, Block) == []
    assert [e.detail["rpps"] for e in traces(app, "professional_blocked")] == ["12345678901"]
    assert len(traces(app, "professional_unblocked")) == 1


def test_a_block_stops_a_grant_at_once(app, holder, professional):

    client, account = holder
    pro = professional("81234567892")
    client.post("/partage/acces", data={"professional_id": pro["id"], "csrf_token": token_of(client)})
    client.post("/partage/blocages", data={"rpps": "81234567892", "csrf_token": token_of(client)})
    with app.test_request_context(method="POST"):
        assert access.blocked(account.patient_id, "81234567892")
        db.session.rollback()
    r = client.post("/partage/acces", data={"professional_id": pro["id"], "csrf_token": token_of(client)})
    assert r.status_code == 303
    assert "Blocked" in client.get("/partage").get_data(as_text=True)


def test_emergency_settings_row_made_on_first_save(app, holder):
    client, account = holder
    page = client.get("/partage").get_data(as_text=True)
    assert '<input checked id="allow_samu"' in page and '<input id="allow_hidden"' in page
    assert rows(app, EmergencySettings) == []
    client.post("/partage/urgence", data={"allow_samu": "y", "allow_hidden": "y", "csrf_token": token_of(client)})
    (settings,) = rows(app, EmergencySettings)
    assert (settings.allow_samu, settings.allow_others, settings.allow_hidden) == (True, False, True)
    client.post("/partage/urgence", data={"csrf_token": token_of(client)})
    (settings,) = rows(app, EmergencySettings)
    assert (settings.allow_samu, settings.allow_others, settings.allow_hidden) == (False, False, False)
    events = traces(app, "emergency_settings_updated")
    assert [e.detail for e in events] == [
        {"allow_samu": True, "allow_others": False, "allow_hidden": True},
        {"allow_samu": False, "allow_others": False, "allow_hidden": False},
    ]
    assert events[0].patient_id == account.patient_id
