"""The words of Python code in the reader's language: Flask-Babel's catalogue, asked once per
application and locale. flask_babel.gettext walks five context lookups and formats the locale
per string (a home visit says some twenty sentences from Python); these read the same catalogue
where Flask-Babel keeps its locale. Outside an application, the English source, as Flask-Babel."""

from __future__ import annotations

import flask_babel
from flask import current_app, has_app_context
from flask.globals import _cv_app
from flask_babel import LazyString

_BY_LOCALE: dict = {}
_BY_LOCALE_MAX = 64


def current_locale():
    """What flask_babel.get_locale() returns, read where it keeps it without its proxies (−6 %
    of a home's function calls); should that place move, get_locale() answers, only slower."""
    app_ctx = _cv_app.get(None)
    locale = getattr(app_ctx.g.get("_flask_babel"), "babel_locale", None) if app_ctx else None
    return flask_babel.get_locale() if locale is None else locale


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
