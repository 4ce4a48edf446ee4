"""A document whose file was lost from the disk: its page says so in French, opening or
downloading it answers a French page (not a bare error), and `storage check` names it."""

from __future__ import annotations

from blueprints.documents.models import Document
from core import blobs
from core.db import db
from tests.samples import TEXT, pdf_bytes

MISSING = "Le fichier de ce document est introuvable sur le serveur\u00a0: il ne peut être ni affiché ni téléchargé."


def _lost(client, upload, content, name):
    r = upload(client, [(content, name)], title="Compte rendu")
    doc_id = r.headers["HX-Redirect" if "HX-Redirect" in r.headers else "Location"].rsplit("/", 1)[-1]

    doc = db.session.get(Document, doc_id)
    blobs.store().path_of(doc.blob_id).unlink()
    return doc_id, doc.blob_id


def test_the_holders_page_says_the_file_is_missing(app, holder, upload):
    client, _ = holder
    with app.test_request_context(method="POST"):
        pdf_id, pdf_blob = _lost(client, upload, pdf_bytes(), "cr.pdf")
        text_id, _ = _lost(client, upload, TEXT, "ordonnance.txt")
    for doc_id in (pdf_id, text_id):
        page = client.get(f"/documents/{doc_id}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and MISSING in html and 'role="alert"' in html
        assert "<iframe" not in html and "/telecharger" not in html  # no button that cannot work
        for tail in ("/apercu", "/telecharger"):
            r = client.get(f"/documents/{doc_id}{tail}", follow_redirects=True)  # a PDF's: its full screen
            assert r.status_code == 404 and MISSING in r.get_data(as_text=True)
            assert "Fichier indisponible" in r.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["storage", "check"])
    assert result.exit_code == 1 and f"missing: {pdf_blob}" in result.output


def test_an_intact_document_shows_no_such_message(app, holder, upload):
    client, _ = holder
    r = upload(client, [(pdf_bytes(), "cr.pdf")])
    html = client.get(r.headers.get("HX-Redirect") or r.headers["Location"]).get_data(as_text=True)
    assert "introuvable" not in html and "/pages/1" in html
