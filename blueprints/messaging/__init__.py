from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("messaging", __name__, url_prefix="/messages")
web.nav_entry(
    "messaging.index",
    _l("Messages"),
    "message-square",
    roles=("holder", "professional"),
    order=25,
    badge="messaging.unread",
)

from blueprints.messaging import routes  # noqa: E402,F401  (the route modules register on bp, here only)
