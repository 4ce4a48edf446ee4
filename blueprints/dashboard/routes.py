from flask import current_app, redirect, send_from_directory, url_for

from blueprints.dashboard import bp, services
from core import access, web


@bp.get("/")
def index():
    viewer = web.current_viewer()
    if viewer.grant_kind == "share":  # a code session has one record and nothing else
        return redirect(url_for("pro.record", access_id=viewer.grant_id))
    if viewer.kind == "professional":
        from blueprints.pro import services as pro

        access.require(viewer, "pro", "read")
        return web.render("dashboard/pro.html", pro=pro.home(viewer))
    access.require(viewer, "dashboard", "read")
    return web.render("dashboard/index.html", home=services.holder_home(viewer))


@bp.get("/sw.js")
def service_worker():
    """Served from the root so its scope is the whole app; it caches static assets only."""
    resp = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


@bp.get("/manifest.webmanifest")
def manifest():
    return send_from_directory(current_app.static_folder, "manifest.webmanifest",
                               mimetype="application/manifest+json", max_age=3600)
