from flask import Blueprint, jsonify

from blueprints.apps import oauth, services
from core import web

bp = Blueprint("apps", __name__)


def _oauth_error(status: int, exc):
    """Errors of the OAuth endpoints, as RFC 6749 words them."""
    return jsonify(error="invalid_request" if status < 500 else "server_error"), status


web.register_bearer(services.bearer_viewer)
web.register_api("/oauth", _oauth_error)


@bp.record_once
def _setup(state):
    """The token, revocation and introspection endpoints take no cookie and no CSRF token."""
    oauth.init_app(state.app)
    for view in ("token", "revoke", "introspect"):
        state.app.extensions["csrf"].exempt(f"blueprints.apps.routes.{view}")


from blueprints.apps import routes  # noqa: E402,F401  (the route modules register on bp, here only)
