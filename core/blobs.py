"""Blob keys and their life cycle, shared by every feature that stores files (documents and
their thumbnails, measure imports...).

A blob's data key lives only in `blob_keys`: deleting that row makes the encrypted file
unreadable (crypto-shredding), whatever copies of the file remain. So that a file either fully
exists or is fully absent:
- storing: the blob is written durably by `BlobStore.put` before its key row is flushed; if the
  transaction rolls back, the blobs written for it are removed at once; after a crash they are
  orphans that `flask storage check --remove-orphans` removes.
- shredding: the key rows are deleted in the transaction; the files are removed only after the
  commit (a crash in between leaves an unreadable orphan).
"""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO

from flask import abort, current_app
from sqlalchemy import ForeignKey, LargeBinary, String, delete, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, db
from core.storage import BlobStore, CheckReport, StoredBlob

_NEW = "carnet.blobs.new"
_GONE = "carnet.blobs.deleted"


class BlobKey(Base):
    __tablename__ = "blob_keys"

    blob_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(64))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)


def store() -> BlobStore:
    """The app's blob store, made once per app from its instance folder."""
    app = current_app._get_current_object()
    blobs = app.extensions.get("carnet.blobs")
    if blobs is None:
        blobs = app.extensions["carnet.blobs"] = BlobStore.from_instance(app.instance_path)
    return blobs


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_NEW, None)
    for blobs, blob_id in session.info.pop(_GONE, []):
        blobs.delete(blob_id)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_GONE, None)
    for blobs, blob_id in session.info.pop(_NEW, []):
        blobs.delete(blob_id)


def _remember(key: str, blobs: BlobStore, blob_id: str) -> None:
    db.session.info.setdefault(key, []).append((blobs, blob_id))


def key(blob_id: str) -> BlobKey | None:
    """A blob's key row, to open it; None when the row is gone: the blob was shredded."""
    return db.session.get(BlobKey, blob_id)


def key_or_404(blob_id: str) -> BlobKey:
    """key(), for a page: 404 when the blob was shredded."""
    found = key(blob_id)
    if found is None:
        abort(404)
    return found


def put(stream: BinaryIO, patient_id: str, max_size: int | None = None) -> StoredBlob:
    """Write a blob durably and add its key row; a rollback removes the file. Raises BlobTooLarge."""
    blobs = store()
    stored = blobs.put(stream, max_size=max_size)
    _remember(_NEW, blobs, stored.blob_id)
    db.session.add(
        BlobKey(blob_id=stored.blob_id, patient_id=patient_id, wrapped_key=stored.wrapped_key, sha256=stored.sha256)
    )
    return stored


def forget(blob_ids: list[str]) -> None:
    """Undo put() within the transaction: the key rows out of the session, the files removed
    now (for a caller that goes on with its transaction instead of rolling it back)."""
    for obj in list(db.session.new):
        if isinstance(obj, BlobKey) and obj.blob_id in blob_ids:
            db.session.expunge(obj)
    blobs = store()
    for blob_id in blob_ids:
        blobs.delete(blob_id)


def shred(blob_ids: list[str], patient_id: str) -> None:
    """Delete the key rows in this transaction; the files go once it commits."""
    if not blob_ids:
        return
    db.session.execute(delete(BlobKey).where(BlobKey.blob_id.in_(blob_ids), BlobKey.patient_id == patient_id))
    blobs = store()
    for blob_id in blob_ids:
        _remember(_GONE, blobs, blob_id)


def check(remove_orphans: bool = False, grace_seconds: float | None = None) -> CheckReport:
    """Verify every blob a row knows; report (and optionally remove) files no row knows."""
    known = {k.blob_id: (k.wrapped_key, k.sha256) for k in db.session.scalars(select(BlobKey))}
    if grace_seconds is None:  # an upload writes its file and commits within one request
        grace_seconds = 2.0 * float(current_app.config["REQUEST_TIMEOUT_SECONDS"])
    return store().check(known, remove_orphans=remove_orphans, grace_seconds=grace_seconds)
