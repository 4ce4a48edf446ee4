"""Making a share: fresh login, code shown once, only hashes kept, QR code, printed slip,
following and ending shares."""

from __future__ import annotations

import re
from datetime import timedelta

import segno
from flask import url_for
from werkzeug.routing import BuildError

from blueprints.sharing.services import qr_svg
from core import access, audit, clock
from core.db import db
from core.grants import Share, ShareUse
from tests.helpers import hashes, rows, share_on_screen, token_of, traces


def test_form_needs_a_fresh_login(holder):
    client, _ = holder
    assert client.get("/partage/nouveau").status_code == 200
    clock.advance(timedelta(minutes=6))
    r = client.get("/partage/nouveau")
    assert r.status_code in (302, 303) and "/compte/confirmer" in r.headers["Location"]
    r = client.post("/partage/nouveau", data={"documents": "all", "duration": "24h", "csrf_token": token_of(client)})
    assert r.status_code in (302, 303) and "/compte/confirmer" in r.headers["Location"]
    assert rows(client.application, Share) == []


def test_creating_shows_the_code_once_and_keeps_only_hashes(app, holder):
    client, account = holder
    r, code, token = share_on_screen(client, label="Dr Durand", measures="y", can_deposit="y")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    assert "will not be shown again" in html and "Dr Durand" in html
    (share,) = rows(app, Share)
    assert share.patient_id == account.patient_id and share.prefix == code[:4]
    assert (share.code_hash, share.link_hash) == hashes(app, code, token)
    assert share.scope == {"documents": "all", "categories": [], "summary": True, "measures": True}
    assert share.can_deposit and share.label == "Dr Durand"
    left = clock.aware(share.expires_at) - clock.utcnow()
    assert timedelta(hours=23, minutes=59) < left <= timedelta(hours=24)
    # gone for good: the overview never shows it again
    page = client.get("/partage").get_data(as_text=True)
    assert code not in page and code.replace("-", "") not in page and token not in page
    assert "Dr Durand" in page and "ends in" in page


def test_qr_code_is_inline_svg_carrying_the_link(app, holder):
    client, _ = holder
    with app.test_request_context(method="POST"):
        try:
            url_for("pro.access")
        except BuildError:  # the professional side must exist: the QR code points to it
            raise AssertionError("endpoint pro.access is not registered") from None
    r, code, token = share_on_screen(client)
    html = r.get_data(as_text=True)
    svg = re.search(r'<svg viewBox="[^"]+" class="qr">.*?</svg>', html, re.S)
    assert svg and "style" not in svg.group(0) and "<script" not in svg.group(0)

    with app.test_request_context("/", base_url="http://localhost"):
        link = url_for("pro.access", lien=token, _external=True)
        assert qr_svg(link) in html
    assert segno.make(link, error="m").version > 0 and token in link and "/pro/acces" in link


def test_categories_dates_and_validation(app, holder):
    client, _ = holder
    r, _, _ = share_on_screen(client, documents="categories")
    assert r.status_code == 422 and "Choose at least one kind of document" in r.get_data(as_text=True)
    r, _, _ = share_on_screen(client, documents="none", summary="")
    assert r.status_code == 422 and "Choose at least one thing to share" in r.get_data(as_text=True)
    r, _, _ = share_on_screen(client, duration="date", until="")
    assert r.status_code == 422
    past = (clock.paris_today() - timedelta(days=2)).isoformat()
    assert share_on_screen(client, duration="date", until=past)[0].status_code == 422
    far = (clock.paris_today() + timedelta(days=400)).isoformat()
    assert share_on_screen(client, duration="date", until=far)[0].status_code == 422
    day = (clock.paris_today() + timedelta(days=3)).isoformat()
    r, code, _ = share_on_screen(
        client, documents="categories", categories=["BIOLOGIE", "RADIO_SC"], duration="date", until=day
    )
    assert r.status_code == 200 and code
    (share,) = rows(app, Share)
    assert share.scope["categories"] == ["BIOLOGIE", "RADIO_SC"] and share.scope["documents"] == "categories"
    assert clock.paris(share.expires_at).date() == clock.paris_today() + timedelta(days=4)  # the end of that Paris day


