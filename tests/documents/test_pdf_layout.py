"""A PDF's page reads its layout from the document, stored at upload: showing it opens no blob."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from blueprints.documents.models import Document
from core.db import db
from core.storage import BlobStore
from tests.helpers import documents_of
from tests.samples import pdf_bytes

PAGE_IMAGES = re.compile(r'<img[^>]*src="/documents/[^"]+/pages/\d+"[^>]*>')


def _add(client, upload) -> str:
    r = upload(client, [(pdf_bytes(), "ordonnance.pdf")])
    assert r.status_code == 303
    return r.headers["Location"].rsplit("/", 1)[-1]


@pytest.fixture
def no_blob_opens(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("a blob was opened")

    monkeypatch.setattr(BlobStore, "open", refuse)
    monkeypatch.setattr(BlobStore, "open_seekable", refuse)


def test_upload_stores_the_layout(holder, upload, app):
    client, _ = holder
    _add(client, upload)
    layout = documents_of(app)[0].pdf_layout
    assert layout == {"encrypted": False, "page_count": 1, "sizes": [[200.0, 280.0]]}


def test_document_page_opens_no_blob(holder, upload, no_blob_opens):
    client, _ = holder
    doc_id = _add(client, upload)
    images = PAGE_IMAGES.findall(client.get(f"/documents/{doc_id}").get_data(as_text=True))
    assert len(images) == 1 and 'width="1000"' in images[0]
    full = client.get(f"/documents/{doc_id}/plein-ecran")
    assert full.status_code == 200 and f"/documents/{doc_id}/pages/1" in full.get_data(as_text=True)


def test_an_older_document_is_read_once_then_shows_the_same(holder, upload, app, monkeypatch):
    client, _ = holder
    doc_id = _add(client, upload)
    stored = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    with app.app_context():  # a row stored before layouts were
        db.session.get(Document, doc_id).pdf_layout = None
        db.session.commit()
        changed = db.session.get(Document, doc_id).updated_at
    first = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert PAGE_IMAGES.findall(first) == PAGE_IMAGES.findall(stored) != []
    with app.app_context():
        layout, updated_at = db.session.execute(
            select(Document.pdf_layout, Document.updated_at).where(Document.id == doc_id)
        ).one()
        assert layout["page_count"] == 1 and updated_at == changed  # reading it is no change of the document
    monkeypatch.setattr(BlobStore, "open", lambda *_a, **_k: pytest.fail("read twice"))
    again = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert PAGE_IMAGES.findall(again) == PAGE_IMAGES.findall(stored)


def test_an_unreadable_pdf_is_stored_as_such(holder, upload, app, no_blob_opens):
    client, _ = holder
    r = upload(client, [(b"%PDF-1.4\n" + b"\x00garbage" * 50 + b"\n%%EOF\n", "casse.pdf")])
    assert r.status_code == 303  # kept: the person may still download what they sent
    doc_id = r.headers["Location"].rsplit("/", 1)[-1]
    assert documents_of(app)[0].pdf_layout == {"error": True}
    assert client.get(f"/documents/{doc_id}").status_code == 200
