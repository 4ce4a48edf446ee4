"""What the import pages ask of imports: the recent ones, and the steps a person takes
(send, choose columns, confirm, cancel), each committed where a job's thread must see it."""

from __future__ import annotations

from sqlalchemy import select, update

from blueprints.measures.imports import jobs
from blueprints.measures.imports.upload import FORMATS, shred
from blueprints.measures.models import MeasureImport
from core import access
from core.access import Viewer
from core.db import db


def recent_imports(viewer: Viewer, limit: int = 10) -> list[MeasureImport]:
    """The last imports sent (not the previews still waiting for the person's choice)."""
    return list(
        db.session.scalars(
            access.scope(viewer, select(MeasureImport))
            .where(MeasureImport.status != "preview", MeasureImport.format.in_(FORMATS))
            .order_by(MeasureImport.created_at.desc())
            .limit(limit)
        )
    )


def launch_import(imp: MeasureImport) -> None:
    """Committed first: the import's job runs in a thread of its own, which must see the row."""
    db.session.commit()
    if imp.status == "pending":
        jobs.start(imp.id)


def choose_columns(imp: MeasureImport, options: dict) -> None:
    imp.options = options
    db.session.commit()


def confirm_import(imp: MeasureImport) -> None:
    """A preview becomes a job once, however many times it is confirmed (two tabs, two clicks)."""
    started = db.session.execute(
        update(MeasureImport)
        .where(MeasureImport.id == imp.id, MeasureImport.status == "preview")
        .values(status="pending")
    ).rowcount
    db.session.commit()
    if started:
        jobs.start(imp.id)


def cancel_import(imp: MeasureImport) -> None:
    """A preview given up: its file is shredded and its row deleted."""
    shred(imp)
    db.session.delete(imp)
