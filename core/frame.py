"""The parts of every page's frame. Those that depend on nothing of the person or the page, the
head's links (the same for a mount point) and the toasts (the same for a language and a kind
of session), are drawn from their template once per app, mount point, language and flags, then
written as they are by every page (docs/performance.md, 58). Those that carry the session's
CSRF token or the page's address, the footer's language switch and the logout button, are
drawn on every request, in Python rather than as macros (60), as ui.main_nav() is."""

from __future__ import annotations

from flask import current_app, request
from markupsafe import Markup, escape

from core.i18n import by_locale, current_locale

_PARTS = "carnet.frame"  # app.extensions: {(name, mount point, language, flags): Markup}
_PARTS_MAX = 64  # a handful in use (two parts, two languages, four flags); bounded all the same


def frame(name: str, **flags) -> Markup:
    """templates/layouts/_<name>.html drawn with these flags (each taken as true or false)."""
    app = current_app._get_current_object()  # once through the proxy
    shown = tuple([(key, bool(value)) for key, value in flags.items()])
    key = (name, request.script_root, current_locale(), shown)
    drawn = app.extensions[_PARTS]
    found = drawn.get(key)
    if found is None:
        if len(drawn) >= _PARTS_MAX:
            drawn.clear()
        found = drawn[key] = Markup(app.jinja_env.get_template(f"layouts/_{name}.html").render(dict(shown)))
    return found


def init_app(app) -> None:
    """After templating's globals: the components below use its icons, links and CSRF token."""
    app.extensions[_PARTS] = {}
    g = app.jinja_env.globals
    g["frame"] = frame
    g["ui_language_switch"], g["ui_logout_button"], g["ui_accessibility_link"] = _components(
        g["svg_icon"], g["url_for"], g["csrf_token"]
    )


def _components(svg_icon, link, csrf_token):
    """ui.language_switch(), ui.logout_button() and ui.accessibility_link() (components/ui.html
    exports them): what their macros drew, each value through escape() as {{ }} would, the
    catalogue's words as its `_` writes them (trusted text)."""

    def language_switch(languages, current) -> Markup:
        """The footer's choice of language: the current one named, each other one a form that
        comes back to this page in that language."""
        if not languages:
            return Markup("")
        words = by_locale(current_locale()).ugettext
        here = escape(request.full_path if request.query_string else request.path)
        out = ['\n<div class="lang-switch" role="group" aria-label="', words("Language"), '">\n  ']
        out.append(svg_icon("languages"))
        for lang in languages:
            code, label = escape(lang["code"]), escape(lang["label"])
            if lang["code"] == current:
                out += ['\n  <span class="lang-current" lang="', code, '" aria-current="true">', label, "</span>"]
                continue
            out += ['\n  <form method="post" action="', escape(lang["url"]), '" hx-boost="false">']
            out += ['\n    <input type="hidden" name="csrf_token" value="', escape(csrf_token()), '">']
            out += ['\n    <input type="hidden" name="next" value="', here, '">']
            out += ['\n    <button type="submit" class="btn btn-ghost btn-small" lang="', code, '">', label]
            out.append("</button>\n  </form>")
        out.append("\n</div>")
        return Markup("".join(out))

    def logout_button(logout_url, compact=False, label=None) -> Markup:
        """A POST form, answered by a full page load so that Clear-Site-Data applies; compact:
        the icon alone on narrow screens, the label kept for screen readers."""
        if not logout_url:
            return Markup("")
        text = escape(label) if label else by_locale(current_locale()).ugettext("Log out")
        out = ['\n<form method="post" action="', escape(logout_url), '" class="logout-form" hx-boost="false">']
        out += ['\n  <input type="hidden" name="csrf_token" value="', escape(csrf_token()), '">']
        out += ['\n  <button type="submit" class="btn btn-ghost', " btn-compact" if compact else "", '">']
        out += [svg_icon("log-out"), '<span class="', "label-wide" if compact else "", '">', text]
        out.append("</span></button>\n</form>")
        return Markup("".join(out))

    def accessibility_link() -> Markup:
        """The footer mention the RGAA asks for on every page, linking to the statement."""
        text = by_locale(current_locale()).ugettext("Accessibility: partially compliant")
        return Markup(f'<a class="footer-link" href="{escape(link("dashboard.accessibility"))}">{text}</a>')

    return language_switch, logout_button, accessibility_link
