from flask import Blueprint
from flask_babel import lazy_gettext as _l

from core import web

bp = Blueprint("documents", __name__, url_prefix="/documents")
web.nav_entry("documents.index", _l("Documents"), "file-text", order=20)
