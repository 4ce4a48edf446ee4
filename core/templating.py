"""Jinja helpers that every page calls many times, kept cheap: inline icons read once,
static URLs built once, and gettext that looks each string up once per catalogue instead of
once per use (a page calls it dozens of times, through three layers of Jinja wrappers)."""

from __future__ import annotations

import re
import weakref
from collections import ChainMap
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from types import FunctionType
from typing import NamedTuple

from flask import Flask, current_app, g, has_request_context, request, session, url_for
from flask.templating import Environment
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_eval_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from core import fields, frame
from core.i18n import by_locale, current_locale

_ICON_NAME = re.compile(r"^[a-z0-9-]+$")
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]+\Z")  # what URL quoting leaves as it is, in a path or a query


_DICT_ATTRIBUTES = frozenset(dir(dict))


_WANTS_EVAL_CONTEXT = pass_eval_context(lambda: None).jinja_pass_arg  # Jinja's mark, as its decorator sets it


class _Context(Context):
    """Jinja's template context, calling a plain function as Jinja would without first asking
    what it wants passed (three attribute lookups a call, some hundred calls a page): such a
    function carries Jinja's mark (`jinja_pass_arg`, set by pass_context() and its kin) in its
    __dict__, or none. Unmarked, it is called as it is; marked for the evaluation context (the
    `_` of every sentence), it gets it first. Anything else (the other marks, macros, bound
    methods, callable objects) goes through Context.call()."""

    def call(self, obj, /, *args, **kwargs):
        if type(obj) is not FunctionType:
            return super().call(obj, *args, **kwargs)
        mark = obj.__dict__.get("jinja_pass_arg")
        if mark is _WANTS_EVAL_CONTEXT:
            args = (self.eval_ctx, *args)
        elif mark is not None:
            return super().call(obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return obj(*args, **kwargs)
        except StopIteration:
            return self.environment.undefined("value was undefined because a callable raised a StopIteration exception")


class Pages(Environment):
    """Flask's Jinja environment (Carnet's jinja_environment), answering three questions Jinja
    answers slowly on every page, with the same answers (docs/performance.md, 36):

    - `home.documents.count` on plain data: Jinja asks getattr() first, and a dict has no such
      attribute, so each look raises and catches an AttributeError before reading the key (some
      two hundred a home visit). A dict's attributes are its type's: any other name is a key.
    - every `{% import %}` subtracts the template's globals' keys from the page's; on Jinja's
      ChainMap that is one generator per global in Python (see _Globals);
    - every call asks the callable what it wants passed (see _Context)."""

    context_class = _Context

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def make_globals(self, d):
        return _Globals({} if d is None else d, self.globals)


class _Globals(ChainMap):
    """A template's globals over the environment's (Jinja's ChainMap), whose keys() is a set
    made in C: Jinja's imports subtract it from a set."""

    def keys(self):
        return set().union(*self.maps)


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

    @lru_cache(maxsize=512)
    def _route(root: str, blueprint: str | None, endpoint: str) -> str:
        return url_for(endpoint)

    @lru_cache(maxsize=1024)
    def _cut(root: str, blueprint: str | None, endpoint: str, names: tuple[str, ...]) -> tuple[str, ...] | None:
        """url_for()'s answer for these argument names, cut where each value goes: built twice
        with marks in place of the values, kept only when both builds agree and the endpoint has
        one rule without defaults (else another value could choose another rule); None: ask
        url_for() each time (an int converter refuses the marks, say)."""
        full = (blueprint + endpoint if blueprint else endpoint[1:]) if endpoint[:1] == "." else endpoint
        try:
            rules = list(app.url_map.iter_rules(full))
        except KeyError:  # no such endpoint: url_for() says so
            return None
        if len(rules) != 1 or rules[0].defaults or any(n[:1] == "_" for n in names):
            return None
        cuts = []
        for mark in ("zq7mark", "Zq7Mark"):
            try:
                built = url_for(endpoint, **{n: f"{mark}{i}x" for i, n in enumerate(names)})
            except Exception:  # noqa: BLE001  # a converter refusing a mark: no pattern for these names
                return None
            parts = re.split(f"{mark}(\\d+)x", built)
            if parts[1::2] != [str(i) for i in range(len(names))]:
                return None
            cuts.append(tuple(parts[0::2]))
        return cuts[0] if cuts[0] == cuts[1] else None

    def route_url(endpoint: str, **values) -> str:
        """Flask's url_for() in templates. A URL without arguments is memoised per mount point
        (and section, for ".name"): a card's or a menu's link is the same for every person on
        every page. With arguments whose values no quoting changes (ids, slugs, numbers), the
        URL is url_for()'s own answer for these names, cut once, with the values put in (rows'
        links: dozens a page). Anything else, or with URL defaults registered, asks url_for()."""
        if not has_request_context() or app.url_default_functions:
            return url_for(endpoint, **values)
        blueprint = request.blueprint if endpoint[:1] == "." else None
        if not values:
            return _route(request.script_root, blueprint, endpoint)
        cut = _cut(request.script_root, blueprint, endpoint, tuple(values))
        if cut is None:
            return url_for(endpoint, **values)
        out = [cut[0]]
        for value, part in zip(values.values(), cut[1:], strict=True):
            text = value if type(value) is str else str(value) if type(value) is int else None
            if text is None or not _UNQUOTED.match(text):
                return url_for(endpoint, **values)
            out += (text, part)
        return "".join(out)

    app.jinja_env.globals["url_for"] = route_url
    app.jinja_env.globals["svg_icon"] = svg_icon
    ui = app.jinja_env.globals
    ui["ui_icon"], ui["ui_badge"], ui["ui_card"], ui["ui_main_nav"], ui["ui_confirm"] = _components(svg_icon)
    ui["ui_nav_count"], ui["ui_attrs"] = nav_count, html_attrs
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})  # Flask-WTF also sets it there
    app.jinja_env.globals["static_url"] = static_url
    frame.init_app(app)
    fields.init_app(app)
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
    """ui.icon(), ui.badge(), ui.card(), ui.main_nav() and ui.confirm() (components/ui.html
    exports them): Python rather than macros, since a page calls them dozens of times (a card
    per block of the home, a panel per row). They render exactly what the macros did."""

    def icon(name: str, label=None) -> Markup:
        """Joined, each value through escape(), as card() is: Markup's + and % cost four times
        as much, and rows draw two icons or a badge each (docs/performance.md, 72)."""
        if label:
            return Markup("".join((svg_icon(name), '<span class="visually-hidden">', escape(label), "</span>")))
        return svg_icon(name)

    def badge(label, variant="neutral", icon=None) -> Markup:
        mark = svg_icon(icon) if icon else ""
        return Markup("".join(('<span class="badge badge-', escape(variant), '">', mark, escape(label), "</span>")))

    def card(title, icon=None, href=None, level=2, id=None, caller=None) -> Markup:
        """{% call ui.card(...) %}: Jinja passes the call block as `caller`. Joined as text,
        each value through escape() as {{ }} would (Markup's % costs a dozen calls per value)."""
        h = escape(level)
        out = ['<section class="card card-link"' if href else '<section class="card"']
        if id:
            out += [' id="', escape(id), '"']
        out += [">\n  <h", h, ' class="card-title">']
        if icon:
            out += ['<span class="card-icon">', svg_icon(icon), "</span>"]
        if href:
            out += ['<a href="', escape(href), '">', escape(title), '</a><span class="card-chevron">']
            out += [svg_icon("chevron-right"), "</span>"]
        else:
            out += ["<span>", escape(title), "</span>"]
        out += ["</h", h, ">"]
        if caller:
            out += ['\n  <div class="card-body">', caller(), "</div>"]
        out.append("\n</section>")
        return Markup("".join(out))

    def main_nav(nav, class_, counts=None) -> Markup:
        """The main navigation (side on wide screens, the phone's bottom bar: its first five
        entries marked `phone`), twice on every page; entries with a badge carry their count."""
        counts = counts or {}
        items = nav if class_ != "bottomnav" else [item for item in nav if item["phone"]][:5]
        label = by_locale(current_locale()).ugettext("Main navigation")
        out = ['<nav class="', escape(class_), '" aria-label="', escape(label), '">\n  <ul>']
        for item in items:
            out += ['\n    <li><a href="', escape(item["url"]), '"']
            if item["active"]:
                out.append(' aria-current="page"')
            out += [">", svg_icon(item["icon"]), "<span>", escape(item["label"]), "</span>"]
            if item["badge"]:
                out.append(nav_count(class_, item["badge"], counts.get(item["badge"], 0)))
            out.append("</a></li>")
        out.append("\n  </ul>\n</nav>")
        return Markup("".join(out))

    def confirm(id, title, action_url, confirm_label, cancel_label=None, method="post", caller=None, **attrs):
        """A confirmation panel (popover) and its form; `attrs` go on the form (hx_post=...,
        class_=...). Pages of rows draw one per row (each measure, each share)."""
        id_ = escape(id)
        out = [
            '<div class="confirm-panel" id="',
            id_,
            '" popover role="dialog" aria-labelledby="',
            id_,
            '-title" tabindex="-1" autofocus>\n  <p class="confirm-title" id="',
            id_,
            '-title">',
            svg_icon("triangle-alert"),
            "<span>",
            escape(title),
            "</span></p>",
        ]
        if caller:
            out += ['<div class="confirm-body">', caller(), "</div>"]
        out += ['\n  <form method="', escape(method), '" action="', escape(action_url), '" class="btn-row"']
        out.append(' hx-disabled-elt="find button[type=submit]"')
        out += [html_attrs(attrs), '>\n    <input type="hidden" name="csrf_token" value="', escape(csrf_token()), '">']
        out += ['\n    <button type="submit" class="btn btn-danger">', escape(confirm_label), "</button>"]
        out += [
            '\n    <button type="button" class="btn btn-ghost" popovertarget="',
            id_,
            '" popovertargetaction="hide">',
        ]
        cancel = cancel_label or Markup(by_locale(current_locale()).ugettext("Cancel"))
        out += [escape(cancel), "</button>\n  </form>\n</div>"]
        return Markup("".join(out))

    return icon, badge, card, main_nav, confirm


