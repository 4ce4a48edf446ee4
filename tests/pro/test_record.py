"""A record as the professional sees it: the share's scope, safe file serving, traces, deposits,
and revocation or expiry taking effect on the next click."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from blueprints.documents.models import Document
from blueprints.history.actions import SENTENCES
from core import blobs, clock, grants, notify
from core.db import db
from tests.helpers import RPPS, events, use_code
from tests.samples import pdf_bytes


def _open(client, make_share, space, **kw):
    share_id, code, _ = make_share(space["patient_id"], **kw)
    assert use_code(client, code).status_code == 303
    return share_id


def _csrf(html: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def test_only_the_shared_categories_and_never_hidden_documents(app, client, space, make_share):
    sid = _open(
        client,
        make_share,
        space,
        scope={"documents": "categories", "categories": ["BIOLOGIE"], "summary": False, "measures": False},
    )
    html = client.get(f"/pro/dossier/{sid}/documents").get_data(as_text=True)
    assert "Bilan sanguin" in html and "Ordonnance" not in html and "confidentiel" not in html
    assert client.get(f"/pro/dossier/{sid}/documents/{space['bio']}").status_code == 200
    for doc in ("rx", "hidden"):
        for tail in ("", "/apercu", "/telecharger"):
            assert client.get(f"/pro/dossier/{sid}/documents/{space[doc]}{tail}").status_code == 404
    assert client.get(f"/pro/dossier/{sid}/resume").status_code == 403
    assert client.get(f"/pro/dossier/{sid}/mesures").status_code == 403
    assert client.get(f"/pro/dossier/{sid}/mesures/poids/graphique.svg").status_code == 403
    assert client.get(f"/pro/dossier/{sid}/deposer").status_code == 403
    overview = client.get(f"/pro/dossier/{sid}").get_data(as_text=True)
    assert f"/pro/dossier/{sid}/resume" not in overview and f"/pro/dossier/{sid}/deposer" not in overview


def test_all_documents_still_leave_hidden_ones_out(client, space, make_share):
    sid = _open(client, make_share, space)
    html = client.get(f"/pro/dossier/{sid}/documents").get_data(as_text=True)
    assert "Bilan sanguin" in html and "Ordonnance" in html and "confidentiel" not in html


def test_another_access_id_is_not_found(client, space, make_share, make_holder):
    sid = _open(client, make_share, space)
    other, _ = make_holder()
    other_sid, _, _ = make_share(other.patient_id)
    assert client.get(f"/pro/dossier/{other_sid}").status_code == 404
    assert client.get(f"/pro/dossier/{other_sid}/documents/{space['bio']}").status_code == 404
    assert client.get(f"/pro/dossier/{sid}").status_code == 200


def test_files_are_served_with_the_holders_safe_headers(client, space, make_share):
    sid = _open(client, make_share, space)
    dl = client.get(f"/pro/dossier/{sid}/documents/{space['bio']}/telecharger")
    assert dl.status_code == 200 and dl.data.startswith(b"%PDF")
    assert dl.headers["Content-Security-Policy"].startswith("sandbox")
    assert dl.headers["X-Content-Type-Options"] == "nosniff" and dl.headers["Cache-Control"] == "no-store"
    assert dl.headers["Content-Disposition"].startswith("attachment; filename=\"bilan.pdf\"; filename*=UTF-8''")
    preview = client.get(f"/pro/dossier/{sid}/documents/{space['bio']}/apercu")  # a PDF: its pages as images
    assert preview.status_code == 302
    assert preview.headers["Location"] == f"/pro/dossier/{sid}/documents/{space['bio']}/plein-ecran"
    page = client.get(f"/pro/dossier/{sid}/documents/{space['bio']}/pages/1")
    assert page.status_code == 200 and page.mimetype in ("image/png", "image/jpeg")
    assert page.headers["Content-Disposition"].startswith("inline;")
    assert (
        page.headers["Content-Security-Policy"].startswith("sandbox")
        and page.headers["X-Content-Type-Options"] == "nosniff"
    )
    text = client.get(f"/pro/dossier/{sid}/documents/{space['rx']}").get_data(as_text=True)
    assert "Paracétamol" in text and "<iframe" not in text


def test_summary_and_measures_when_shared_without_edit_buttons(client, space, make_share):
    sid = _open(client, make_share, space)
    summary = client.get(f"/pro/dossier/{sid}/resume").get_data(as_text=True)
    assert "Pénicilline" in summary and "A+" in summary and "/profil" not in summary
    measures = client.get(f"/pro/dossier/{sid}/mesures").get_data(as_text=True)
    assert "72,4" in measures and "/mesures/ajouter" not in measures and f"/pro/dossier/{sid}/mesures/" in measures
    slug = re.search(rf"/pro/dossier/{sid}/mesures/([a-z-]+)\"", measures).group(1)
    kind = client.get(f"/pro/dossier/{sid}/mesures/{slug}?periode=all").get_data(as_text=True)
    assert f"/pro/dossier/{sid}/mesures/{slug}/graphique.svg" in kind and "modifier" not in kind
    svg = client.get(f"/pro/dossier/{sid}/mesures/{slug}/graphique.svg?periode=all")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_every_view_is_traced_with_the_share(app, client, space, make_share):
    sid = _open(client, make_share, space)
    client.get(f"/pro/dossier/{sid}")
    client.get(f"/pro/dossier/{sid}/documents")
    client.get(f"/pro/dossier/{sid}/documents/{space['bio']}")
    client.get(f"/pro/dossier/{sid}/documents/{space['bio']}/apercu")
    client.get(f"/pro/dossier/{sid}/documents/{space['bio']}/telecharger")
    client.get(f"/pro/dossier/{sid}/resume")
    client.get(f"/pro/dossier/{sid}/mesures")
    traced = [e for e in events(app) if e.actor_type == "professional"]
    kinds = [(e.action, e.detail.get("page") or e.detail.get("how")) for e in traced]
    assert kinds == [
        ("share_opened", None),
        ("record_viewed", "overview"),
        ("record_viewed", "documents"),
        ("record_viewed", "document"),
        ("document_opened", "preview"),
        ("document_downloaded", "download"),
        ("record_viewed", "summary"),
        ("record_viewed", "measures"),
    ]
    assert {e.grant_id for e in traced} == {sid}
    assert {e.patient_id for e in traced} == {space["patient_id"]}
    assert all(e.actor_name == "Hélène Durand" and e.actor_profession == "medecin" for e in traced)
    with app.app_context():
        for action in (
            "share_opened",
            "record_viewed",
            "document_opened",
            "document_downloaded",
            "document_deposited",
            "emergency_access",
            "emergency_access_refused",
            "share_code_failed",
        ):
            assert action in SENTENCES


def test_deposit_only_when_allowed_and_signed_by_the_professional(app, client, space, make_share, login_as):

    read_only = _open(client, make_share, space)
    assert client.get(f"/pro/dossier/{read_only}/deposer").status_code == 403
    other = app.test_client()
    sid = _open(other, make_share, space, can_deposit=True)
    page = other.get(f"/pro/dossier/{sid}/deposer").get_data(as_text=True)
    data = {
        "csrf_token": _csrf(page),
        "category": "CPT_REND",
        "title": "Compte rendu de consultation",
        "act_date": "2026-03-12",
        "note": "",
        "files": [(io.BytesIO(pdf_bytes()), "cr.pdf")],
    }
    r = other.post(f"/pro/dossier/{sid}/deposer", data=data, content_type="multipart/form-data")
    assert r.status_code == 303 and r.headers["Location"] == f"/pro/dossier/{sid}/documents"
    with app.app_context():
        doc = db.session.scalar(select(Document).where(Document.title == "Compte rendu de consultation"))
        assert (doc.author_type, doc.author_name, doc.author_profession) == ("professional", "Hélène Durand", "medecin")
        assert doc.source == "professional" and doc.grant_id == sid and doc.patient_id == space["patient_id"]
        note = db.session.scalar(select(notify.Notification).where(notify.Notification.kind == "deposit"))
        assert note.detail["deposits"] == ["Compte rendu de consultation"]
    deposited = events(app, "document_deposited")
    assert len(deposited) == 1 and deposited[0].grant_id == sid and not events(app, "document_added")[3:]
    bad = dict(data, csrf_token=_csrf(page), files=[(io.BytesIO(b"<svg onload=alert(1)>"), "x.svg")])
    refused = other.post(f"/pro/dossier/{sid}/deposer", data=bad, content_type="multipart/form-data")
    assert refused.status_code == 422 and len(events(app, "document_deposited")) == 1
    holder = login_as(app.test_client(), space["account"])  # the holder sees who wrote it, and their profession
    shown = holder.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "Hélène Durand · Médecin" in shown
    assert "nom indiqué par la personne, non vérifié" in shown  # typed with a code: nobody checked it


def test_revocation_ends_an_open_code_session_on_the_next_click(app, client, space, make_share):
    sid = _open(client, make_share, space)
    assert client.get(f"/pro/dossier/{sid}/documents").status_code == 200
    with app.app_context():
        db.session.get(grants.Share, sid).revoked_at = clock.utcnow()
        db.session.commit()
    r = client.get(f"/pro/dossier/{sid}/documents")
    assert r.status_code == 303 and r.headers["Location"] == "/pro/acces"
    html = client.get("/pro/acces").get_data(as_text=True)
    assert "This access has ended" in html or "Cet accès est terminé" in html
    assert client.get(f"/pro/dossier/{sid}").status_code in (302, 303)


def test_expiry_ends_it_the_same_way(app, client, space, make_share):
    sid = _open(client, make_share, space, hours=1)
    for _ in range(5):  # a professional still at work: a click every 10 minutes
        clock.advance(timedelta(minutes=10))
        assert client.get(f"/pro/dossier/{sid}").status_code == 200
    clock.advance(timedelta(minutes=10, seconds=1))
    r = client.get(f"/pro/dossier/{sid}/documents/{space['bio']}/telecharger")
    assert r.status_code == 303 and r.headers["Location"] == "/pro/acces"


def test_an_idle_code_session_ends_like_a_login(client, space, make_share):
    sid = _open(client, make_share, space, hours=2)
    clock.advance(timedelta(minutes=16))
    r = client.get(f"/pro/dossier/{sid}")
    assert r.status_code == 302 and r.headers["Location"].startswith("/connexion")


def test_blocking_ends_it_too(app, client, space, make_share):
    sid = _open(client, make_share, space)
    with app.app_context():
        db.session.add(grants.Block(patient_id=space["patient_id"], rpps=RPPS))
        db.session.commit()
    assert client.get(f"/pro/dossier/{sid}", headers={"HX-Request": "true"}).headers["HX-Redirect"] == "/pro/acces"


def test_the_banner_says_who_whose_and_until_when(client, space, make_share):
    sid = _open(client, make_share, space)
    html = client.get(f"/pro/dossier/{sid}").get_data(as_text=True)
    assert "Dr Hélène Durand" in html and "Camille Martin" in html and 'action="/pro/terminer"' in html


def test_a_lost_file_is_named_in_french_to_the_professional(app, client, space, make_share):

    sid = _open(client, make_share, space)
    with app.app_context():
        blobs.store().path_of(db.session.get(Document, space["bio"]).blob_id).unlink()
    missing = "Le fichier de ce document est introuvable sur le serveur"
    page = client.get(f"/pro/dossier/{sid}/documents/{space['bio']}")
    assert page.status_code == 200 and missing in page.get_data(as_text=True)
    assert "/telecharger" not in page.get_data(as_text=True)
    for tail in ("/apercu", "/telecharger"):
        r = client.get(
            f"/pro/dossier/{sid}/documents/{space['bio']}{tail}", follow_redirects=True
        )  # a PDF: full screen
        assert r.status_code == 404 and missing in r.get_data(as_text=True)
