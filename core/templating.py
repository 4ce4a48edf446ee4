"""Jinja helpers that every page calls many times, kept cheap: inline icons read once,
and gettext that looks the catalogue up once per request instead of once per string."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import flask_babel
from flask import Flask, g
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

    app.jinja_env.globals["svg_icon"] = svg_icon
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


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
