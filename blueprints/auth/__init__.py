from flask import Blueprint

bp = Blueprint("auth", __name__)

from blueprints.auth import routes  # noqa: E402,F401  (the route modules register on bp, here only)
