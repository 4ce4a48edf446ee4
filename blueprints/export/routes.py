"""The "Take all my data with you" screen: what the zip holds, starting it (after a fresh
authentication), its progress (polled), then the download for 7 days."""

from __future__ import annotations

from flask import Response, abort, stream_with_context, url_for
from flask_wtf import FlaskForm

from blueprints.export import bp, services
from core import sessions, web
from core.access import Viewer


def _page(viewer: Viewer, job=None, **extra) -> dict:
    if viewer.kiosk:
        abort(403)  # a file left on a public kiosk would outlive the session
    job = job if job is not None else services.latest(viewer)
    return dict(
        job=job,
        running=services.running(job),
        ready=services.downloadable(job),
        form=FlaskForm(),
        **extra,
    )


@bp.get("/mon-espace/recuperer")
@web.gate("export", "read")
def index(viewer: Viewer):
    job = services.latest(viewer)
    if job is not None:
        services.take_over_if_dead(job)
    return web.render("export/index.html", **_page(viewer, job))


@bp.post("/mon-espace/recuperer")
@web.gate("export", "write")
def start(viewer: Viewer):
    """Exporting everything needs an authentication of the last few minutes."""
    if viewer.kiosk:
        abort(403)
    fresh = web.ask_fresh_authentication(url_for("export.index"))
    if fresh is not None:
        return fresh
    if not FlaskForm().validate_on_submit():
        return web.error_page(400)
    services.ask(viewer)
    return web.hx_redirect(url_for("export.index") + "#export-status")


@bp.get("/mon-espace/recuperer/<job_id>/etat")
@web.gate("export", "read")
@sessions.passive
def status(viewer: Viewer, job_id: str):
    """The progress card, polled every second while the job runs (never keeps the session alive)."""
    job = services.get(viewer, job_id)
    services.take_over_if_dead(job)
    return web.render("export/index.html", "export/_status.html", **_page(viewer, job, polled=True))


@bp.get("/mon-espace/recuperer/<job_id>/carnet.zip")
@web.gate("export", "read")
def download(viewer: Viewer, job_id: str):
    """The zip, within its 7 days, after a fresh authentication (it holds everything)."""
    if viewer.kiosk:
        abort(403)
    fresh = web.ask_fresh_authentication(url_for("export.index"))
    if fresh is not None:
        return fresh
    job = services.get(viewer, job_id)
    if not services.downloadable(job):
        return web.error_page(404)
    chunks = services.download(viewer, job)
    resp = Response(stream_with_context(chunks), mimetype="application/zip")
    resp.headers["Content-Disposition"] = f'attachment; filename="{services.filename(job)}"'
    resp.headers["Content-Length"] = str(job.size)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
