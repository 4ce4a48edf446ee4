from flask import Blueprint

bp = Blueprint("measures", __name__, url_prefix="/constantes")

from blueprints.measures import routes, rows  # noqa: E402,F401  (they register on bp, here only)
from blueprints.measures.imports import routes as import_routes  # noqa: E402,F401  (the import pages register on bp too)
