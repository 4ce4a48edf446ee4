"""The emergency card a holder may keep on their own device, readable without a connection."""

from flask import Blueprint

bp = Blueprint("card", __name__, url_prefix="/carte-urgence")

from blueprints.card import routes  # noqa: E402,F401  (the route modules register on bp, here only)
