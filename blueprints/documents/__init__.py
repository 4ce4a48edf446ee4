from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("documents", __name__, url_prefix="/documents")
web.nav_entry("documents.index", _l("Documents"), "file-text", order=20)

from blueprints.documents import routes, rows  # noqa: E402,F401  (they register on bp, here only)
