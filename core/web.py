"""Request plumbing shared by every screen: who the viewer is, the gate each route names,
page-or-fragment rendering, security headers, error pages, and the navigation each feature
adds itself to."""

from __future__ import annotations

from collections.abc import Callable
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
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core import access, sessions
from core.db import db
from core.http import AnswerHeaders
from core.i18n import LANGUAGES, current_locale, gettext as _, lazy_gettext
from core.storage import BlobCorrupt, BlobMissing

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object  # lazy string
    icon: str
    roles: tuple[str, ...]
    order: int
    sections: tuple[str, ...]  # active when the request's blueprint is one of these
    phone: bool = True  # in the phone's bottom bar (five entries at most); the side navigation shows all
    badge: str | None = None  # the endpoint polled for this entry's count (a @passive view)


_NAV: list[NavEntry] = []
_BADGES: dict = {}  # badge endpoint -> count(viewer), for the count drawn with the page


def nav_entry(
    endpoint: str,
    label,
    icon: str,
    roles=("holder",),
    order: int = 50,
    sections: tuple = (),
    badge: str | None = None,
    phone: bool = True,
):
    """A feature adds itself to the navigation here; nothing else lists features.
    `sections` names other blueprints that live under this entry (measures under "My health");
    `badge` the endpoint that answers the entry's count (see nav_badge); phone=False: not in the
    phone's bottom bar (reached another way there, e.g. the top bar)."""
    if not any(e.endpoint == endpoint for e in _NAV):
        entry = NavEntry(endpoint, label, icon, tuple(roles), order, (endpoint.split(".")[0], *sections), phone, badge)
        _NAV.append(entry)
        _NAV.sort(key=lambda e: e.order)


def nav_badge(endpoint: str, count) -> None:
    """The count a navigation badge shows when a page is drawn (count(viewer) -> int); the
    page then polls `endpoint` for it."""
    _BADGES[endpoint] = count


def _badge_count(endpoint: str) -> int:
    """Called by the layout only (fragments never pay for it)."""
    count = _BADGES.get(endpoint)
    viewer = current_viewer()
    return int(count(viewer)) if count is not None and viewer.account_id is not None else 0


def navigation(viewer: access.Viewer) -> tuple[dict, ...]:
    if not viewer.is_authenticated:
        return ()
    # A code session has one record and no account: its record's tabs are its navigation, and
    # entries for people with an account (home, security) would only answer "refused". A
    # guardian finds the holder's menu.
    if viewer.grant_kind == "share":
        kind = "code"
    elif viewer.kind == "helper":  # the holder's entries their scope opens
        kind = "helper:" + ",".join(sorted(viewer.rights))
    else:
        kind = "holder" if viewer.is_holder else viewer.kind
    return _navigation(kind, request.blueprint, str(current_locale()), request.script_root, len(_NAV))


@lru_cache(maxsize=256)
def _navigation(kind: str, current: str | None, _locale: str, _root: str, _entries: int) -> tuple[dict, ...]:
    """Built once per role, section and language (and mount point): the same on every page.
    The side navigation shows every entry; the phone's bottom bar the first five (the others
    are reached from the home page's cards)."""
    return tuple(
        {
            "url": url_for(e.endpoint),
            "label": str(e.label),
            "icon": e.icon,
            "active": current in e.sections,
            "badge": e.badge,
            "badge_url": url_for(e.badge) if e.badge else None,
            "phone": e.phone,
        }
        for e in _NAV
        if kind in e.roles or (kind.startswith("helper:") and _helper_opens(kind, e))
    )


def _helper_opens(kind: str, entry: NavEntry) -> bool:
    """A holder's entry a helper sees: its blueprint's section is in their rights."""
    section = BLUEPRINT_SECTIONS.get(entry.sections[0], entry.sections[0])
    return "holder" in entry.roles and section in kind.partition(":")[2].split(",")


BLUEPRINT_SECTIONS = {"messaging": "messages"}  # where a blueprint's name is not its section's


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
    here = g._get_current_object()  # once through the proxy
    viewer = here.get("viewer")
    if viewer is None:
        viewer = here.viewer = _identify()
    return viewer


