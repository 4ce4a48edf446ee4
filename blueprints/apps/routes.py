"""The catalogue of connected apps (/applications), the consent screen of SMART App Launch, and
the OAuth 2 endpoints (/oauth/...) with their discovery document."""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import jsonify, request, url_for

from blueprints.apps import bp, limits, oauth, purposes, receipt, services, signing
from blueprints.history import actions
from core import http, web
from core.access import Viewer
from core.db import db
from core.i18n import gettext as _


def _fhir_base() -> str:
    return url_for("fhir.metadata", _external=True).rsplit("/", 1)[0]


@bp.get("/.well-known/smart-configuration")
def smart_configuration():
    """SMART App Launch 2 discovery."""
    scopes = sorted({s for p in purposes.PURPOSES.values() for s in p.scopes} | set(purposes.ALWAYS) | purposes.CONTEXT)
    return jsonify(
        issuer=_fhir_base(),
        authorization_endpoint=url_for("apps.authorize", _external=True),
        token_endpoint=url_for("apps.token", _external=True),
        revocation_endpoint=url_for("apps.revoke", _external=True),
        introspection_endpoint=url_for("apps.introspect", _external=True),
        jwks_uri=url_for("apps.jwks", _external=True),
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post", "none"],
        grant_types_supported=["authorization_code", "refresh_token"],
        response_types_supported=["code"],
        code_challenge_methods_supported=["S256"],
        scopes_supported=scopes,
        capabilities=[
            "launch-standalone",
            "client-public",
            "client-confidential-symmetric",
            "context-standalone-patient",
            "permission-offline",
            "permission-patient",
            "permission-v2",
            "sso-openid-connect",
        ],
    )


@bp.get("/oauth/jwks")
def jwks():
    """The public key that checks id_tokens."""
    return jsonify(signing.jwks())


@bp.post("/oauth/token")
def token():
    """Rate-limited per client and per address (limits.py) before Authlib reads anything."""
    wait = limits.wait_seconds()
    if wait is not None:
        db.session.commit()  # the count stands
        return limits.too_many(wait)
    resp = oauth.server.create_token_response()
    db.session.commit()
    return resp


@bp.post("/oauth/revoke")
def revoke():
    resp = oauth.server.create_endpoint_response("revocation")
    db.session.commit()
    return resp


@bp.post("/oauth/introspect")
def introspect():
    return oauth.server.create_endpoint_response("introspection")


def _consent_context(app, requested: str, error: str | None = None) -> dict:
    asked = purposes.requested_purposes(requested, app.purposes)
    return {
        "app": app,
        "purposes": [
            {
                "key": k,
                "label": str(purposes.PURPOSES[k].label),
                "data": str(purposes.PURPOSES[k].data),
                "on": k in asked,
            }
            for k in app.purposes
            if k in purposes.PURPOSES
        ],
        "durations": [(k, str(label)) for k, (label, _days) in purposes.DURATIONS.items()],
        "default_duration": purposes.DEFAULT_DURATION,
        "offline": "offline_access" in requested.split(),
        "action": request.full_path.rstrip("?"),
        "error": error,
    }


def _allow_redirect(response, grant):
    """The consent form's answer redirects to the app (another origin): the page's CSP lets the
    form go there, to that one registered redirect URI's origin and nowhere else."""
    parts = urlsplit(grant.request.payload.redirect_uri)
    response.headers["Content-Security-Policy"] = http.CSP.replace(
        "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}"
    )
    return response


@bp.route("/applications/autoriser", methods=["GET", "POST"])
@web.gate("apps", "write")
def authorize(viewer: Viewer):
    """The consent screen: the holder allows purposes one by one, for a duration, and confirms
    with a fresh login or passkey; the app then gets a code for what was allowed, nothing more."""
    try:
        grant = oauth.server.get_consent_grant()
    except OAuth2Error as exc:
        return web.error_page(400, _("This app's connection request is not valid (%(reason)s).", reason=exc.error))
    if request.values.get("aud") != _fhir_base():
        return web.error_page(400, _("This app's connection request is not valid (%(reason)s).", reason="aud"))
    app = grant.client.app
    requested = grant.request.scope or ""
    if request.method == "GET":
        return _allow_redirect(web.render("apps/consent.html", **_consent_context(app, requested)), grant)
    if request.form.get("decision") == "refuse":
        return oauth.server.create_authorization_response(grant=grant, grant_user=None)
    fresh = web.ask_fresh_authentication(back=request.full_path.rstrip("?"))
    if fresh is not None:
        return fresh
    chosen = [k for k in request.form.getlist("purpose") if k in app.purposes]
    if not chosen:
        page = web.render(
            "apps/consent.html",
            status=422,
            **_consent_context(app, requested, _("Choose at least one use, or refuse.")),
        )
        return _allow_redirect(page, grant)
    duration = request.form.get("duration", purposes.DEFAULT_DURATION)
    conn = services.connect(viewer, app, chosen, duration, requested=requested)
    receipt.make(viewer, app, conn)
    resp = oauth.server.create_authorization_response(grant=grant, grant_user=conn)
    db.session.commit()
    return resp


@bp.get("/applications")
@web.gate("apps", "read")
def index(viewer: Viewer):
    purpose = request.args.get("usage")
    purpose = purpose if purpose in purposes.PURPOSES else None
    return web.render(
        "apps/index.html",
        apps=services.catalogue(viewer, purpose),
        purpose=purpose,
        purpose_choices=[(k, str(p.label)) for k, p in purposes.PURPOSES.items()],
    )


@bp.get("/applications/<app_id>")
@web.gate("apps", "read")
def show(viewer: Viewer, app_id: str):
    app = services.app_or_404(app_id)
    conn = services.live_connection(viewer, app.id)
    traces = [
        {"at": e.at, "sentence": actions.sentence(e.action, e.target_type, e.target_label, e.detail)}
        for e in services.traces(viewer, app)
    ]
    return web.render(
        "apps/show.html",
        app=app,
        connection=conn,
        choices=[
            {
                "key": k,
                "label": str(purposes.PURPOSES[k].label),
                "data": str(purposes.PURPOSES[k].data),
                "on": conn is not None and k in conn.purposes,
            }
            for k in app.purposes
            if k in purposes.PURPOSES
        ],
        saved=request.args.get("enregistre") == "1",
        receipt_url=url_for("documents.show", doc_id=conn.receipt_document_id)
        if conn is not None and conn.receipt_document_id
        else None,
        traces=traces,
    )


@bp.post("/applications/<app_id>/deconnecter")
@web.gate("apps", "write")
def disconnect(viewer: Viewer, app_id: str):
    app = services.app_or_404(app_id)
    conn = services.live_connection(viewer, app.id)
    if conn is not None:
        services.end(viewer, conn)
        db.session.commit()
    return web.hx_redirect(url_for("apps.show", app_id=app.id))


@bp.post("/applications/<app_id>/usages")
@web.gate("apps", "write")
def change(viewer: Viewer, app_id: str):
    """The holder changes the uses allowed; none left means disconnecting."""
    app = services.app_or_404(app_id)
    conn = services.live_connection(viewer, app.id)
    if conn is not None:
        chosen = request.form.getlist("purpose")
        if any(k in app.purposes for k in chosen):
            services.change_purposes(viewer, app, conn, chosen)
        else:
            services.end(viewer, conn)
        db.session.commit()
    return web.hx_redirect(url_for("apps.show", app_id=app.id, enregistre=1) + "#connection")
