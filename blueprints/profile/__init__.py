from flask import Blueprint

from core import web
from core.i18n import lazy_gettext as _l

bp = Blueprint("profile", __name__, url_prefix="/profil")
web.nav_entry("profile.index", _l("My health"), "heart-pulse", order=15, sections=("measures",))

from blueprints.profile import routes  # noqa: E402,F401  (the route modules register on bp, here only)
from blueprints.profile.synthesis import routes as synthesis_routes  # noqa: E402,F401
