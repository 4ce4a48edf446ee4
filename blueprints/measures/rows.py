"""A page of one kind's values as HTML, drawn in Python like ui.card(): twenty rows a page, each
with its correction link, its deletion button and confirmation panel, were four tenths of the
page's time in Jinja (docs/performance.md, 54). Every value goes through escape(), as {{ }}
would; the words are the catalogue's, as _() gives them."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from blueprints.measures import bp
from blueprints.measures.kinds import Kind
from core.templating import parts


@bp.app_template_global("measure_rows")
def measure_rows(values: dict, kind: Kind) -> Markup:
    """The holder's values of a kind (measures/_rows.html), then the link to older ones."""
    p = parts()
    icon, badge, link, confirm, words = p.icon, p.badge, p.link, p.confirm, p.words
    ask, delete_label = Markup(words("Delete this measure?")), Markup(words("Delete"))
    correct, delete, gone = (
        words("Correct the measure of %(when)s"),
        words("Delete the measure of %(when)s"),
        words("%(value)s, %(when)s. It will disappear from your charts."),
    )
    out = []
    for row in values["rows"]:
        id_, when = escape(row["id"]), escape(row["when_text"])
        delete_url = link("measures.delete", slug=kind.slug, measure_id=row["id"])
        out += ['\n<li id="measure-', id_, '">\n  <div class="list-row">\n<div class="list-main">']
        out += ['\n  <span class="list-title">', escape(row["value"]), "</span>"]
        if row["context"]:
            out += ['<span class="profile-badge">', badge(row["context"]), "</span>"]
        out += ['\n  <span class="list-meta">', when, " · ", escape(row["source"]), "</span>\n</div>"]
        out += ['\n    <div class="list-aside">\n      <a class="btn btn-ghost btn-compact" href="']
        out += [escape(link("measures.edit", slug=kind.slug, measure_id=row["id"])), '">']
        out += [icon("pencil", Markup(correct % {"when": when})), "</a>"]
        out += ['\n      <button type="button" class="btn btn-ghost btn-compact" popovertarget="delete-', id_, '">']
        out += [icon("trash-2", Markup(delete % {"when": when})), "</button>\n    </div>\n  </div>\n  "]
        body = Markup(f"\n  <p>{gone % {'value': escape(row['value']), 'when': when}}</p>\n  ")
        out += [
            confirm(f"delete-{row['id']}", ask, delete_url, delete_label, caller=lambda b=body: b, hx_post=delete_url)
        ]
        out.append("\n</li>")
    if values["next"]:
        more = escape(url_for("measures.kind", slug=kind.slug, avant=values["next"]))
        out += ['\n<li class="doc-more" id="measure-more">\n  <a class="btn btn-secondary" href="', more]
        out += ['"\n     hx-get="', more, '" hx-target="#measure-more" hx-swap="outerHTML">']
        out += [words("Show older values"), "</a>\n</li>"]
    return Markup("".join(out))
