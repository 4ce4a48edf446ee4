from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("agenda", __name__, url_prefix="/agenda")
web.nav_entry("agenda.index", _l("Agenda"), "calendar", order=26, phone=False)

from blueprints.agenda import pro_routes, routes  # noqa: E402,F401  (the route modules register on bp, here only)
