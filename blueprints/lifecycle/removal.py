"""Deleting a space and everything in it, whatever feature stored it.

Every table that points at the space (a foreign key to `patients`), at its accounts, or at such
rows in turn, is emptied of the space's rows, children first: a feature added tomorrow is
covered the day its table is. The files' keys are deleted in the same transaction (core.blobs):
the encrypted files become unreadable at once, copies in old backups included, and are removed
from the disk after the commit. The access trail is kept, as the law asks: it holds no health
data, only who did what and when.
"""

from __future__ import annotations

from sqlalchemy import Table, delete, or_, select

from core import blobs
from core.blobs import BlobKey
from core.db import Base, db
from core.people import Patient

KEPT = {"audit_events"}


def _conditions(patient_id: str) -> dict[Table, object]:
    """For each table, the condition that picks the space's rows (parents before children)."""
    patients = Patient.__table__
    found: dict[Table, object] = {patients: patients.c.id == patient_id}
    for table in Base.metadata.sorted_tables:
        if table is patients or table.name in KEPT:
            continue
        parts = [
            fk.parent.in_(select(fk.column).where(found[fk.column.table]))
            if fk.column.table is not patients
            else fk.parent == patient_id
            for fk in table.foreign_keys
            if fk.column.table in found
        ]
        if parts:
            found[table] = or_(*parts)
    return found


def delete_space(patient_id: str) -> int:
    """Delete the space's rows and shred its files, in the caller's transaction. Returns the
    number of files made unreadable."""
    blob_ids = list(db.session.scalars(select(BlobKey.blob_id).where(BlobKey.patient_id == patient_id)))
    found = _conditions(patient_id)
    for table in reversed(list(found)):  # the key rows go with the rest, after the rows using them
        db.session.execute(delete(table).where(found[table]), execution_options={"synchronize_session": False})
    blobs.shred(blob_ids, patient_id)  # the files leave the disk once this commits
    db.session.expire_all()
    return len(blob_ids)
