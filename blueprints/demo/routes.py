from flask import abort, current_app

from blueprints.demo import bp
from core import notify, web


@bp.get("/courriels")
def outbox():
    """Mails the demo "sent" (activation letters, login codes). Never outside demo mode."""
    if not current_app.config["DEMO"]:
        abort(404)
    return web.render("demo/outbox.html", mails=notify.read_outbox(30))
