"""A backup taken while another process deletes documents restores a space whose every
document opens: the database is copied first, the files after, and a deletion committed in
between must not take away a file the copied database still lists."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import make_url

from blueprints.documents import services
from blueprints.documents.models import Document
from core import backup, blobs
from core.blobs import BlobKey
from core.db import db
from core.storage import BlobStore, load_master_key
from tests.helpers import ROOT

PAGE = ("Compte rendu de consultation, page scannée.\n" * 3500).encode()  # ~150 kB each: copying 40 takes a while


def _documents(viewer, n: int) -> list[str]:
    ids = []
    for i in range(n):
        doc = services.add_documents(
            viewer,
            [services.Upload(io.BytesIO(PAGE + b"%d" % i), f"scan-{i}.txt")],
            category="ORD_SOIN",
            act_date=date(2026, 3, 12),
        )[0]
        ids.append(doc.id)
    db.session.commit()
    return ids


def _every_listed_document_opens(app, target, tmp_path) -> int:
    """Restore into a fresh instance (SQLite) and open every document; on PostgreSQL, the
    backup's manifest names no file its database lists but the backup lacks."""
    manifest = json.loads((target / backup.MANIFEST).read_text())
    assert manifest["missing"] == []
    if make_url(app.config["DATABASE_URL"]).get_backend_name() != "sqlite":
        return manifest["blobs"]
    fresh = tmp_path / f"fresh-{target.name}"
    (fresh / "instance").mkdir(parents=True)
    backup.restore(f"sqlite:///{fresh / 'carnet.db'}", fresh / "instance", target)
    store = BlobStore(fresh / "instance" / "blobs", load_master_key(app.instance_path))
    con = sqlite3.connect(fresh / "carnet.db")
    rows = con.execute(
        "SELECT d.blob_id, k.wrapped_key, k.sha256 FROM documents d JOIN blob_keys k ON k.blob_id = d.blob_id"
    ).fetchall()
    con.close()
    for blob_id, wrapped, sha in rows:
        store.verify(blob_id, wrapped, sha)  # raises BlobMissing / BlobCorrupt
    return len(rows)


def test_documents_deleted_by_another_process_during_backups(app, space, worker, tmp_path):
    viewer, account = space
    ids = _documents(viewer, 40)
    churn = worker("churn", account.id, *ids)
    assert churn.stdout.readline().startswith("deleted")  # the other process is deleting
    targets = []
    while not targets or (churn.poll() is None and len(targets) < 6):
        target = tmp_path / f"backup-{len(targets)}"
        backup.create(app.config["DATABASE_URL"], app.instance_path, target)
        targets.append(target)
    rest = churn.stdout.read()
    assert churn.wait() == 0 and rest.count("deleted") == 39
    for target in targets:
        _every_listed_document_opens(app, target, tmp_path)
    # once the backups ended, the deleted documents' files are gone from the live store
    db.session.rollback()
    assert db.session.scalars(select(Document)).all() == []
    assert blobs.store().deferred_deletions() == []
    assert list(blobs.store().iter_blob_ids()) == []


def test_a_deletion_committed_between_the_database_and_the_files(app, space, tmp_path):
    """Deterministic: the deletion commits right after the database copy."""
    viewer, _ = space
    kept, gone = _documents(viewer, 2)
    gone_blob = db.session.get(Document, gone).blob_id

    def delete_meanwhile():
        services.delete_document(viewer, db.session.get(Document, gone))
        db.session.commit()
        assert blobs.store().exists(gone_blob)  # deferred: the backup's database lists it

    target = tmp_path / "backup"
    manifest = backup.create(app.config["DATABASE_URL"], app.instance_path, target, after_database=delete_meanwhile)
    assert (manifest["blobs"], manifest["missing"]) == (2, [])
    assert not blobs.store().exists(gone_blob)  # removed when the backup ended
    assert _every_listed_document_opens(app, target, tmp_path) in (2, manifest["blobs"])


def test_an_upload_committed_after_the_database_copy_leaves_nothing_in_the_backup(app, space, tmp_path):
    viewer, _ = space
    _documents(viewer, 1)
    late = []

    def upload_meanwhile():
        late.extend(_documents(viewer, 1))

    target = tmp_path / "backup"
    manifest = backup.create(app.config["DATABASE_URL"], app.instance_path, target, after_database=upload_meanwhile)
    late_blob = db.session.get(Document, late[0]).blob_id
    assert manifest["blobs"] == 1 and not any(p.name == late_blob for p in (target / "blobs").rglob("*"))


def test_a_killed_backup_blocks_no_deletion(app, space, tmp_path):
    """The backup's lock is the kernel's: gone with the process that held it."""
    import signal
    import subprocess
    import sys
    import textwrap

    viewer, _ = space
    (doc_id,) = _documents(viewer, 1)
    blob_id = db.session.get(Document, doc_id).blob_id
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        from core.storage import BlobStore
        store = BlobStore({str(blobs.store().root)!r}, bytes(32))
        with store.backup_hold():
            print("holding", flush=True)
            import time; time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        services.delete_document(viewer, db.session.get(Document, doc_id))
        db.session.commit()
        assert blobs.store().exists(blob_id) and blobs.store().deferred_deletions() == [blob_id]
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()
    other = _documents(viewer, 1)
    services.delete_document(viewer, db.session.get(Document, other[0]))
    db.session.commit()  # the next deletion also carries out the deferred one
    assert not blobs.store().exists(blob_id) and blobs.store().deferred_deletions() == []
    assert db.session.scalar(select(BlobKey).where(BlobKey.blob_id == blob_id)) is None