class Gate(NamedTuple):
    """What a view asks of the gate (read by the test that every route has one)."""

    section: str | tuple[str, ...]
    action: str
    mode: str  # "own": the viewer's own space or pages | "record": a record opened by <access_id> | "account"
    # | "token": a private link's token is the credential (the calendar feed)


def gate(
    section: str | tuple[str, ...],
    action: str = "read",
    *,
    record: bool = False,
    account: bool = False,
    token: Callable[[str], str | None] | None = None,
):
    """The one access check of a route, visible on it: identify the viewer, refuse unless they
    may do `action` on `section` (deny by default: anonymous → log in, others → 403), then call
    the view with the viewer first. `section` may name several sections, one per kind of viewer
    a page serves (the home page: the holder's "dashboard", the professional's "pro"); any of
    them suffices.

    record=True: the view acts on the record its `access_id` URL argument opens (a share, a
    grant, an emergency access); the viewer is the one acting on it, or 404.
    account=True: the page needs a person's own account; a code session is asked to log in,
    as anyone anonymous.
    token=f: no session at all (a calendar app): the `token` URL argument is the credential,
    `f` names the holder it belongs to (or None: 404), and the viewer is access.feed_viewer."""
    sections = (section,) if isinstance(section, str) else tuple(section)

    def decorate(view):
        @wraps(view)
        def gated(*args, **kwargs):
            viewer = access.feed_viewer(token(kwargs["token"])) if token else current_viewer()
            if record:
                viewer = access.record_viewer(viewer, kwargs["access_id"])
            if account and viewer.account_id is None:  # known without loading the account
                viewer = access.Viewer()
            if not any(access.can(viewer, s, action) for s in sections[1:]):
                access.require(viewer, sections[0], action)
            return view(viewer, *args, **kwargs)

        mode = "record" if record else "account" if account else "token" if token else "own"
        gated.carnet_gate = Gate(section, action, mode)
        return gated

    return decorate


# --------------------------------------------------------------------------- API callers
# A connected app calls the API with a bearer token, never with a cookie: on an API path the
# session is not read at all (a holder's browser cannot be made to call it), so there is no
# CSRF or Sec-Fetch-Site check to make, and errors answer in the API's own format. The apps
# feature says how a token is read (register_bearer); the API says where it lives (register_api).
_BEARER: list = []  # the one function: raw token -> Viewer or None
_API: dict[str, object] = {}  # path prefix -> error renderer (code, exception) -> response


def register_bearer(resolve) -> None:
    _BEARER[:] = [resolve]


def register_api(prefix: str, on_error) -> None:
    _API[prefix.rstrip("/")] = on_error


def _api_error_handler():
    path = request.path
    for prefix, on_error in _API.items():
        if path == prefix or path.startswith(prefix + "/"):
            return on_error
    return None


def is_api_request() -> bool:
    return _api_error_handler() is not None


def _bearer_viewer() -> access.Viewer:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not _BEARER:
        return access.Viewer()
    return _BEARER[0](token.strip()) or access.Viewer()


def _identify() -> access.Viewer:
    """Flask-Login answers "who is this?" (its user is read with the session record); a
    professional who opened a share with its code has no account, only the share use; on an
    API path, only a bearer token counts."""
    if is_api_request():
        return _bearer_viewer()
    record = getattr(session, "record", None)
    session_id = getattr(record, "id", None)
    kiosk = sessions.at_kiosk()
    user = current_user._get_current_object()
    if user.is_authenticated:
        viewer = access.viewer_for(user, session_id=session_id, kiosk=kiosk)
        return _acting_for(viewer)
    if session.get("share_use"):
        return access.share_viewer(session["share_use"], session_id=session_id, kiosk=kiosk)
    return access.viewer_for(None, kiosk=kiosk)


# --- whose space is open: a guardian may switch to a child's, a helper to the space of the -----
# person they help (blueprints/lifecycle, blueprints/helpers)
SPACE_KEY = "space"  # the session key of the space a holder switched to


