from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("pro", __name__, url_prefix="/pro")
web.nav_entry("pro.emergency", _l("Emergency access"), "heart-pulse", roles=("professional",), order=30)

from blueprints.pro import record_routes, routes  # noqa: E402,F401  (the route modules register on bp, here only)
