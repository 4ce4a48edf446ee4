from flask import Blueprint

bp = Blueprint("history", __name__, url_prefix="/historique")
# No navigation entry of its own: the history lives under "Sharing" (see blueprints/sharing),
# and the home screen links to it.

from blueprints.history import routes, rows  # noqa: E402,F401  (they register on bp, here only)
