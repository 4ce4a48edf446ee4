from flask import Blueprint
from flask_babel import lazy_gettext as _l

from core import web

bp = Blueprint("history", __name__, url_prefix="/historique")
web.nav_entry("history.index", _l("History"), "history", order=80)
