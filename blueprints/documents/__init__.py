from flask import Blueprint
from flask_babel import lazy_gettext as _l

from core import web

bp = Blueprint("documents", __name__, url_prefix="/documents")
web.nav_entry("documents.index", _l("Documents"), "file-text", order=20)

from blueprints.documents import routes  # noqa: E402,F401  (the route modules register on bp, here only)
