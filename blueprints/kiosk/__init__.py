from flask import Blueprint

bp = Blueprint("kiosk", __name__)

from blueprints.kiosk import routes  # noqa: E402,F401  (the route modules register on bp, here only)
