"""Backups: database (SQLite backup API, or pg_dump) plus encrypted files, restored whole;
the restored space passes the audit chain check and every file's hash check."""

from datetime import date
from pathlib import Path

from sqlalchemy import select

from blueprints.documents import services
from blueprints.documents.models import Document
from core import audit, blobs
from core.blobs import BlobKey
from core.db import db
from tests.helpers import add_text as _add
from tests.samples import pdf_bytes, png_bytes


def test_backup_then_restore_round_trip(app, space, tmp_path):
    kept = _add(space, pdf_bytes(), "bilan.pdf", category="BIOLOGIE")
    photo = _add(space, png_bytes(), "radio.png", category="RADIO_SC", act_date=date(2025, 1, 2))
    db.session.commit()
    original = {d.id: blobs.store().read_all(d.blob_id, *_key(d)) for d in (kept, photo)}
    runner = app.test_cli_runner()
    target = tmp_path / "backup"
    made = runner.invoke(args=["backup", "create", str(target)])
    assert made.exit_code == 0, made.output
    assert "master" not in {p.name for p in target.rglob("*")} and not (target / "keys").exists()
    assert "audit.key" not in {p.name for p in target.rglob("*")}
    assert (target / "audit-anchor.log").read_text() == Path(app.config["AUDIT_ANCHOR_FILE"]).read_text()

    services.delete_document(space, db.session.get(Document, photo.id))  # life goes on after the backup
    _add(space, name="after-the-backup.txt")
    db.session.commit()

    db.session.remove()
    db.engine.dispose()
    restored = runner.invoke(args=["backup", "restore", "--yes", str(target)])
    assert restored.exit_code == 0, restored.output
    db.engine.dispose()
    titles = sorted(db.session.scalars(select(Document.title)))
    assert titles == ["Bilan", "Radio"]
    for doc in db.session.scalars(select(Document)):
        assert blobs.store().read_all(doc.blob_id, *_key(doc)) == original[doc.id]
    assert audit.verify().ok  # the anchors of the backup came back with its database
    anchors = Path(app.config["AUDIT_ANCHOR_FILE"])
    assert anchors.read_text() == (target / "audit-anchor.log").read_text()
    replaced = list(anchors.parent.glob("anchor.log.replaced-*"))  # the later heads, kept aside
    assert len(replaced) == 1 and len(replaced[0].read_text().splitlines()) > len(anchors.read_text().splitlines())
    report = blobs.check(remove_orphans=False, grace_seconds=0)
    assert report.corrupt == [] and report.missing == [] and report.orphans == []


def test_backup_refuses_a_non_empty_target(app, tmp_path):
    (tmp_path / "x").write_text("something")
    result = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path)])
    assert result.exit_code != 0 and "not empty" in result.output


def _key(doc):

    key = db.session.get(BlobKey, doc.blob_id)
    return key.wrapped_key, key.sha256


def test_backup_names_a_file_already_lost_and_exits_1(app, space, tmp_path):
    kept = _add(space, pdf_bytes(), "bilan.pdf", category="BIOLOGIE")
    lost = _add(space, name="perdu.txt")
    db.session.commit()
    blobs.store().path_of(lost.blob_id).unlink()
    result = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "b")])
    assert result.exit_code == 1 and f"missing: {lost.blob_id}" in result.output
    assert "1 files the database knows were already missing" in result.output
    copied = {p.name for p in (tmp_path / "b" / "blobs").rglob("*") if p.is_file()}
    assert kept.blob_id in copied and lost.blob_id not in copied
