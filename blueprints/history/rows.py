"""A page of traces as HTML, drawn in Python like ui.card(): fifty rows a page, each with its
badges, its sentence and a line of where and how, were half of the page's time as a Jinja loop
(docs/performance.md, 52). Every value goes through escape(), as {{ }} would; the words are the
catalogue's, as _() would give them."""

from __future__ import annotations

from markupsafe import Markup, escape

from blueprints.history import bp
from core.formatting import moments
from core.templating import parts

# (badge variant, its icon, the badge says the actor itself rather than the kind) per kind of actor
_BADGES = {
    "holder": ("primary", "user", True),
    "professional": ("neutral", "stethoscope", False),
    "anonymous": ("warning", "circle-help", True),
    "emergency": ("danger", "heart-pulse", False),
}
_OTHER = ("neutral", None, False)


@bp.app_template_global("history_rows")
def history_rows(rows) -> Markup:
    """The <li> of each row of history/_page.html's list."""
    p = parts()
    icon, badge, words = p.svg_icon, p.badge, p.words
    failed = f" {badge(Markup(words('Failed')), 'warning', icon='triangle-alert')}\n      </span>"
    kiosk, ip, used = " · " + words("public kiosk"), words("IP address %(ip)s"), words("access used: %(access)s")
    moment = moments()
    out = []
    for row in rows:
        kind = row.actor_kind
        variant, badge_icon, says_actor = _BADGES.get(kind, _OTHER)
        out += ['\n  <li class="history-row history-failed">' if row.failed else '\n  <li class="history-row">']
        out += ['\n    <span class="history-icon">', icon(row.icon), '</span>\n    <div class="list-main">']
        out += ['\n      <span class="list-title">', escape(row.sentence), "</span>"]
        out.append('\n      <span class="list-meta history-who">')
        out.append(badge(row.actor if says_actor else row.actor_kind_label, variant, icon=badge_icon))
        if kind == "professional":
            out += [' <span class="history-actor">', escape(row.actor), "</span>"]
            if row.profession:
                out += ["<span>· ", escape(row.profession), "</span>"]
        elif not says_actor and row.actor != row.actor_kind_label:
            out += [' <span class="history-actor">', escape(row.actor), "</span>"]
        out.append(failed if row.failed else "\n      </span>")
        if row.identity:
            out += ['\n      <span class="list-meta history-identity history-identity-', escape(row.identity), '">']
            out += [icon("shield-check" if row.identity == "verified" else "circle-help"), "<span>"]
            out += [escape(row.identity_label), "</span></span>"]
        out += ['\n      <span class="list-meta"><time datetime="', escape(row.at.isoformat()), '">']
        out += [escape(moment(row.at)), "</time>"]
        if row.device:
            out += [" · ", escape(row.device)]
        if row.kiosk:
            out.append(kiosk)
        if row.ip:
            out += [" · ", ip % {"ip": escape(row.ip)}]
        if row.access:
            out += [" · ", used % {"access": escape(row.access)}]
        out.append("</span>\n    </div>\n  </li>")
    return Markup("".join(out))
