"""Every documents screen and fragment, as a holder."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from flask_babel import force_locale
from PIL import Image
from sqlalchemy import select

from blueprints.documents import services
from blueprints.documents.services import _month
from core.audit import AuditEvent
from core.db import db
from tests.helpers import blob_files, csrf_token, documents_of
from tests.samples import TEXT, jpeg_with_gps, pdf_bytes, png_bytes


def _add(client, upload, content=None, name="ordonnance_mars.pdf", **kw):
    r = upload(client, [(content or pdf_bytes(), name)], **kw)
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    return r.headers["Location"].rsplit("/", 1)[-1]


def test_empty_state_invites_a_first_document(holder):
    client, _ = holder
    r = client.get("/documents")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "empty-state" in html and 'href="/documents/ajouter"' in html


def test_add_form_page_and_fragment(holder):
    client, _ = holder
    page = client.get("/documents/ajouter").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'capture="environment"' in page and "multiple" in page
    assert "data-upload-progress" in page
    assert 'name="act_date"' in page and 'value="20' in page  # prefilled with today
    frag = client.get("/documents/ajouter", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.lstrip().startswith("<form") and "<html" not in frag


def test_upload_then_list_show_download(holder, upload, app):
    client, account = holder
    doc_id = _add(client, upload, name="compte_rendu-IRM_2024.pdf", category="RADIO_SC", note="Genou droit")
    doc = documents_of(app)[0]
    assert doc.title == "Compte rendu IRM 2024" and doc.category == "RADIO_SC" and doc.kind == "pdf"
    assert doc.thumb_blob_id and doc.author_type == "holder" and doc.hidden is False
    listing = client.get("/documents").get_data(as_text=True)
    assert "Compte rendu IRM 2024" in listing and f"/documents/{doc_id}/vignette" in listing
    show = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "Genou droit" in show and f'src="/documents/{doc_id}/pages/1"' in show and "<iframe" not in show
    page = client.get(f"/documents/{doc_id}/pages/1")
    assert page.status_code == 200 and page.mimetype in ("image/png", "image/jpeg")
    dl = client.get(f"/documents/{doc_id}/telecharger")
    assert dl.status_code == 200 and dl.data.startswith(b"%PDF") and len(dl.data) == doc.size
    assert dl.mimetype == "application/pdf"
    thumb = client.get(f"/documents/{doc_id}/vignette")
    assert thumb.status_code == 200 and thumb.data.startswith(b"\xff\xd8\xff")


def test_upload_htmx_answers_with_hx_redirect(holder, upload):
    client, _ = holder
    r = upload(client, [(png_bytes(), "photo.png")], htmx=True)
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/documents/")


def test_several_files_at_once(holder, upload, app):
    client, _ = holder
    r = upload(client, [(pdf_bytes(), "a.pdf"), (png_bytes(), "b.png"), (TEXT, "c.txt")], title="Bilan")
    assert r.status_code == 303 and r.headers["Location"] == "/documents"
    titles = sorted(d.title for d in documents_of(app))
    assert titles == ["Bilan (1)", "Bilan (2)", "Bilan (3)"]


def test_camera_photo_loses_its_gps(holder, upload, app):

    client, _ = holder
    doc_id = _add(client, upload, jpeg_with_gps(), "IMG_0001.jpg", field="photo")
    data = client.get(f"/documents/{doc_id}/telecharger").data
    exif = Image.open(io.BytesIO(data)).getexif()
    assert not exif.get_ifd(0x8825) and 0x8825 not in exif
    show = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert f'<img class="doc-image" src="/documents/{doc_id}/apercu"' in show


def test_text_document_preview_is_escaped(holder, upload):
    client, _ = holder
    doc_id = _add(client, upload, b"Note du Dr <b>Martin</b>\n", "note.txt")
    show = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "Note du Dr &lt;b&gt;Martin&lt;/b&gt;" in show


def test_refused_file_answers_422_with_the_form(holder, upload, app):
    client, _ = holder
    r = upload(client, [(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "x.svg")], htmx=True)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="doc-add"' in html and "notice-error" in html and "x.svg" in html
    assert documents_of(app) == []


def test_missing_file_and_bad_fields_answer_422(holder, upload):
    client, _ = holder
    token = csrf_token(client, "/documents")
    r = client.post("/documents/ajouter", data={"category": "ORD_SOIN", "act_date": "2026-03-12", "csrf_token": token})
    assert r.status_code == 422
    r = upload(client, [(pdf_bytes(), "a.pdf")], category="NOPE")
    assert r.status_code == 422
    r = upload(client, [(pdf_bytes(), "a.pdf")], act_date="2999-01-01")
    assert r.status_code == 422


def test_list_groups_by_month_filters_and_counts(holder, upload):
    client, _ = holder
    _add(client, upload, name="radio.pdf", category="RADIO_SC", act_date="2026-01-05")
    _add(client, upload, name="ordo.pdf", category="ORD_SOIN", act_date="2026-03-12")
    _add(client, upload, name="ordo2.pdf", category="ORD_SOIN", act_date="2026-03-01")
    html = client.get("/documents").get_data(as_text=True)
    assert html.count('class="doc-month"') == 2
    assert html.index("Ordo") < html.index("Radio")  # newest first
    assert re.search(r'categorie=ORD_SOIN"[^>]*>[^<]*<span class="chip-count">2<', html)
    only = client.get("/documents?categorie=RADIO_SC").get_data(as_text=True)
    assert "Radio" in only and "Ordo2" not in only


def test_search_fragment(holder, upload):
    client, _ = holder
    _add(client, upload, name="ordonnance.pdf", note="dentiste")
    _add(client, upload, name="radio.pdf")
    r = client.get("/documents?q=DENTISTE", headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith('<div id="doc-results"')
    assert "Ordonnance" in html and "Radio" not in html
    none = client.get("/documents?q=%25", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Ordonnance" not in none and "empty-state" in none


def test_infinite_scroll_uses_a_keyset_cursor(holder, app, monkeypatch, make_document):

    client, account = holder
    monkeypatch.setattr(services, "PAGE_SIZE", 5)
    for i in range(12):
        make_document(
            account,
            b"note %d" % i,
            f"n{i}.txt",
            category="AUTR_DOC",
            act_date=date(2026, 1, 1) + timedelta(days=i // 2),
        )
    first = client.get("/documents").get_data(as_text=True)
    assert first.count('class="doc-row') == 5
    more = re.search(r'hx-get="(/documents\?[^"]*apres=[^"]+)"', first).group(1).replace("&amp;", "&")
    assert "offset" not in more
    seen = set(re.findall(r'href="/documents/([0-9a-f-]{36})"', first))
    while more:
        frag = client.get(more, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert frag.lstrip().startswith("<li")
        ids = set(re.findall(r'href="/documents/([0-9a-f-]{36})"', frag))
        assert not ids & seen
        seen |= ids
        m = re.search(r'hx-get="(/documents\?[^"]*apres=[^"]+)"', frag)
        more = m.group(1).replace("&amp;", "&") if m else None
    assert len(seen) == 12


def test_edit_inline_and_move_category(holder, upload, app):
    client, _ = holder
    doc_id = _add(client, upload)
    form = client.get(f"/documents/{doc_id}/modifier", headers={"HX-Request": "true"})
    assert form.status_code == 200 and 'id="doc-details"' in form.get_data(as_text=True)
    assert client.get(f"/documents/{doc_id}/modifier").status_code == 200  # no-JS page
    token = csrf_token(client, "/documents")
    bad = client.post(
        f"/documents/{doc_id}/modifier",
        headers={"HX-Request": "true"},
        data={"title": "", "category": "BIOLOGIE", "act_date": "2026-02-02", "csrf_token": token},
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/documents/{doc_id}/modifier",
        headers={"HX-Request": "true"},
        data={
            "title": "Prise de sang",
            "category": "BIOLOGIE",
            "act_date": "2026-02-02",
            "note": "à jeun",
            "csrf_token": token,
        },
    )
    assert ok.status_code == 200 and "Prise de sang" in ok.get_data(as_text=True)
    doc = documents_of(app)[0]
    assert (doc.title, doc.category, doc.act_date.isoformat(), doc.note) == (
        "Prise de sang",
        "BIOLOGIE",
        "2026-02-02",
        "à jeun",
    )
    cancel = client.get(f"/documents/{doc_id}/modifier?annuler=1", headers={"HX-Request": "true"})
    assert cancel.status_code == 200 and "Prise de sang" in cancel.get_data(as_text=True)
    plain = client.post(
        f"/documents/{doc_id}/modifier",
        data={"title": "Bilan", "category": "BIOLOGIE", "act_date": "2026-02-02", "csrf_token": token},
    )
    assert plain.status_code == 303


def test_hide_and_show_one_and_many(holder, upload, app):
    client, _ = holder
    a, b = _add(client, upload, name="a.pdf"), _add(client, upload, name="b.pdf")
    token = csrf_token(client, "/documents")
    r = client.post(
        f"/documents/{a}/visibilite", data={"action": "hide", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200 and "eye-off" in r.get_data(as_text=True)
    assert {d.id: d.hidden for d in documents_of(app)} == {a: True, b: False}
    listing = client.get("/documents").get_data(as_text=True)
    assert listing.count("is-hidden") == 1
    r = client.post("/documents/visibilite", data={"action": "hide", "ids": [a, b], "csrf_token": token})
    assert r.status_code == 303
    assert all(d.hidden for d in documents_of(app))
    r = client.post(
        "/documents/visibilite",
        data={"action": "show", "ids": [a, b], "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 204 and r.headers["HX-Redirect"]
    assert not any(d.hidden for d in documents_of(app))


def test_delete_after_confirmation(holder, upload, app):
    client, _ = holder
    doc_id = _add(client, upload)
    show = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert f'id="confirm-delete-{doc_id}"' in show and "hidden" in show
    assert len(blob_files(app)) >= 2
    token = csrf_token(client, "/documents")
    r = client.post(f"/documents/{doc_id}/supprimer", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/documents"
    assert documents_of(app) == []
    assert not [f for f in blob_files(app) if "/.tmp" not in f]
    assert client.get(f"/documents/{doc_id}").status_code == 404


def test_every_action_is_traced(holder, upload, app):

    client, _ = holder
    doc_id = _add(client, upload)
    token = csrf_token(client, "/documents")
    client.get(f"/documents/{doc_id}")  # a PDF's page shows its pages: the opening
    client.get(f"/documents/{doc_id}/pages/1")  # its images add no trace
    client.get(f"/documents/{doc_id}/telecharger")
    client.post(
        f"/documents/{doc_id}/modifier",
        data={"title": "X", "category": "BIOLOGIE", "act_date": "2026-02-02", "csrf_token": token},
    )
    client.post(f"/documents/{doc_id}/visibilite", data={"action": "hide", "csrf_token": token})
    client.post(f"/documents/{doc_id}/visibilite", data={"action": "show", "csrf_token": token})
    client.post(f"/documents/{doc_id}/supprimer", data={"csrf_token": token})
    with app.app_context():
        events = list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.target_id == doc_id).order_by(AuditEvent.id))
        )
    assert [(e.action, (e.detail or {}).get("how")) for e in events] == [
        ("document_added", None),
        ("document_opened", "preview"),
        ("document_opened", "download"),
        ("document_updated", None),
        ("document_hidden", None),
        ("document_shown", None),
        ("document_deleted", None),
    ]
    assert all(e.actor_type == "holder" and e.target_type == "documents" for e in events)


def test_anonymous_is_sent_to_login(client):
    r = client.get("/documents")
    assert r.status_code in (302, 303) and "/connexion" in r.headers["Location"]


def test_professional_account_is_refused(client, make_pro, login_as):
    pro = make_pro()
    login_as(client, pro)
    assert client.get("/documents").status_code == 403


def test_month_headings_are_in_the_readers_language(app):
    """Made once per month and language (docs/performance.md, 47): never a heading of the other one."""
    with app.test_request_context("/documents"):
        for lang, expected in (("fr", "Mars 2026"), ("en", "March 2026"), ("fr", "Mars 2026")):
            with force_locale(lang):
                assert _month(date(2026, 3, 12)) == ("2026-03", expected)
                assert _month(date(1999, 12, 31))[0] == "1999-12"
