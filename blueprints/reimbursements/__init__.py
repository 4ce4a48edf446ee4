from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("reimbursements", __name__, url_prefix="/remboursements")
web.nav_entry("reimbursements.index", _l("Reimbursements"), "receipt", order=27, phone=False)

from blueprints.reimbursements import routes  # noqa: E402,F401  (the route modules register on bp, here only)
from blueprints.reimbursements.imports import routes as import_routes  # noqa: E402,F401
