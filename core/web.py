"""Request plumbing shared by every screen: who the viewer is, the gate each route names,
page-or-fragment rendering, security headers, error pages, and the navigation each feature
adds itself to."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import NamedTuple
from urllib.parse import urlsplit

import htmx_flask
from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, gettext as _, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core import access, sessions
from core.db import db
from core.storage import BlobCorrupt, BlobMissing

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
)
LANGUAGES = {"fr": "Français", "en": "English"}


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object  # lazy string
    icon: str
    roles: tuple[str, ...]
    order: int
    sections: tuple[str, ...]  # active when the request's blueprint is one of these


_NAV: list[NavEntry] = []


def nav_entry(endpoint: str, label, icon: str, roles=("holder",), order: int = 50, sections: tuple = ()):
    """A feature adds itself to the navigation here; nothing else lists features.
    `sections` names other blueprints that live under this entry (measures under "My health")."""
    if not any(e.endpoint == endpoint for e in _NAV):
        _NAV.append(NavEntry(endpoint, label, icon, tuple(roles), order, (endpoint.split(".")[0], *sections)))
        _NAV.sort(key=lambda e: e.order)


def navigation(viewer: access.Viewer) -> tuple[dict, ...]:
    if not viewer.is_authenticated:
        return ()
    # A code session has one record and no account: its record's tabs are its navigation, and
    # entries for people with an account (home, security) would only answer "refused".
    kind = "code" if viewer.grant_kind == "share" else viewer.kind
    return _navigation(kind, request.blueprint, str(get_locale() or "fr"), request.script_root, len(_NAV))


@lru_cache(maxsize=256)
def _navigation(kind: str, current: str | None, _locale: str, _root: str, _entries: int) -> tuple[dict, ...]:
    """Built once per role, section and language (and mount point): the same on every page."""
    return tuple(
        {"url": url_for(e.endpoint), "label": str(e.label), "icon": e.icon, "active": current in e.sections}
        for e in _NAV
        if kind in e.roles
    )[:5]


@lru_cache(maxsize=16)
def _shell_urls(_root: str) -> tuple[tuple[dict, ...], str]:
    """Language switch targets and the logout URL: constant for a mount point."""
    return (
        tuple(
            {"code": c, "label": label, "url": url_for("auth.set_language", lang=c)} for c, label in LANGUAGES.items()
        ),
        url_for("auth.logout"),
    )


def current_viewer() -> access.Viewer:
    viewer = g.get("viewer")
    if viewer is None:
        viewer = g.viewer = _identify()
    return viewer


class Gate(NamedTuple):
    """What a view asks of the gate (read by the test that every route has one)."""

    section: str | tuple[str, ...]
    action: str
    mode: str  # "own": the viewer's own space or pages | "record": a record opened by <access_id> | "account"


def gate(section: str | tuple[str, ...], action: str = "read", *, record: bool = False, account: bool = False):
    """The one access check of a route, visible on it: identify the viewer, refuse unless they
    may do `action` on `section` (deny by default: anonymous → log in, others → 403), then call
    the view with the viewer first. `section` may name several sections, one per kind of viewer
    a page serves (the home page: the holder's "dashboard", the professional's "pro"); any of
    them suffices.

    record=True: the view acts on the record its `access_id` URL argument opens (a share, a
    grant, an emergency access); the viewer is the one acting on it, or 404.
    account=True: the page needs a person's own account; a code session is asked to log in,
    as anyone anonymous."""
    sections = (section,) if isinstance(section, str) else tuple(section)

    def decorate(view):
        @wraps(view)
        def gated(*args, **kwargs):
            viewer = current_viewer()
            if record:
                viewer = access.record_viewer(viewer, kwargs["access_id"])
            if account and viewer.account is None:
                viewer = access.Viewer()
            if not any(access.can(viewer, s, action) for s in sections[1:]):
                access.require(viewer, sections[0], action)
            return view(viewer, *args, **kwargs)

        gated.carnet_gate = Gate(section, action, "record" if record else "account" if account else "own")
        return gated

    return decorate


def _identify() -> access.Viewer:
    """Flask-Login answers "who is this?" (its user is read with the session record); a
    professional who opened a share with its code has no account, only the share use."""
    record = getattr(session, "record", None)
    session_id = getattr(record, "id", None)
    kiosk = bool(record is not None and record.kiosk)
    if current_user.is_authenticated:
        return access.viewer_for(current_user._get_current_object(), session_id=session_id, kiosk=kiosk)
    if session.get("share_use"):
        return access.share_viewer(session["share_use"], session_id=session_id, kiosk=kiosk)
    return access.viewer_for(None, kiosk=kiosk)


# htmx-flask reads the HX-* request headers (request.htmx) and writes the response ones
# (htmx_flask.make_response). What it leaves to us is worked around here, and nowhere else:
# - request.htmx is true for boosted links and history restores too, which want whole pages;
# - a redirect answering a plain htmx request would be followed by fetch and its page swapped
#   into the target: it has to be an HX-Redirect;
# - one URL answers a page or a fragment, so every answer varies on HX-Request.


def wants_fragment(target: str | None = None) -> bool:
    """Only a plain htmx request gets a fragment (one aimed at the element `target`, if given);
    boosted links and history restores get pages."""
    h = request.htmx
    return bool(h) and not h.boosted and not h.history_restore_request and (target is None or h.target == target)


def render(page: str, fragment: str | None = None, status: int = 200, **context):
    name = fragment if fragment and wants_fragment() else page
    return make_response(render_template(name, **context), status)


def hx_redirect(url: str, code: int = 303, reload: bool = False):
    """A redirect that works for htmx (a full navigation) and for plain forms and links.
    `reload`: boosted requests too load the page afresh (after a logout)."""
    if request.htmx and (reload or not request.htmx.boosted):
        return htmx_flask.make_response("", 204, redirect=url)
    return redirect(url, code)


def _vary_on_htmx(response) -> None:
    response.vary.add("HX-Request")


def ask_fresh_authentication(back: str | None = None):
    """Sensitive actions (credentials, exports, identity) need an authentication of the last
    few minutes. Returns the answer that sends the person to confirm it, or None when fresh."""
    if sessions.is_fresh(current_app):
        return None
    if request.method == "GET":
        back = back or request.full_path.rstrip("?")
    else:  # a POST cannot be replayed: back to the page it was sent from, when known
        back = _sending_page() or back or "/"
    target = url_for("account.confirm", next=safe_next(back))
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(error="fresh", redirect=target), 401
    return hx_redirect(target)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never an open redirect."""
    if not target or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return default  # browsers drop tabs and newlines: "/\t/evil.example" would leave the site
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _sending_page() -> str | None:
    """The local page a request was sent from: htmx (and passkeys.js) say it in HX-Current-URL;
    only a path of this site is kept. (The Referer is never sent: Referrer-Policy no-referrer.)"""
    current = request.headers.get("HX-Current-URL")
    if not current:
        return None
    parts = urlsplit(current)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    path = parts.path + ("?" + parts.query if parts.query else "")
    return safe_next(path, "") or None


