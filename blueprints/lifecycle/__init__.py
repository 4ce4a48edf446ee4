from flask import Blueprint

bp = Blueprint("lifecycle", __name__)

from blueprints.lifecycle import routes  # noqa: E402,F401  (the route modules register on bp, here only)
