"""Documents: object-level access, hostile uploads, size limits, names, CSRF, served-file headers."""

from __future__ import annotations

import io
import re

import pytest

from blueprints.documents.files import disposition as _disposition
from core.files.names import safe_filename
from tests.helpers import blob_files, csrf_token, documents_of
from tests.samples import pdf_bytes, png_bytes


@pytest.fixture(autouse=True)
def _empty_blob_store(fresh_store):
    """The blob store starts empty for each test."""


@pytest.fixture
def victim_doc(app, client, make_holder, login_as, upload):
    """A document in someone else's space; returns its id. The client is then logged in as the attacker."""
    victim, _ = make_holder()
    login_as(client, victim)
    r = upload(client, [(pdf_bytes(), "secret.pdf")])
    doc_id = r.headers["Location"].rsplit("/", 1)[-1]
    client.post("/deconnexion", data={"csrf_token": csrf_token(client, "/documents")})
    client.delete_cookie("carnet_session")
    attacker, _ = make_holder()
    login_as(client, attacker)
    return doc_id


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/documents/{id}"),
        ("get", "/documents/{id}/telecharger"),
        ("get", "/documents/{id}/apercu"),
        ("get", "/documents/{id}/vignette"),
        ("get", "/documents/{id}/modifier"),
        ("post", "/documents/{id}/modifier"),
        ("post", "/documents/{id}/visibilite"),
        ("post", "/documents/{id}/supprimer"),
    ],
)
def test_another_holders_document_is_not_found(app, client, victim_doc, method, path):
    token = csrf_token(client, "/documents")
    data = {"csrf_token": token, "action": "hide", "title": "pwned", "category": "AUTR_DOC", "act_date": "2026-01-01"}
    r = getattr(client, method)(path.format(id=victim_doc), data=data if method == "post" else None)
    assert r.status_code == 404
    doc = [d for d in documents_of(app) if d.id == victim_doc][0]
    assert (doc.title, doc.hidden) == ("Secret", False)


def test_bulk_visibility_ignores_other_spaces(app, client, victim_doc):
    token = csrf_token(client, "/documents")
    r = client.post("/documents/visibilite", data={"csrf_token": token, "action": "hide", "ids": [victim_doc]})
    assert r.status_code == 404
    assert [d.hidden for d in documents_of(app) if d.id == victim_doc] == [False]


@pytest.mark.parametrize("stranger", ["victim", "unknown"])
def test_bulk_visibility_with_one_id_not_the_holders_answers_404_and_changes_nothing(
    app, client, victim_doc, upload, stranger
):
    mine = [upload(client, [(pdf_bytes(), f"{n}.pdf")]).headers["Location"].rsplit("/", 1)[-1] for n in "ab"]
    other = victim_doc if stranger == "victim" else "00000000-0000-4000-8000-000000000000"
    token = csrf_token(client, "/documents")
    for ids in ([mine[0], other, mine[1]], [other]):
        for htmx in ({}, {"HX-Request": "true"}):
            r = client.post(
                "/documents/visibilite",
                headers=htmx,
                data={"csrf_token": token, "action": "hide", "ids": ids, "next": "/documents"},
            )
            assert r.status_code == 404, (ids, htmx)
            assert {d.id: d.hidden for d in documents_of(app)} == {mine[0]: False, mine[1]: False, victim_doc: False}
    page = client.get("/documents").get_data(as_text=True)
    assert "masqué" not in page  # no success message was flashed for the refused requests
    # The holder's own ids alone still work.
    r = client.post(
        "/documents/visibilite", data={"csrf_token": token, "action": "hide", "ids": mine, "next": "/documents"}
    )
    assert r.status_code == 303
    assert {d.id: d.hidden for d in documents_of(app)} == {mine[0]: True, mine[1]: True, victim_doc: False}


def test_another_space_does_not_leak_in_lists(app, client, victim_doc):
    html = client.get("/documents").get_data(as_text=True)
    assert victim_doc not in html and "Secret" not in html


HOSTILE = {
    "svg": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "image.svg",
    ),
    "svg named png": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "photo.png"),
    "html": (b"<!doctype html><html><script>alert(document.cookie)</script></html>", "page.html"),
    "html named pdf": (b"<html><body><script>alert(1)</script></body></html>", "ordonnance.pdf"),
    "html named txt": (b"hello\n<script>alert(1)</script>\n", "note.txt"),
    "jpeg/html polyglot": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00<html><script>alert(1)</script></html>", "scan.jpg"),
    "png/html polyglot": (b"\x89PNG\r\n\x1a\n<script>alert(1)</script>", "scan.png"),
    "pdf named jpg": (pdf_bytes(), "photo.jpg"),
    "png named pdf": (png_bytes(), "doc.pdf"),
    "zip": (b"PK\x03\x04" + b"\x00" * 40, "archive.zip"),
    "exe": (b"MZ\x90\x00" + b"\x00" * 60, "setup.exe"),
    "rtf": (b"{\\rtf1\\ansi hello}", "lettre.rtf"),
    "empty": (b"", "vide.pdf"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_or_mislabelled_files_are_refused(app, holder, upload, name):
    client, _ = holder
    content, filename = HOSTILE[name]
    r = upload(client, [(content, filename)], htmx=True)
    assert r.status_code == 422
    assert "notice-error" in r.get_data(as_text=True)
    assert documents_of(app) == []
    assert [p for p in blob_files(app) if "/.tmp" not in p] == []


def test_one_bad_file_refuses_the_whole_batch(app, holder, upload):
    client, _ = holder
    r = upload(client, [(pdf_bytes(), "ok.pdf"), (HOSTILE["svg"][0], "bad.svg")])
    assert r.status_code == 422 and documents_of(app) == [] and blob_files(app) == []


def test_oversized_request_gets_the_friendly_413_and_stores_nothing(app, holder, upload, monkeypatch):
    client, _ = holder
    token = csrf_token(client, "/documents")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    r = upload(client, [(b"%PDF-1.4\n" + b"0" * 100_000, "gros.pdf")], token=token)
    assert r.status_code == 413
    html = r.get_data(as_text=True)
    assert "error-block" in html and str(app.config["UPLOAD_MAX_MB"]) in html
    assert documents_of(app) == [] and blob_files(app) == []
    frag = upload(client, [(b"%PDF-1.4\n" + b"0" * 100_000, "gros.pdf")], token=token, htmx=True)
    assert frag.status_code == 413 and "notice-error" in frag.get_data(as_text=True)


def test_per_file_limit(app, holder, upload, monkeypatch):
    client, _ = holder
    monkeypatch.setitem(app.config, "UPLOAD_MAX_MB", 1)
    r = upload(client, [(b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1), "gros.pdf")])
    assert r.status_code == 422 and documents_of(app) == [] and blob_files(app) == []