def test_print_slip_is_a_pdf_and_needs_the_right_code(app, holder):
    client, _ = holder
    r, code, token = share_on_screen(client)
    (share,) = rows(app, Share)
    url = f"/partage/{share.id}/fiche"
    ok = client.post(url, data={"code": code, "token": token, "csrf_token": token_of(client)})
    assert ok.status_code == 200 and ok.content_type == "application/pdf" and ok.data.startswith(b"%PDF")
    wrong = code[:5] + ("0000-0000" if code[5:] != "0000-0000" else "1111-1111")
    for data in ({"code": wrong, "token": token}, {"code": code, "token": token + "x"}, {"code": code}):
        r = client.post(url, data={**data, "csrf_token": token_of(client)})
        assert r.status_code == 400 and not r.data.startswith(b"%PDF")


def test_revoke_one_then_all(app, holder):
    client, _ = holder
    share_on_screen(client, label="first")
    share_on_screen(client, label="second")
    share_on_screen(client, label="third")
    first, second, third = sorted(rows(app, Share), key=lambda s: s.label)
    r = client.post(f"/partage/{first.id}/revoquer", data={"csrf_token": token_of(client)})
    assert r.status_code == 303
    assert rows(app, Share, Share.id == first.id)[0].revoked_at is not None
    assert rows(app, Share, Share.id == second.id)[0].revoked_at is None
    page = client.get("/partage").get_data(as_text=True)
    assert "1 code ended recently" in page and "confirm-revoke-all" in page
    client.post("/partage/revoquer-tout", data={"csrf_token": token_of(client)})
    assert all(s.revoked_at is not None for s in rows(app, Share))
    (all_event,) = traces(app, "shares_revoked_all")
    assert all_event.detail["count"] == 2
    assert len(traces(app, "share_revoked")) == 1 and len(traces(app, "share_created")) == 3


def test_uses_show_who_and_what_was_opened(app, holder):
    client, account = holder
    share_on_screen(client, label="Cabinet")
    (share,) = rows(app, Share)

    with app.test_request_context(method="POST"):
        use = ShareUse(
            share_id=share.id,
            patient_id=account.patient_id,
            given_name="Alice",
            family_name="<b>Durand</b>",
            profession="medecin",
            rpps="10101010101",
        )
        db.session.add(use)
        db.session.flush()
        viewer = access.share_viewer(use.id)
        audit.record(viewer, "document_opened", target_label="Bilan sanguin")
        db.session.commit()
    page = client.get("/partage").get_data(as_text=True)
    assert "Alice &lt;b&gt;Durand&lt;/b&gt;" in page and "<b>Durand</b>" not in page
    assert "10101010101" in page and "Physician" in page
    assert "Document opened: “Bilan sanguin”" in page
    # the name and RPPS were typed with the code: the holder is told nobody checked them
    uses = page.split('class="share-uses"')[1].split("</div>")[0]
    assert "name and RPPS given by the person, not verified" in uses


def test_traces_never_hold_the_code_or_the_token(app, holder):
    client, _ = holder
    r, code, token = share_on_screen(client, label="Dr X")
    (share,) = rows(app, Share)
    client.post(f"/partage/{share.id}/fiche", data={"code": code, "token": token, "csrf_token": token_of(client)})
    client.post(f"/partage/{share.id}/revoquer", data={"csrf_token": token_of(client)})
    events = traces(app)
    (created,) = [e for e in events if e.action == "share_created"]
    assert created.detail["duration"] == "24h" and created.detail["scope"]["documents"] == "all"
    assert created.target_id == share.id and created.target_label == "Dr X"
    secrets = {code, code.replace("-", ""), token, share.code_hash, share.link_hash}
    for e in events:
        for column in e.__table__.columns:
            value = str(getattr(e, column.name))
            assert not any(s in value for s in secrets), (e.action, column.name)


def test_history_sentences(app, holder):
    client, _ = holder
    share_on_screen(client, label="Dr Y")
    page = client.get("/historique").get_data(as_text=True)
    assert "Access shared: “Dr Y”" in page
