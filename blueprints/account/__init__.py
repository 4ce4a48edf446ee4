from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("account", __name__, url_prefix="/compte")
web.nav_entry("account.index", _l("Account"), "shield-check", roles=("holder", "professional"), order=90, phone=False)

from blueprints.account import routes  # noqa: E402,F401  (the route modules register on bp, here only)