@pytest.mark.parametrize(
    "raw",
    [
        "../../etc/passwd.txt",
        "..\\..\\windows\\win.ini.txt",
        "a\x00b\x1b[31m.txt",
        "rapport\u202etxt.exe.txt",
        "tab\there\x7f.txt",
    ],
)
def test_file_names_are_neutralised(app, holder, upload, raw):
    client, _ = holder
    r = upload(client, [(b"Bonjour\n", raw)])
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    doc = documents_of(app)[0]
    for bad in ("/", "\\", "\x00", "\x1b", "\u202e", "\r", "\n", ".."):
        assert bad not in doc.original_name and bad not in doc.title
    dl = client.get(f"/documents/{doc.id}/telecharger")
    disposition = dl.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert re.fullmatch(r'attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8\'\'[A-Za-z0-9%._~-]+', disposition)
    assert disposition.count('"') == 2 and ";" not in disposition.split('"')[1]
    assert "Set-Cookie" not in dl.headers


@pytest.mark.parametrize("name", ['a"; filename=evil.html', "b\\c;d.pdf", "é\r\nX: y.pdf", "ordonnance 12 mars.pdf"])
def test_content_disposition_cannot_be_broken_out_of(name):

    value = _disposition("attachment", safe_filename(name))
    assert re.fullmatch(r'attachment; filename="[^"\\;\r\n]+"; filename\*=UTF-8\'\'[A-Za-z0-9%._~-]+', value), value


def test_csrf_token_is_required(app, holder, upload):
    client, _ = holder
    r = upload(client, [(pdf_bytes(), "a.pdf")])
    doc_id = r.headers["Location"].rsplit("/", 1)[-1]
    for path, data in [
        (
            "/documents/ajouter",
            {"category": "ORD_SOIN", "act_date": "2026-01-01", "files": (io.BytesIO(pdf_bytes()), "b.pdf")},
        ),
        (f"/documents/{doc_id}/modifier", {"title": "x", "category": "ORD_SOIN", "act_date": "2026-01-01"}),
        (f"/documents/{doc_id}/visibilite", {"action": "hide"}),
        ("/documents/visibilite", {"action": "hide", "ids": [doc_id]}),
        (f"/documents/{doc_id}/supprimer", {}),
    ]:
        r = client.post(path, data=data)
        assert r.status_code == 400, path
    doc = documents_of(app)
    assert len(doc) == 1 and doc[0].hidden is False and doc[0].title == "A"


@pytest.mark.parametrize(
    "route,disposition,kind",
    [
        ("telecharger", "attachment", "pdf"),
        ("vignette", "inline", "pdf"),
        ("pages/1", "inline", "pdf"),
        ("telecharger", "attachment", "png"),
        ("apercu", "inline", "png"),  # a PDF's apercu: its pages (test_pdf_scripts)
    ],
)
def test_served_files_are_sandboxed(app, holder, upload, route, disposition, kind):
    client, _ = holder
    r = upload(client, [(pdf_bytes(), "a.pdf") if kind == "pdf" else (png_bytes(), "a.png")])
    doc_id = r.headers["Location"].rsplit("/", 1)[-1]
    r = client.get(f"/documents/{doc_id}/{route}")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert csp.split(";")[0].strip() == "sandbox" and "default-src 'none'" in csp
    assert ("frame-ancestors 'self'" if route == "apercu" else "frame-ancestors 'none'") in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"].startswith(disposition + ";")


def test_text_is_served_as_text_never_html(app, holder, upload):
    client, _ = holder
    r = upload(client, [(b"Bonjour, voici ma note.\n", "note.txt")])
    doc_id = r.headers["Location"].rsplit("/", 1)[-1]
    for route in ("apercu", "telecharger"):
        r = client.get(f"/documents/{doc_id}/{route}")
        assert r.mimetype == "text/plain" and "sandbox" in r.headers["Content-Security-Policy"]


def test_user_text_renders_inert(app, holder, upload):
    client, _ = holder
    r = upload(client, [(pdf_bytes(), "a.pdf")], title="<script>alert(1)</script>", note="<img src=x onerror=alert(1)>")
    doc_id = r.headers["Location"].rsplit("/", 1)[-1]
    for page in (f"/documents/{doc_id}", "/documents", "/"):
        html = client.get(page).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
