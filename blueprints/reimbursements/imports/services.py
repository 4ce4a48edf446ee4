"""Sending a statement: the holder's upload and the operator's command share these steps."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from blueprints.measures.imports import jobs
from blueprints.measures.imports.upload import store_upload
from blueprints.measures.models import MeasureImport
from blueprints.reimbursements.imports import FORMATS
from core import access
from core.access import Viewer
from core.db import db
from core.people import Patient


def guess_format(filename: str, head: bytes) -> str:
    """JSON is FHIR, anything else the CSV statement."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "eob" if start.startswith(b"{") or (filename or "").lower().endswith((".json", ".ndjson")) else "releve"


def send(viewer: Viewer, filename: str, stream, fmt: str | None = None) -> MeasureImport:
    """Store the file and record its job (not started: see launch). Raises Refused."""
    fmt = fmt or guess_format(filename, stream.read(64))
    stream.seek(0)
    nir = db.session.scalar(select(Patient.nir).where(Patient.id == viewer.patient_id))
    return store_upload(viewer, fmt, filename, stream, options={"nir": nir})


def launch(imp: MeasureImport, in_thread: bool = True) -> MeasureImport | None:
    """Committed first (the job's thread must see the row); then run in a thread of this
    process, or here to its end (the operator's command)."""
    db.session.commit()
    if in_thread:
        jobs.start(imp.id)
        return None
    return jobs.run(imp.id)


def recent(viewer: Viewer, limit: int = 5) -> list[MeasureImport]:
    return list(
        db.session.scalars(
            access.scope(viewer, select(MeasureImport))
            .where(MeasureImport.format.in_(FORMATS))
            .order_by(MeasureImport.created_at.desc())
            .limit(limit)
        )
    )


def get(viewer: Viewer, import_id: str) -> MeasureImport:
    imp = access.get_or_404(viewer, MeasureImport, import_id)
    if imp.format not in FORMATS:
        abort(404)
    return imp
