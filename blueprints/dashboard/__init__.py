from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("dashboard", __name__)
web.nav_entry("dashboard.index", _l("Home"), "house", roles=("holder", "professional"), order=10)

from blueprints.dashboard import routes  # noqa: E402,F401  (the route modules register on bp, here only)