def _acting_for(viewer: access.Viewer) -> access.Viewer:
    """The holder, or the guardian or helper they became by switching to another space (checked
    on every request: an ended guardianship or delegation, a child come of age, a delegation past
    its end date send them back to their own space, and the switch is read again)."""
    wanted = session.get(SPACE_KEY)
    if not wanted or viewer.kind != "holder":
        return viewer
    acting = access.acting_viewer(viewer, wanted)
    if acting is None:
        session.pop(SPACE_KEY, None)
        flash(_("Your access to that space has ended: you are back in your own space."), "warning")
        return viewer
    return acting


def spaces(viewer: access.Viewer) -> list[dict]:
    """The spaces the person may switch between (their own first), for the header; empty when
    there is only their own. Each says as what it is open: a child's by name, one helped in as
    "You help Jeanne Martin"."""
    if not viewer.is_holder or viewer.kiosk:
        return []
    own = viewer.acting_patient_id or viewer.patient_id
    # Read on every page, in one statement: a guardianship or a delegation ended (or begun) a
    # second ago shows on the next page.
    others = [(pid, f"{given.split()[0]} {family}", role) for pid, given, family, role in access.switchable(own)]
    if not others:
        return []
    return [{"id": own, "name": _("My space"), "current": viewer.patient_id == own}] + [
        {
            "id": pid,
            "name": _("You help %(name)s", name=name) if role == "helped" else name,
            "current": viewer.patient_id == pid,
        }
        for pid, name, role in others
    ]


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


def _check_unsafe_method():
    """What a request that may change something must show (a GET, HEAD or OPTIONS asks nothing):
    its CSRF token, checked by Flask-WTF on the methods it protects (its own hook is off,
    WTF_CSRF_CHECK_DEFAULT: it looked up the view's exemptions on every GET and poll), and no
    cross-site origin (Sec-Fetch-Site), except on an API path, where no cookie is read: nothing
    a cross-site request could ride on."""
    method = request.method
    if method in SAFE_METHODS:
        return
    cfg = current_app.config
    if method in cfg["WTF_CSRF_METHODS"] and cfg["WTF_CSRF_ENABLED"]:
        current_app.extensions["csrf"].protect(apply_exemptions=True)
    if not is_api_request() and request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403)


def _can(section: str, action: str = "read") -> bool:
    return access.can(current_viewer(), section, action)


def _context():
    viewer = current_viewer()
    device = g.get("kiosk")
    idle = None
    if viewer.is_authenticated:
        idle = 60 * (
            current_app.config["KIOSK_IDLE_MINUTES"] if viewer.kiosk else current_app.config["SESSION_IDLE_MINUTES"]
        )
    elif device is not None and request.endpoint != "kiosk.welcome":
        # A login half typed at a kiosk goes back to the welcome screen too, for the next person.
        idle = 60 * current_app.config["KIOSK_IDLE_MINUTES"]
    here = request.full_path.rstrip("?") if request else "/"
    languages, logout_url = _shell_urls(request.script_root)
    return {
        "kiosk_device": device,
        "expired_url": url_for("kiosk.welcome") if device is not None else None,
        "viewer": viewer,
        "nav": navigation(viewer),
        "current_locale": str(current_locale()),
        "demo_mode": current_app.config["DEMO"],
        "idle_seconds": idle,
        "languages": [{**lang, "next": here} for lang in languages],
        "logout_url": logout_url,
        "nav_badge": _badge_count,
        "spaces": spaces(viewer),
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
    on_api_error = _api_error_handler()
    if on_api_error is not None:
        return on_api_error(exc.code or 500, exc)
    if exc.code == 401:
        if getattr(session, "expired", None):
            flash(_("Your session has ended after a period of inactivity. Log in again."), "info")
        if sessions.on_kiosk():  # the next person starts on the kiosk's welcome screen, told nothing
            return hx_redirect(url_for("kiosk.welcome"), 302)
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
    on_api_error = _api_error_handler()
    return on_api_error(500, exc) if on_api_error is not None else error_page(500)


def init_app(app: Flask) -> None:
    app.before_request(_check_unsafe_method)
    app.wsgi_app = AnswerHeaders(app)
    app.context_processor(_context)
    # What a page offers follows the viewer's rights (a helper's scope): {% if can("measures", "export") %}.
    # A global, not a context variable: imported macros see it too.
    app.jinja_env.globals["can"] = _can
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(BlobCorrupt, _handle_blob)
    app.register_error_handler(Exception, _handle_error)