class Parts(NamedTuple):
    """What a page's rows drawn in Python use (blueprints/*/rows.py): the same components and
    link maker as the templates, and the reader's catalogue."""

    svg_icon: Callable
    icon: Callable
    badge: Callable
    confirm: Callable
    link: Callable
    words: Callable[[str], str]


def parts() -> Parts:
    ui = current_app.jinja_env.globals
    words = by_locale(current_locale()).ugettext
    return Parts(ui["svg_icon"], ui["ui_icon"], ui["ui_badge"], ui["ui_confirm"], ui["url_for"], words)


def html_attrs(attrs: dict, skip=()) -> Markup:
    """Keyword arguments as HTML attributes: hx_post -> hx-post, class_ -> class; True gives a
    bare attribute, None and False none; values escaped. Each begins with a space."""
    out = []
    for key, value in attrs.items():
        if value is None or value is False or key in skip:
            continue
        out += [" ", "class" if key == "class_" else key.replace("_", "-")]
        if value is not True:
            out += ['="', escape(value), '"']
    return Markup("".join(out))


_OOB = ' hx-swap-oob="true"'


def nav_count(class_, badge, n, oob=False) -> Markup:
    """A navigation entry's count (unread messages...): replaced in place by the entry's
    poll (hx-swap-oob), hidden at zero; the number is read out with its meaning."""
    return nav_counts((class_,), badge, n, oob)


