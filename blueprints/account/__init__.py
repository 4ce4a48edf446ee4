from flask import Blueprint
from flask_babel import lazy_gettext as _l

from core import web

bp = Blueprint("account", __name__, url_prefix="/compte")
web.nav_entry("account.index", _l("Account"), "shield-check", roles=("holder", "professional"), order=90)
