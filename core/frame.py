"""The parts of every page's frame that depend on nothing of the person or the page: the head's
links (the same for a mount point) and the toasts (the same for a language and a kind of
session). Each is drawn from its template once per app, mount point, language and flags, then
written as it is by every page (docs/performance.md, 58): a page's own parts, its data and its
person are drawn anew on every request."""

from __future__ import annotations

from flask import current_app, request
from markupsafe import Markup

from core.i18n import current_locale

_PARTS = "carnet.frame"  # app.extensions: {(name, mount point, language, flags): Markup}


def frame(name: str, **flags) -> Markup:
    """templates/layouts/_<name>.html drawn with these flags (each taken as true or false)."""
    app = current_app._get_current_object()  # once through the proxy
    shown = tuple([(key, not not value) for key, value in flags.items()])
    key = (name, request.script_root, current_locale(), shown)
    found = app.extensions[_PARTS].get(key)
    if found is None:
        template = app.jinja_env.get_template(f"layouts/_{name}.html")
        found = app.extensions[_PARTS][key] = Markup(template.render(dict(shown)))
    return found


def init_app(app) -> None:
    app.extensions[_PARTS] = {}
    app.jinja_env.globals["frame"] = frame
