from flask import Blueprint

from blueprints.fhir import outcome
from core import web

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
web.register_api("/fhir", outcome.on_http_error)


@bp.record_once
def _no_csrf(state):
    """Apps call with a bearer token, never a cookie (core.web reads no session under /fhir)."""
    state.app.extensions["csrf"].exempt(bp)


from blueprints.fhir import routes  # noqa: E402,F401  (the route modules register on bp, here only)
