"""Asking for an export, following it, downloading the zip, and removing expired zips.

One export at a time per space: asking again while one runs shows that one. A finished zip is
downloadable for 7 days (runner.KEEP); `flask --app app lifecycle run` shreds it after that."""

from __future__ import annotations

from collections.abc import Iterator

from flask import request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueprints.export import runner
from blueprints.export.models import SpaceExport
from core import access, audit, blobs, clock, jobs
from core.access import Viewer
from core.db import db, write_intent


def latest(viewer: Viewer) -> SpaceExport | None:
    """The space's newest export, whatever its state."""
    stmt = access.scope(viewer, select(SpaceExport)).order_by(SpaceExport.created_at.desc(), SpaceExport.id.desc())
    return db.session.scalar(stmt.limit(1))


def get(viewer: Viewer, job_id: str) -> SpaceExport:
    return access.get_or_404(viewer, SpaceExport, job_id)


def running(job: SpaceExport | None) -> bool:
    return job is not None and job.status in ("pending", "running")


def downloadable(job: SpaceExport | None) -> bool:
    return (
        job is not None
        and job.status == "done"
        and job.blob_id is not None
        and job.expires_at is not None
        and job.expires_at > clock.utcnow()
    )


def ask(viewer: Viewer) -> tuple[SpaceExport, bool]:
    """Start an export, unless one runs already (that one is returned). (job, started).
    Committed first: the job runs in a thread of its own, which must see the row."""
    access.require(viewer, "export", "write")
    write_intent()
    current = latest(viewer)
    if running(current):
        return current, False
    job = SpaceExport(patient_id=viewer.patient_id, base_url=request.host_url.rstrip("/"), asked_by=viewer.account_id)
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:  # another request started one a moment ago: that one is shown
        db.session.rollback()
        return latest(viewer), False
    runner.start(job.id)
    return job, True


def take_over_if_dead(job: SpaceExport) -> bool:
    """From the page showing the job: start it again at once if nobody runs it any more."""
    if running(job) and jobs.takeable(job.id, job.status, job.runner, job.heartbeat_at):
        if job.status == "pending" and job.created_at > clock.utcnow() - jobs.STALE:
            return False  # just asked for: its thread is on its way
        return runner.start(job.id) is not None
    return False


def download(viewer: Viewer, job: SpaceExport) -> Iterator[bytes]:
    """The zip's bytes, decrypted chunk by chunk (checked against its SHA-256); traced. A GET
    that writes (the date, the trace): it asks for the write lock before it reads."""
    access.require(viewer, "export", "read")
    write_intent()
    key = blobs.key_or_404(job.blob_id)  # shredded since the page's check: as after the shred
    chunks = blobs.store().open(key.blob_id, key.wrapped_key, key.sha256)
    job.downloaded_at = clock.utcnow()
    audit.record(viewer, audit.Action.EXPORT_DOWNLOADED, job, detail={"size": job.size})
    return chunks


def filename(job: SpaceExport) -> str:
    return f"carnet-mes-donnees-{clock.paris(job.finished_at).date().isoformat()}.zip"


def remove_expired(now=None, dry_run: bool = False) -> int:
    """Shred the zips past their 7 days (the job rows stay: the history names them)."""
    now = now or clock.utcnow()
    due = list(
        db.session.scalars(select(SpaceExport).where(SpaceExport.blob_id.is_not(None), SpaceExport.expires_at <= now))
    )
    if dry_run:
        db.session.rollback()
        return len(due)
    for job in due:
        blobs.shred([job.blob_id], job.patient_id)
        job.blob_id = None
    db.session.commit()
    return len(due)
