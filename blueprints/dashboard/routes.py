from flask import current_app, redirect, send_from_directory, url_for

from blueprints.agenda import practice
from blueprints.dashboard import bp, services
from blueprints.helpers import services as helpers
from blueprints.messaging import services as messaging
from blueprints.pro import services as pro
from core import web


@bp.get("/")
@web.gate(("dashboard", "pro"))
def index(viewer):
    """Each person's home: the holder's, the professional's; a code session's is its record."""
    if viewer.grant_kind == "share":  # a code session has one record and nothing else
        return redirect(url_for("pro.record", access_id=viewer.grant_id))
    if viewer.kind == "professional":
        return web.render(
            "dashboard/pro.html",
            pro=pro.home(viewer),
            messages=messaging.summary(viewer),
            agenda=practice.overview(viewer),
        )
    if viewer.kind == "helper":  # the space of someone they help: only what their scope opens
        return web.render("dashboard/helper.html", home=helpers.helper_home(viewer))
    return web.render("dashboard/index.html", home=services.holder_home(viewer))


@bp.get("/accessibilite")
def accessibility():
    """The accessibility statement (RGAA): public, as the law asks, shown in the frame of
    whoever reads it (logged in or not)."""
    return web.render("dashboard/accessibility.html", contact=current_app.config["ACCESSIBILITY_CONTACT"])


@bp.get("/sw.js")
def service_worker():
    """Served from the root so its scope is the whole app; it caches static assets only."""
    resp = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


@bp.get("/manifest.webmanifest")
def manifest():
    return send_from_directory(
        current_app.static_folder, "manifest.webmanifest", mimetype="application/manifest+json", max_age=3600
    )
