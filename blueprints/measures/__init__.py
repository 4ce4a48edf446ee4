from flask import Blueprint

bp = Blueprint("measures", __name__, url_prefix="/constantes")

from blueprints.measures import import_routes, routes  # noqa: E402,F401  (the route modules register on bp, here only)