def nav_counts(classes, badge, n, oob=False) -> Markup:
    """The same count for each navigation (side and bottom): the poll draws two every 30
    seconds on every open page, its words and number made once."""
    words = by_locale(current_locale()).ungettext("%(num)d unread", "%(num)d unread", n) % {"num": n}
    # Joined, not Markup % (...): its per-argument escaping helpers were a tenth of a poll.
    rest = (
        f"{_OOB if oob else ''}{'' if n else ' hidden'}>\n"
        f'  <span aria-hidden="true">{escape(n if n < 100 else "99+")}</span>'
        f'<span class="visually-hidden">{escape(words)}</span></span>'
    )
    entry = escape(badge.replace(".", "-"))
    return Markup("".join(f'<span class="nav-count" id="count-{escape(c)}-{entry}"{rest}' for c in classes))


# Signed CSRF tokens by (signing key, the session's raw token). Signing costs an HMAC key
# derivation per request; with WTF_CSRF_TIME_LIMIT = None a token signed earlier for the same
# session is exactly as valid, so one signature serves the whole session.
_CSRF_SIGNED: dict[tuple, str] = {}
_CSRF_SIGNED_MAX = 4096


def csrf_token() -> str:
    """Flask-WTF's generate_csrf(), signing once per session instead of once per request, and
    looked up once per request (as generate_csrf keeps its own): a page of rows puts it in
    each row's confirmation form."""
    token = g.get("carnet_csrf_token")
    if token is None:
        token = g.carnet_csrf_token = _csrf_token()
    return token


