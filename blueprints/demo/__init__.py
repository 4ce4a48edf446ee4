"""Demo mode only: a fictitious space to try Carnet, and the outbox of mails it "sent"."""

from flask import Blueprint

bp = Blueprint("demo", __name__, url_prefix="/demo")

from blueprints.demo import routes  # noqa: E402,F401  (the route modules register on bp, here only)
