from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("sharing", __name__, url_prefix="/partage")
web.nav_entry("sharing.index", _l("Sharing"), "share-2", order=30, sections=("history", "apps"))

from blueprints.sharing import routes, routes_people  # noqa: E402,F401  (the route modules register on bp, here only)