def _csrf_token() -> str:
    cfg = current_app.config
    if cfg.get("WTF_CSRF_TIME_LIMIT", 3600) is not None:
        return generate_csrf()
    field, secret = (
        cfg.get("WTF_CSRF_FIELD_NAME", "csrf_token"),
        cfg.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key,
    )
    raw = session.get(field)
    token = _CSRF_SIGNED.get((secret, raw)) if isinstance(raw, str) else None
    if token is None:
        token = generate_csrf()
        raw = session.get(field)  # made by generate_csrf when the session had none yet
        if isinstance(raw, str):  # the first page's token is the one every later page shows
            if len(_CSRF_SIGNED) >= _CSRF_SIGNED_MAX:
                _CSRF_SIGNED.clear()
            _CSRF_SIGNED[(secret, raw)] = token
    return token


@pass_eval_context
def gettext(eval_ctx, string: str, **variables) -> str:
    translations, memo = _rendering(eval_ctx)
    if not eval_ctx.autoescape:
        return translations.ugettext(string) % variables
    if variables:
        rv = memo.get(string)
        if rv is None:
            rv = memo[string] = Markup(translations.ugettext(string))
        return rv % variables
    key = (string, None)
    rv = memo.get(key)
    if rv is None:  # already %-formatted: "%%" becomes "%" exactly as the extension does
        rv = memo[key] = Markup(translations.ugettext(string)) % {}
    return rv


@pass_eval_context
def ngettext(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    rv = _rendering(eval_ctx)[0].ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


# Translated Markup by catalogue (one per locale, loaded once per process by Flask-Babel), so
# a memo can never answer in another language.
_MEMOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The catalogue of each template being rendered, by its evaluation context and locale: looked
# up once per render, not once per string. The locale is part of the key: the macros of a
# template imported without context share one evaluation context across every render (and
# thread) of the process, in whatever language each is. Bounded; each entry keeps its context
# so ids stay unique.
_RENDERS: dict[int, tuple] = {}
_RENDERS_MAX = 64


def _rendering(eval_ctx) -> tuple:
    locale = current_locale()
    found = _RENDERS.get(id(eval_ctx))
    if found is not None and found[0] is eval_ctx and found[1] is locale:
        return found[2]
    catalogue = _catalogue()
    if len(_RENDERS) >= _RENDERS_MAX:
        _RENDERS.clear()
    _RENDERS[id(eval_ctx)] = (eval_ctx, locale, catalogue)
    return catalogue


def _translations():
    return _catalogue()[0]


def _catalogue() -> tuple:
    """Flask-Babel's catalogue for the current locale, and its memo."""
    translations = by_locale(current_locale())
    memo = _MEMOS.get(translations)
    if memo is None:
        memo = _MEMOS[translations] = {}
    return translations, memo
