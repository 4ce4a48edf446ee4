"""The documents service without a request: round trip, the gate, crash safety, the check command."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from blueprints.documents import previews, services
from blueprints.documents.models import Document
from core import blobs
from core.access import Viewer, viewer_for
from core.blobs import BlobKey
from core.compiled import Fixed
from core.db import db
from tests.helpers import add_text as _add, blob_files, loads, statements
from tests.samples import pdf_bytes, png_bytes


def test_round_trip_is_encrypted_at_rest(app, space):
    original = pdf_bytes()
    doc = _add(space, original, "bilan.pdf")
    db.session.commit()
    data = b"".join(services.open_content(space, doc, "download"))
    assert data == original and doc.size == len(data)
    on_disk = b"".join(open(p, "rb").read() for p in blob_files(app))
    assert b"%PDF" not in on_disk
    assert db.session.get(BlobKey, doc.blob_id) is not None and doc.thumb_blob_id


def test_hidden_documents_never_reach_a_professional(app, space):
    shown = _add(space, name="visible.txt")
    hidden = _add(space, name="cache.txt")
    services.set_hidden(space, [hidden.id], True)
    db.session.commit()
    pro = Viewer(kind="professional", patient_id=space.patient_id, rights={"documents": {"read"}})
    page = services.listing(pro)
    assert [r["id"] for r in page["rows"]] == [shown.id] and page["total"] == 1
    assert services.summary(pro)["count"] == 1
    assert services.get(pro, shown.id).id == shown.id
    with pytest.raises(NotFound):
        services.get(pro, hidden.id)
    # the holder still sees both, the hidden one marked
    rows = {r["id"]: r["hidden"] for r in services.listing(space)["rows"]}
    assert rows == {shown.id: False, hidden.id: True}


def test_professional_cannot_write(app, space):
    doc = _add(space)
    db.session.commit()
    pro = Viewer(kind="professional", patient_id=space.patient_id, rights={"documents": {"read"}})
    with pytest.raises(Forbidden):
        services.set_hidden(pro, [doc.id], True)
    with pytest.raises(Forbidden):
        services.delete_document(pro, doc)


def test_another_space_is_out_of_scope(app, space, make_holder):
    doc = _add(space)
    db.session.commit()
    other, _ = make_holder()
    other_viewer = viewer_for(db.session.merge(other))
    assert services.listing(other_viewer)["rows"] == []
    with pytest.raises(NotFound):  # someone else's id: nothing changes
        services.set_hidden(other_viewer, [doc.id], True)
    assert db.session.get(Document, doc.id).hidden is False


def test_search_escapes_wildcards(app, space):
    _add(space, name="ordonnance.txt", note="100% remboursé")
    _add(space, name="radio.txt")
    db.session.commit()
    assert [r["title"] for r in services.listing(space, q="100%")["rows"]] == ["Ordonnance"]
    assert services.listing(space, q="_")["rows"] == []


def test_search_ignores_accents_and_case_and_needs_every_word(app, space):
    _add(space, name="Échographie_abdominale.txt", note="Contrôle du foie")
    _add(space, name="echo-cardiaque.txt")
    db.session.commit()
    titles = lambda q: sorted(r["title"] for r in services.listing(space, q=q)["rows"])  # noqa: E731
    assert titles("echo") == ["Echo cardiaque", "Échographie abdominale"]
    assert titles("ÉCHO cardiaque") == ["Echo cardiaque"]
    assert titles("controle foie") == ["Échographie abdominale"]
    doc = services.listing(space, q="cardiaque")["rows"][0]
    services.update(
        space,
        db.session.get(Document, doc["id"]),
        title="Doppler",
        category="RADIO_SC",
        act_date=doc["act_date"],
        note=None,
    )
    db.session.commit()
    assert titles("cardiaque") == [] and titles("doppler") == ["Doppler"]


def test_keyset_pages_are_disjoint_and_ordered(app, space):
    for i in range(7):
        _add(space, name=f"n{i}.txt", act_date=date(2026, 1, 1 + i % 3))
    db.session.commit()
    seen, after = [], None
    while True:
        page = services.listing(space, after=after, limit=3)
        seen += [(r["act_date"], r["id"]) for r in page["rows"]]
        after = page["next_cursor"]
        if not after:
            break
    assert len(seen) == 7 and len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)


def test_a_refused_file_in_a_batch_stores_nothing(app, space):
    with pytest.raises(services.UploadRefused) as err:
        services.add_documents(
            space,
            [
                services.Upload(io.BytesIO(png_bytes()), "ok.png"),
                services.Upload(io.BytesIO(b"<html><script>x</script>"), "evil.txt"),
            ],
            category="ORD_SOIN",
            act_date=date(2026, 1, 1),
        )
    assert err.value.reason == "type" and err.value.filename == "evil.txt"
    db.session.commit()
    assert db.session.scalars(select(Document)).all() == [] and blob_files(app) == []


def test_oversized_file_is_refused_by_put(app, space, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_MB", 1)

    class Unseekable(io.RawIOBase):  # a stream whose size is only known by reading it
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def read(self, n=-1):
            return self._data.read(n)

        def seek(self, *a):
            if a == (0,):
                return self._data.seek(0)
            raise OSError("not seekable")

        def tell(self):
            raise OSError("not seekable")

    with pytest.raises(services.UploadRefused) as err:
        services.add_documents(
            space,
            [services.Upload(Unseekable(b"a" * (1024 * 1024 + 10)), "long.txt")],
            category="AUTR_DOC",
            act_date=date(2026, 1, 1),
        )
    assert err.value.reason == "size"
    db.session.commit()
    assert db.session.scalars(select(Document)).all() == []
    assert [p for p in blob_files(app) if "/.tmp" not in p] == []


def test_rollback_before_commit_leaves_no_document_and_no_blob(app, space):
    _add(space, pdf_bytes(), "a.pdf")
    assert len(blob_files(app)) == 4  # file, thumbnail, first page at both widths: durable before the commit
    db.session.rollback()  # the request failed before its commit
    assert db.session.scalars(select(Document)).all() == []
    assert blob_files(app) == []


def test_crash_between_blob_and_commit_leaves_an_orphan_that_check_removes(app, space):
    """A process dying after put() and before the commit: no row, an orphan file on disk."""
    _add(space, pdf_bytes(), "a.pdf")
    db.session.info.pop(blobs._NEW)  # the process died: no rollback hook ran
    db.session.rollback()
    assert db.session.scalars(select(Document)).all() == []
    assert len(blob_files(app)) == 4
    report = blobs.check(remove_orphans=False)
    assert len(report.recent_unknown) == 4 and report.orphans == []  # grace period protects uploads in flight
    report = blobs.check(remove_orphans=True, grace_seconds=0)
    assert len(report.removed_orphans) == 4 and blob_files(app) == []


def test_storage_check_command(app, space):
    doc = _add(space, pdf_bytes(), "a.pdf")
    db.session.commit()
    orphan = blobs.store().put(io.BytesIO(b"orphan"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code == 0 and "4 blobs intact" in result.output
    result = runner.invoke(args=["storage", "check", "--remove-orphans", "--grace", "0"])
    assert result.exit_code == 0 and "1 orphan blobs removed" in result.output
    assert not blobs.store().exists(orphan.blob_id) and blobs.store().exists(doc.blob_id)
    # a damaged blob makes the check fail
    path = blobs.store()._path(doc.blob_id)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code == 1 and f"corrupt: {doc.blob_id}" in result.output


def test_delete_shreds_the_key_then_the_file(app, space):
    doc = _add(space, pdf_bytes(), "a.pdf")
    db.session.commit()
    blob_ids = [doc.blob_id, doc.thumb_blob_id, *previews.first_page_blobs(doc.first_page)]
    assert len(blob_ids) == 4  # the file, its thumbnail, its first page at both widths
    services.delete_document(space, doc)
    assert all(blobs.store().exists(b) for b in blob_ids)  # files stay until the commit
    db.session.commit()
    assert db.session.scalars(select(BlobKey)).all() == []
    assert not any(blobs.store().exists(b) for b in blob_ids)


def test_delete_rolled_back_keeps_the_document(app, space):
    original = pdf_bytes()
    doc = _add(space, original, "a.pdf")
    db.session.commit()
    services.delete_document(space, doc)
    db.session.rollback()
    kept = db.session.get(Document, doc.id)
    assert kept is not None and b"".join(services.open_content(space, kept, "download")) == original


def test_dashboard_summary(app, space):
    assert services.summary(space) == {"count": 0, "latest": None}
    _add(space, name="ancien.txt", act_date=date(2025, 1, 1))
    _add(space, name="recent.txt", act_date=date(2026, 1, 1))
    summary = services.summary(space)
    assert summary["count"] == 2 and summary["latest"]["title"] == "Recent"


def test_a_lists_rows_are_what_a_documents_own_row_says(app, space):
    """The list reads plain columns, not Document objects (docs/performance.md, 55): each row is
    what row() makes of the document itself, hidden or not, with or without a thumbnail."""
    _add(space, name="ordonnance.txt")
    upload = services.Upload(io.BytesIO(png_bytes()), "radio.png")
    picture = services.add_documents(space, [upload], category="RADIO_SC", act_date=date(2026, 3, 1))[0]
    services.set_hidden(space, [picture.id], True)
    db.session.commit()
    with loads(Document) as loaded:
        rows = services.listing(space)["rows"]
    assert loaded == []
    assert len(rows) == 2 and any(r["has_thumb"] and r["hidden"] for r in rows)
    for listed in rows:
        assert listed == services.row(db.session.get(Document, listed["id"]))


def test_a_preview_is_read_with_its_gate_and_key_in_one_statement(app, space, make_holder, monkeypatch):
    """thumbnail_of() (docs/performance.md, 59 and 62): the image of a document the viewer may
    see, as open_thumbnail() reads it from the document itself; no Document object, one
    statement, built once for the holder's side; None for another space's document, one the
    viewer may not see, one without image."""
    upload = services.Upload(io.BytesIO(png_bytes()), "radio.png")
    picture = services.add_documents(space, [upload], category="RADIO_SC", act_date=date(2026, 3, 1))[0]
    text = _add(space, name="note.txt")
    db.session.commit()
    compiled, real = [], Fixed._execute
    monkeypatch.setattr(Fixed, "_execute", lambda self, params: compiled.append(self) or real(self, params))
    with loads(Document) as loaded, statements(db.engine) as seen:
        image = b"".join(previews.thumbnail_of(space, picture.id))
    assert loaded == [] and seen == [] and len(compiled) == 1
    assert image.startswith(b"\xff\xd8\xff")
    assert image == b"".join(previews.open_thumbnail(space, db.session.get(Document, picture.id)))
    assert text.thumb_blob_id is None and previews.thumbnail_of(space, text.id) is None
    other, _ = make_holder()
    assert previews.thumbnail_of(viewer_for(db.session.merge(other)), picture.id) is None
    services.set_hidden(space, [picture.id], True)
    db.session.commit()
    pro = Viewer(kind="professional", patient_id=space.patient_id, rights={"documents": {"read"}})
    assert previews.thumbnail_of(pro, picture.id) is None and previews.thumbnail_of(space, picture.id) is not None
    guardian = Viewer(kind="guardian", patient_id=space.patient_id, rights={"documents": {"read"}})
    assert previews.thumbnail_of(guardian, picture.id) is not None  # the holder's side sees hidden ones
    narrowed = Viewer(kind="holder", patient_id=space.patient_id, rights={"documents": {"read"}}, categories=("ORD",))
    assert previews.thumbnail_of(narrowed, picture.id) is None  # a category limit is the gate's, asked anew
