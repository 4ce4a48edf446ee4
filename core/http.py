"""The headers every answer carries, and the Vary helper of the request's hooks (sessions,
compression)."""

from __future__ import annotations

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
)
#: For an answer the app itself shows in a frame (a PDF printed from a hidden frame at a kiosk):
#: framed by Carnet's own pages only (this CSP rule overrides X-Frame-Options in browsers).
CSP_FRAMED_BY_SELF = CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS = "geolocation=(), microphone=(), camera=(self), publickey-credentials-get=(self)"
_SECURITY = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", PERMISSIONS),
)
#: What every answer carries, by (HSTS, not a static file); a view's own value of one of them
#: (nosniff on a download, no-store, Expires on a dynamic answer) is replaced, never doubled.
_ADDED = {
    (hsts, dynamic): [
        *_SECURITY,
        *((("Strict-Transport-Security", HSTS),) if hsts else ()),
        *((("Cache-Control", "no-store"),) if dynamic else ()),
    ]
    for hsts in (False, True)
    for dynamic in (False, True)
}
_DROPPED = {
    key: frozenset(k.lower() for k, _ in added) | ({"expires"} if key[1] else set()) for key, added in _ADDED.items()
}
#: Every answer varies on Accept-Encoding (the same URL may be compressed for another request);
#: a page also on HX-Request (a fragment or the whole page).
_VARY = {True: ("HX-Request", "Accept-Encoding"), False: ("Accept-Encoding",)}


def hsts(config) -> bool:
    """Browsers must never reach a production (https) Carnet over plain http again."""
    return config["ENV_NAME"] == "production" or str(config.get("WEBAUTHN_ORIGIN", "")).startswith("https://")


def finish(headers: list, dynamic: bool, strict: bool) -> list:
    """The answer's header pairs with ours: the security headers (a view's own CSP is kept),
    HSTS when `strict`, no-store and Vary."""
    names = {k.lower() for k, _ in headers}
    dropped = _DROPPED[strict, dynamic]
    if not names.isdisjoint(dropped):
        headers = [(k, v) for k, v in headers if k.lower() not in dropped]
    out = headers + _ADDED[strict, dynamic]
    if "content-security-policy" not in names:
        out.append(("Content-Security-Policy", CSP))
    wanted = _VARY[dynamic]
    if not _merge_vary(out, wanted):
        out.append(("Vary", ", ".join(wanted)))
    return out


class AnswerHeaders:
    """WSGI middleware around the Flask app: every answer, error pages included, leaves with
    `finish()`'s headers, added to the plain list the server receives. As an after_request hook
    they went through werkzeug's Headers, checked, searched and copied one by one (a tenth of
    the unread-count poll, docs/performance.md 30)."""

    def __init__(self, app) -> None:
        self.wsgi_app = app.wsgi_app
        self.config = app.config
        self.static = f"{app.static_url_path}/"

    def __call__(self, environ, start_response):
        dynamic = not environ.get("PATH_INFO", "").startswith(self.static)
        strict = hsts(self.config)

        def start(status, headers, exc_info=None):
            return start_response(status, finish(headers, dynamic, strict), exc_info)

        return self.wsgi_app(environ, start)


def add_vary(response, name: str) -> None:
    """Add `name` to the answer's Vary header, once, on the header's text (werkzeug's
    `response.vary` parses it into a set and writes it back on each change)."""
    headers = response.headers
    if not _merge_vary(headers, (name,)):
        headers.add("Vary", name)


def _merge_vary(headers, names) -> bool:
    """Add the names missing from the Vary header of `headers` (a list of pairs, or werkzeug's
    Headers); False when there is no Vary header. The headers are walked, not asked: werkzeug
    answers a missing name by raising (and building) an HTTP exception."""
    for i, (key, vary) in enumerate(headers):
        if key.lower() == "vary":
            have = {v.strip().lower() for v in vary.split(",")}
            more = [n for n in names if n.lower() not in have]
            if more:
                headers[i] = ("Vary", ", ".join((vary, *more)))
            return True
    return False
