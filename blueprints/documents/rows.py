"""A page of the documents list as HTML, the holder's and a professional's, drawn in Python like
ui.card(): thirty rows a page, each a call block with its macros, were a third of the page's
time in Jinja (docs/performance.md, 53). Rows come grouped by month, then the link to the next
page (loaded as it scrolls into view). Every value goes through escape(), as {{ }} would; the
words are the catalogue's, as _() gives them."""

from __future__ import annotations

from collections.abc import Callable

from flask import url_for
from markupsafe import Markup, escape

from blueprints.documents import bp
from core.formatting import day
from core.templating import parts


def _month_rows(docs: dict, prev_month: str | None, listing: tuple[str, dict], draw: Callable[[dict], str]) -> Markup:
    """Each row drawn by `draw`, under its month's heading; `listing`: the list's endpoint and
    URL values, to which the next page's cursor and month are added."""
    month = prev_month
    out = []
    for doc in docs["rows"]:
        if doc["month_key"] != month:
            month = doc["month_key"]
            out += ['\n<li class="doc-month"><h2>', escape(doc["month"]), "</h2></li>"]
        out += ["\n", draw(doc)]
    if docs["next_cursor"]:
        words = parts().words
        values = {"categorie": docs["category"], "q": docs["q"] or None, "apres": docs["next_cursor"], "mois": month}
        more = escape(url_for(listing[0], **values, **listing[1]))
        out += ['\n<li class="doc-more">\n  <a class="btn btn-secondary" href="', more, '" hx-get="', more]
        out += ['" hx-trigger="revealed, click" hx-target="closest li" hx-swap="outerHTML" hx-push-url="false">']
        out += [words("Show more documents"), "</a>\n</li>"]
    return Markup("".join(out))


def _meta(doc: dict) -> str:
    """What a row says under a document's title: category, date, author."""
    author = f" · {escape(doc['author_name'])}" if doc["author_name"] else ""
    return (
        f'<span class="list-meta">{escape(doc["category_label"])} · <time datetime="{doc["act_date"].isoformat()}">'
        f"{escape(day(doc['act_date']))}</time>{author}</span>"
    )


@bp.app_template_global("document_rows")
def document_rows(docs: dict, prev_month: str | None, can_share: bool) -> Markup:
    """The holder's list (documents/_rows.html): a box to select each row when the holder may
    share, its thumbnail, and a badge on what professionals do not see."""
    p = parts()
    icon, badge, link, words = p.svg_icon, p.badge, p.link, p.words
    select, no_thumb = words("Select “%(title)s”"), f'<span class="doc-thumb doc-thumb-none">{icon("file-text")}</span>'
    hidden = f'<span class="doc-flags">{badge(Markup(words("Hidden")), "warning", icon="eye-off")}</span>'

    def draw(doc: dict) -> str:
        id_ = escape(doc["id"])
        out = ['<li class="doc-row is-hidden">' if doc["hidden"] else '<li class="doc-row">']
        if can_share:
            out += ['\n  <label class="row-check"><input type="checkbox" name="ids" value="', id_, '" id="sel-', id_]
            out += ['" aria-label="', select % {"title": escape(doc["title"])}, '"></label>']
        out += ['\n  <a class="doc-link" href="', escape(link("documents.show", doc_id=doc["id"])), '">\n    ']
        if doc["has_thumb"]:
            src = escape(link("documents.thumbnail", doc_id=doc["id"]))
            out += ['\n<img class="doc-thumb" src="', src, '" alt="" loading="lazy" width="56" height="72">']
        else:
            out += ["\n", no_thumb]
        out += ['\n    <span class="list-main">\n      <span class="list-title">', escape(doc["title"]), "</span>"]
        out += ["\n      ", _meta(doc), hidden if doc["hidden"] else "", "\n    </span>\n  </a>\n</li>"]
        return "".join(out)

    return _month_rows(docs, prev_month, ("documents.index", {}), draw)


@bp.app_template_global("pro_document_rows")
def pro_document_rows(docs: dict, prev_month: str | None, access_id: str) -> Markup:
    """A professional's list of a record's documents (pro/_document_rows.html)."""
    p = parts()
    icon, badge, link, words = p.svg_icon, p.badge, p.link, p.words
    file_icon, chevron = icon("file-text"), icon("chevron-right")
    hidden = badge(Markup(words("Hidden")), "warning", icon="eye-off")

    def draw(doc: dict) -> str:
        href = escape(link("pro.record_document", access_id=access_id, doc_id=doc["id"]))
        return (
            f'<li class="pro-doc-row">\n  <a href="{href}">\n    <span class="pro-doc-icon">{file_icon}</span>'
            f'\n    <span class="list-main">\n      <span class="list-title">{escape(doc["title"])}</span>'
            f"\n      {_meta(doc)}\n    </span>{hidden if doc['hidden'] else ''}"
            f'\n    <span class="pro-doc-chevron">{chevron}</span>\n  </a>\n</li>'
        )

    return _month_rows(docs, prev_month, ("pro.record_documents", {"access_id": access_id}), draw)
