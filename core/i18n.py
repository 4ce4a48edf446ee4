"""The words of Python code in the reader's language: Flask-Babel's catalogue, asked once per
application and locale. flask_babel.gettext walks five context lookups and formats the locale
per string (a home visit says some twenty sentences from Python); these read the same catalogue
where Flask-Babel keeps its locale. Outside an application, the English source, as Flask-Babel."""

from __future__ import annotations

import flask_babel
from babel import Locale
from flask import current_app, g, has_app_context, has_request_context, session
from flask_babel import LazyString
from flask_login import current_user

LANGUAGES = {"fr": "Français", "en": "English"}
# Parsed once: Flask-Babel takes a Locale as it is, and parses a code anew on every request.
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}
_CHOSEN = "_carnet_locale"
_BABEL_STATE = "_flask_babel"  # where Flask-Babel 4 keeps a request's locale: g._flask_babel.babel_locale
_reads_babel = True  # checked at start-up: check_where_babel_keeps_its_locale()

_BY_LOCALE: dict = {}
_BY_LOCALE_MAX = 64


def select_locale() -> Locale:
    """Flask-Babel's locale selector: the language chosen in this session, else the account's,
    else French. Chosen once per request (kept on flask.g), whoever asks first: Flask-Babel or
    current_locale()."""
    return _chosen(g._get_current_object()) if has_request_context() else _LOCALES["fr"]


def _chosen(ctx_g) -> Locale:
    chosen = ctx_g.__dict__.get(_CHOSEN)  # what g.get() reads, without its Python call: ninety a page
    if chosen is None:
        if not has_request_context():
            return _LOCALES["fr"]
        chosen = _LOCALES.get(session.get("lang"))
        if chosen is None:
            user = current_user._get_current_object()  # each look through the proxy asks Flask-Login anew
            chosen = _LOCALES[user.locale] if user.is_authenticated and user.locale in _LOCALES else _LOCALES["fr"]
        setattr(ctx_g, _CHOSEN, chosen)
    return chosen


def current_locale():
    """What flask_babel.get_locale() returns, without its proxies (ten context lookups: a tenth
    of the unread-count poll): the locale Flask-Babel holds (force_locale's included; read
    where it keeps it, checked at start-up), else this request's choice by the selector
    Flask-Babel would ask."""
    if not (_reads_babel and has_app_context()):
        return flask_babel.get_locale()
    ctx_g = g._get_current_object()  # once through the proxy
    state = ctx_g.__dict__.get(_BABEL_STATE)
    locale = None if state is None else getattr(state, "babel_locale", None)
    return _chosen(ctx_g) if locale is None else locale


def check_where_babel_keeps_its_locale(app) -> None:
    """At start-up: force_locale() must set the locale where current_locale() reads it. Should a
    Flask-Babel release keep it elsewhere, current_locale() asks get_locale(): slower, right."""
    global _reads_babel
    with app.app_context(), flask_babel.force_locale("en"):
        _reads_babel = str(getattr(g.get(_BABEL_STATE), "babel_locale", None)) == "en"


def by_locale(locale):
    """The catalogue of a locale, asked of Flask-Babel once per application and locale."""
    key = (current_app._get_current_object(), locale)
    found = _BY_LOCALE.get(key)
    if found is None:
        if len(_BY_LOCALE) >= _BY_LOCALE_MAX:
            _BY_LOCALE.clear()
        found = _BY_LOCALE[key] = flask_babel.get_translations()
    return found


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext, the same catalogue and formatting."""
    if not has_app_context():
        return string % variables if variables else string
    s = by_locale(current_locale()).ugettext(string)
    return s % variables if variables else s


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """flask_babel.ngettext: `num` is offered to the string as %(num)d."""
    variables.setdefault("num", num)
    if not has_app_context():
        return (singular if num == 1 else plural) % variables
    return by_locale(current_locale()).ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """Translated when used, in the language of that moment (form labels, module constants)."""
    return LazyString(gettext, string, **variables)
