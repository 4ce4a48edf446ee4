from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("helpers", __name__, url_prefix="/aidants")
web.nav_entry("helpers.index", _l("Helpers"), "users", order=32, phone=False)

from blueprints.helpers import routes  # noqa: E402,F401  (the route module registers on bp, here only)
