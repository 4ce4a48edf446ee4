"""Jinja helpers that every page calls many times, kept cheap: inline icons read once,
static URLs built once, and gettext that looks each string up once per catalogue instead of
once per use (a page calls it dozens of times, through three layers of Jinja wrappers)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import flask_babel
from flask import Flask, current_app, g, request, session, url_for
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_eval_context
from markupsafe import Markup

_ICON_NAME = re.compile(r"^[a-z0-9-]+$")


def init_app(app: Flask) -> None:
    folder = Path(app.root_path) / "templates" / "icons"

    @lru_cache(maxsize=128)
    def svg_icon(name: str) -> Markup:
        """The SVG of a Lucide icon from templates/icons/, inlined (decorative, aria-hidden)."""
        if not _ICON_NAME.match(name or ""):
            raise ValueError(f"bad icon name {name!r}")
        return Markup((folder / f"{name}.svg").read_text().strip())

    @lru_cache(maxsize=256)
    def _static(root: str, filename: str) -> str:
        return url_for("static", filename=filename)

    def static_url(filename: str) -> str:
        """url_for("static", ...) memoised: the answer only depends on where the app is mounted."""
        return _static(request.script_root, filename)

    app.jinja_env.globals["svg_icon"] = svg_icon
    app.jinja_env.globals["ui_icon"], app.jinja_env.globals["ui_badge"] = _components(svg_icon)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})  # Flask-WTF also sets it there
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # The i18n extension's own `_`/gettext/ngettext go through Context.call three times per
    # string; these do what its "newstyle" wrappers do (translate, Markup under autoescape,
    # always %-format) in one call, with the translated Markup memoised per catalogue.
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)


def _components(svg_icon):
    """ui.icon() and ui.badge() (components/ui.html exports them): Python rather than macros,
    since a page calls them dozens of times. They render exactly what the macros did."""

    def icon(name: str, label=None) -> Markup:
        if label:
            return svg_icon(name) + Markup('<span class="visually-hidden">%s</span>') % (label,)
        return svg_icon(name)

    def badge(label, variant="neutral", icon=None) -> Markup:
        return Markup('<span class="badge badge-%s">%s%s</span>') % (
            variant, svg_icon(icon) if icon else "", label)

    return icon, badge


# Signed CSRF tokens by (signing key, the session's raw token). Signing costs an HMAC key
# derivation per request; with WTF_CSRF_TIME_LIMIT = None a token signed earlier for the same
# session is exactly as valid, so one signature serves the whole session.
_CSRF_SIGNED: dict[tuple, str] = {}
_CSRF_SIGNED_MAX = 4096


def csrf_token() -> str:
    """Flask-WTF's generate_csrf(), signing once per session instead of once per request."""
    cfg = current_app.config
    field = cfg.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    raw = session.get(field)
    if cfg.get("WTF_CSRF_TIME_LIMIT", 3600) is not None or field in g or not isinstance(raw, str):
        return generate_csrf()
    key = (cfg.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
    token = _CSRF_SIGNED.get(key)
    if token is None:
        token = generate_csrf()
        if len(_CSRF_SIGNED) >= _CSRF_SIGNED_MAX:
            _CSRF_SIGNED.clear()
        _CSRF_SIGNED[key] = token
    else:
        setattr(g, field, token)  # what generate_csrf() would have cached for this request
    return token


@pass_eval_context
def gettext(eval_ctx, string: str, **variables) -> str:
    if not eval_ctx.autoescape:
        return _translations().ugettext(string) % variables
    memo = _memo()
    if variables:
        rv = memo.get(string)
        if rv is None:
            rv = memo[string] = Markup(_translations().ugettext(string))
        return rv % variables
    key = (string, None)
    rv = memo.get(key)
    if rv is None:  # already %-formatted: "%%" becomes "%" exactly as the extension does
        rv = memo[key] = Markup(_translations().ugettext(string)) % {}
    return rv


@pass_eval_context
def ngettext(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    rv = _translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


def _memo() -> dict:
    """Translated strings of the current catalogue, kept on the catalogue itself (one per
    locale, loaded once per process), so the memo can never answer in another language."""
    translations = _translations()
    memo = getattr(translations, "_carnet_memo", None)
    if memo is None:
        memo = {}
        try:
            translations._carnet_memo = memo
        except AttributeError:  # a catalogue that takes no attributes: no memo
            return {}
    return memo


def _translations():
    """Flask-Babel's catalogue for the current locale, memoised on g while that locale holds
    (force_locale swaps g._flask_babel.babel_locale, which invalidates the memo)."""
    store = g._get_current_object().__dict__
    babel_ns = store.get("_flask_babel")
    locale = getattr(babel_ns, "babel_locale", None)
    cached = store.get("_carnet_translations")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = flask_babel.get_translations()
    store["_carnet_translations"] = (flask_babel.get_locale(), translations)
    return translations
