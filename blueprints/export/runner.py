"""Running an export: claimed atomically (core.jobs), the zip written to a private temporary
file, then stored encrypted in the blob store, the holder told (a card in Carnet, and a mail as
they chose for messages). A job whose runner died is taken over from the page that shows it."""

from __future__ import annotations

import logging
import os
import tempfile
import time
import zipfile
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update

from blueprints.export import archive, bundle
from blueprints.export.models import SpaceExport
from core import access, audit, blobs, clock, jobs, notify
from core.db import db, reads_in_background, write_intent
from core.i18n import gettext as _
from core.people import Account

log = logging.getLogger(__name__)
KEEP = timedelta(days=7)
BEAT_SECONDS = 1.0  # progress (and the heartbeat) written at most this often


class Stopped(Exception):
    """Another runner took the job over (this one was thought dead): let it finish."""


class Progress:
    """Counts the steps done and writes them on the job's row now and then, with the heartbeat."""

    def __init__(self, job_id: str):
        self.job_id, self.done, self.last = job_id, 0, 0.0

    def tick(self, n: int) -> None:
        self.done += n
        if time.monotonic() - self.last >= BEAT_SECONDS:
            self.flush()

    def flush(self) -> None:
        S = SpaceExport
        db.session.commit()  # end any read: the update starts a transaction of its own
        moved = db.session.execute(
            update(S)
            .where(S.id == self.job_id, S.runner == jobs.this_runner(), S.status == "running")
            .values(done_steps=self.done, heartbeat_at=clock.utcnow())
        ).rowcount
        db.session.commit()
        self.last = time.monotonic()
        if not moved:
            raise Stopped()


def holder_of(job: SpaceExport) -> tuple[Account | None, access.Viewer | None]:
    """Who the job acts as: the account that asked, as the holder of the space or as a guardian
    of the child whose space it is (None when that guardianship has ended); a job without an
    asker (made by a command) acts as the space's holder."""
    if job.asked_by is None:
        account = db.session.scalar(
            select(Account).where(Account.patient_id == job.patient_id, Account.role == "holder")
        )
        return account, access.viewer_for(account) if account is not None else None
    account = db.session.get(Account, job.asked_by)
    viewer = access.viewer_for(account) if account is not None else None
    if viewer is not None and viewer.patient_id != job.patient_id:
        viewer = access.guardian_viewer(viewer, job.patient_id)
    if viewer is None or not access.can(viewer, "export", "write"):
        return account, None
    return account, viewer


def run(job_id: str) -> SpaceExport | None:
    """Run one export to its end (done or failed). None when another runner has it."""
    job = jobs.claim(SpaceExport, job_id)
    if job is None:
        return None
    try:
        with current_app.test_request_context(base_url=job.base_url):  # links and the summary's QR code
            return _run(job)
    finally:
        jobs.release(job_id)


def _run(job: SpaceExport) -> SpaceExport | None:
    job_id, base = job.id, job.base_url.rstrip("/") + "/fhir"
    reads_in_background()
    _account, viewer = holder_of(job)
    if viewer is None:  # the asker may no longer act in this space
        return _finish(job_id, "failed")
    found = bundle.counts(viewer)
    counts = {
        "documents": found.get("DocumentReference", 0),
        "measures": found.get("Observation", 0),
        "traces": found.get("AuditEvent", 0),
    }
    job.total_steps = counts["documents"] + sum(found.values()) + counts["measures"] + counts["traces"] + 1
    db.session.commit()
    progress = Progress(job_id)
    folder = Path(current_app.instance_path) / "tmp"
    folder.mkdir(mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="export-", suffix=".zip", dir=folder)
    try:
        with os.fdopen(fd, "w+b") as fh:
            with zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
                made = archive.build(zf, viewer, base, counts, progress.tick)
            progress.flush()
            write_intent()
            fh.seek(0)
            stored = blobs.put(fh, job.patient_id)
            return _finish(job_id, "done", stored=stored, made=made)
    except Stopped:
        db.session.rollback()
        return None
    except Exception:  # noqa: BLE001 - any failure ends the job as failed: the holder may start again
        db.session.rollback()
        write_intent()
        log.exception("space export %s failed", job_id)
        return _finish(job_id, "failed")
    finally:
        Path(tmp).unlink(missing_ok=True)


def _finish(job_id: str, status: str, *, stored=None, made: dict | None = None) -> SpaceExport:
    job = db.session.get(SpaceExport, job_id, populate_existing=True)
    now = clock.utcnow()
    job.status, job.finished_at, job.heartbeat_at = status, now, now
    if stored is not None:
        job.blob_id, job.size, job.expires_at = stored.blob_id, stored.size, now + KEEP
    job.error = None if status == "done" else "internal"
    account, viewer = holder_of(job)
    audit.record(viewer or audit.SYSTEM, audit.Action.EXPORT_PREPARED, job, detail={"status": status, **(made or {})})
    _tell(account, job)
    db.session.commit()
    return job


def _tell(account: Account, job: SpaceExport) -> None:
    """A card among the notifications; a mail too unless the holder chose otherwise for messages."""
    db.session.add(
        notify.Notification(
            patient_id=job.patient_id,
            kind="export_ready" if job.status == "done" else "export_failed",
            detail={"export": job.id},
            last_at=clock.utcnow(),
        )
    )
    if account is None or notify.preferences(job.patient_id).get("message") != "mail":
        return
    with force_locale(account.locale or "fr"):
        if job.status == "done":
            subject = _("Carnet: your data is ready to download")
            body = _(
                "The copy of all your data you asked for is ready. Log in to Carnet, open “Security and "
                "login”, then “Take all my data with you” to download it. It can be downloaded for 7 days."
            )
        else:
            subject = _("Carnet: the copy of your data could not be prepared")
            body = _(
                "The copy of all your data you asked for could not be prepared. Log in to Carnet, open "
                "“Security and login”, then “Take all my data with you” to start it again."
            )
    notify.send_mail(account.email, subject, body)


def start(job_id: str):
    """Run the job in a thread of this process (not where jobs run elsewhere: tests, commands)."""
    if not current_app.config.get("EXPORT_THREADS", True):
        return None
    return jobs.in_thread(f"space-export-{job_id[:8]}", run, job_id)