def _check_fetch_site():
    if request.method not in SAFE_METHODS and request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403)


HSTS = "max-age=31536000; includeSubDomains"


def _hsts() -> bool:
    """Browsers must never reach a production (https) Carnet over plain http again."""
    cfg = current_app.config
    return cfg["ENV_NAME"] == "production" or str(cfg.get("WEBAUTHN_ORIGIN", "")).startswith("https://")


def _headers(response):
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "geolocation=(), microphone=(), camera=(self), publickey-credentials-get=(self)"
    if _hsts():
        h["Strict-Transport-Security"] = HSTS
    if request.endpoint != "static":
        h["Cache-Control"] = "no-store"
        h.pop("Expires", None)
        _vary_on_htmx(response)
    return response


def _context():
    viewer = current_viewer()
    idle = None
    if viewer.is_authenticated:
        idle = 60 * (
            current_app.config["KIOSK_IDLE_MINUTES"] if viewer.kiosk else current_app.config["SESSION_IDLE_MINUTES"]
        )
    here = request.full_path.rstrip("?") if request else "/"
    languages, logout_url = _shell_urls(request.script_root)
    return {
        "viewer": viewer,
        "nav": navigation(viewer),
        "current_locale": str(get_locale() or "fr"),
        "demo_mode": current_app.config["DEMO"],
        "idle_seconds": idle,
        "languages": [{**lang, "next": here} for lang in languages],
        "logout_url": logout_url,
    }


ERRORS = {
    400: (
        lazy_gettext("Request not understood"),
        lazy_gettext("Something in this request was not understood. Go back and try again."),
    ),
    403: (lazy_gettext("Access refused"), lazy_gettext("You do not have access to this page.")),
    404: (lazy_gettext("Page not found"), lazy_gettext("This page does not exist, or you do not have access to it.")),
    405: (lazy_gettext("Action not allowed"), lazy_gettext("This action is not possible here.")),
    413: (lazy_gettext("File too large"), lazy_gettext("This file is too large. Send a file of %(mb)s MB at most.")),
    429: (lazy_gettext("Too many attempts"), lazy_gettext("Too many attempts. Wait a moment, then try again.")),
    500: (lazy_gettext("Something went wrong"), lazy_gettext("Nothing was lost. Try again in a moment.")),
}


def error_page(code: int, message: str | None = None):
    title, default = ERRORS.get(code, ERRORS[500])
    text = message or str(default) % {"mb": current_app.config["UPLOAD_MAX_MB"]}
    return render("errors/error.html", "errors/_error.html", status=code, code=code, title=str(title), message=text)


def _handle_http(exc: HTTPException):
    if exc.code == 401:
        if getattr(session, "expired", None):
            flash(_("Your session has ended after a period of inactivity. Log in again."), "info")
        here = request.full_path.rstrip("?")
        login = url_for("auth.login", next=safe_next(here) if here != "/" else None)
        return hx_redirect(login, 302)
    return error_page(exc.code or 500)


def _handle_csrf(exc: CSRFError):
    return error_page(400, _("This page had expired. Reload it, then try again."))


def _handle_blob(exc: BlobCorrupt):
    """A document whose file is missing or damaged: say so, not a bare error (`storage check`
    names it to the operator)."""
    db.session.rollback()
    current_app.logger.error("blob unreadable: %s", exc)
    if isinstance(exc, BlobMissing):
        message = _(
            "The file of this document cannot be found on the server: it can be neither shown nor "
            "downloaded. Its details are kept. Tell the Carnet administrator."
        )
    else:
        message = _(
            "The file of this document is damaged: it can be neither shown nor downloaded. Its details "
            "are kept. Tell the Carnet administrator."
        )
    status = 404 if isinstance(exc, BlobMissing) else 500
    return render(
        "errors/error.html",
        "errors/_error.html",
        status=status,
        code=status,
        title=_("File unavailable"),
        message=message,
    )


def _handle_error(exc: Exception):
    db.session.rollback()
    current_app.logger.exception("unhandled error")
    return error_page(500)


def init_app(app: Flask) -> None:
    app.before_request(_check_fetch_site)
    app.after_request(_headers)
    app.context_processor(_context)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(BlobCorrupt, _handle_blob)
    app.register_error_handler(Exception, _handle_error)
