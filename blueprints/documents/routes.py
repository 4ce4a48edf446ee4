"""Documents screens: list (search, chips, infinite scroll), add, open, download, edit, hide, delete."""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _, ngettext

from blueprints.documents import bp, categories, filetypes, services
from blueprints.documents.forms import EditForm, UploadForm
from core import access, clock, web

# What an upload may do once served: nothing (no script, no form, no plugin, no fetch).
CSP_DOWNLOAD = "sandbox; default-src 'none'; frame-ancestors 'none'"
# The preview may be framed by our own document page, and by nothing else.
CSP_PREVIEW = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
ACCEPT = "application/pdf,image/jpeg,image/png,image/tiff,text/plain,.pdf,.jpg,.jpeg,.png,.tif,.tiff,.txt"


def _viewer(action: str = "read"):
    viewer = web.current_viewer()
    access.require(viewer, "documents", action)
    return viewer


def _list_args() -> dict:
    return {"category": request.args.get("categorie") or None, "q": request.args.get("q") or None,
            "after": request.args.get("apres") or None}


# --------------------------------------------------------------------------- list


@bp.get("")
def index():
    viewer = _viewer()
    args = _list_args()
    # Infinite scroll asks for the next rows only; the search box for the results block.
    next_rows = bool(args["after"]) and web.wants_fragment()
    listing = services.listing(viewer, **args, with_counts=not next_rows)
    fragment = "documents/_rows.html" if args["after"] else "documents/_results.html"
    return web.render("documents/index.html", fragment, docs=listing,
                      empty=listing["total"] == 0 and not listing["q"],
                      prev_month=request.args.get("mois"), categories=categories.choices())


@bp.post("/visibilite")
def bulk_visibility():
    viewer = _viewer("write")
    hidden = request.form.get("action") == "hide"
    ids = request.form.getlist("ids")
    back = web.safe_next(request.form.get("next"), url_for("documents.index"))
    if not ids:
        flash(_("Select at least one document first."), "warning")
        return web.hx_redirect(back)
    n = services.set_hidden(viewer, ids, hidden)
    if hidden:
        flash(ngettext("%(num)d document hidden from professionals.", "%(num)d documents hidden from professionals.", n), "success")
    else:
        flash(ngettext("%(num)d document visible to professionals again.", "%(num)d documents visible to professionals again.", n), "success")
    return web.hx_redirect(back)


# --------------------------------------------------------------------------- add


@bp.route("/ajouter", methods=["GET", "POST"])
def add():
    viewer = _viewer("write")
    form = UploadForm()
    if request.method == "GET":
        form.act_date.data = clock.utcnow().date()
        wanted = request.args.get("categorie")
        form.category.data = wanted if wanted in categories.CATEGORIES else categories.DEFAULT_CATEGORY
    error = None
    if form.validate_on_submit():
        files = [f for f in request.files.getlist(form.files.name) + request.files.getlist(form.photo.name)
                 if f and f.filename]
        if not files:
            error = _("Choose a file or take a photo.")
        else:
            try:
                docs = services.add_documents(
                    viewer, [services.Upload(f.stream, f.filename) for f in files], category=form.category.data,
                    act_date=form.act_date.data, title=form.title.data, note=form.note.data)
            except services.UploadRefused as exc:
                error = exc.message(current_app.config["UPLOAD_MAX_MB"])
            else:
                flash(ngettext("Document added.", "%(num)d documents added.", len(docs)), "success")
                target = (url_for("documents.show", doc_id=docs[0].id) if len(docs) == 1
                          else url_for("documents.index"))
                return web.hx_redirect(target)
    status = 422 if form.is_submitted() else 200
    return web.render("documents/add.html", "documents/_add_form.html", status=status, form=form, error=error,
                      accept=ACCEPT, max_mb=current_app.config["UPLOAD_MAX_MB"],
                      max_bytes=services.max_bytes())


# --------------------------------------------------------------------------- one document


def _show_context(viewer, doc) -> dict:
    data = services.detail(viewer, doc)
    text = services.text_preview(viewer, doc) if doc.kind == "text" else None
    return {"doc": data, "text_preview": text}


@bp.get("/<doc_id>")
def show(doc_id: str):
    viewer = _viewer()
    doc = services.get(viewer, doc_id)
    return web.render("documents/show.html", **_show_context(viewer, doc))


def _download_name(doc) -> str:
    name = filetypes.safe_filename(doc.original_name or doc.title)
    ext = filetypes._extension(name)
    if ext is None or ext not in filetypes.ACCEPTED_EXTENSIONS.get(doc.kind, ()):
        canonical = {"pdf": "pdf", "jpeg": "jpg", "png": "png", "tiff": "tiff", "text": "txt"}[doc.kind]
        name = f"{name}.{canonical}"
    return name


def _disposition(kind: str, name: str) -> str:
    """RFC 6266 / 5987: an ASCII fallback and the UTF-8 name, both inert."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch for ch in fallback if 32 <= ord(ch) < 127 and ch not in '"\\;') or "document"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _serve(chunks, *, mime: str, disposition: str, name: str, csp: str, size: int | None = None) -> Response:
    resp = Response(chunks, mimetype=None, content_type=mime, direct_passthrough=True)
    if size is not None:
        resp.content_length = size
    resp.headers["Content-Disposition"] = _disposition(disposition, name)
    resp.headers["Content-Security-Policy"] = csp
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return resp


@bp.get("/<doc_id>/telecharger")
def download(doc_id: str):
    viewer = _viewer()
    doc = services.get(viewer, doc_id)
    chunks = services.open_content(viewer, doc, "download")
    mime = "text/plain; charset=utf-8" if doc.kind == "text" and "charset" not in doc.mime else doc.mime
    return _serve(chunks, mime=mime, disposition="attachment", name=_download_name(doc), csp=CSP_DOWNLOAD,
                  size=doc.size)


@bp.get("/<doc_id>/apercu")
def preview(doc_id: str):
    viewer = _viewer()
    doc = services.get(viewer, doc_id)
    if doc.kind == "tiff":  # browsers do not show TIFF: the page shows the thumbnail
        return redirect(url_for("documents.thumbnail", doc_id=doc.id))
    chunks = services.open_content(viewer, doc, "preview")
    return _serve(chunks, mime=doc.mime, disposition="inline", name=_download_name(doc), csp=CSP_PREVIEW,
                  size=doc.size)


@bp.get("/<doc_id>/vignette")
def thumbnail(doc_id: str):
    viewer = _viewer()
    doc = services.get(viewer, doc_id)
    chunks = services.open_thumbnail(viewer, doc)
    if chunks is None:
        return web.error_page(404)
    return _serve(chunks, mime=filetypes.THUMBNAIL_MIME, disposition="inline", name="vignette.jpg",
                  csp=CSP_DOWNLOAD)


@bp.route("/<doc_id>/modifier", methods=["GET", "POST"])
def edit(doc_id: str):
    viewer = _viewer("write")
    doc = services.get(viewer, doc_id)
    form = EditForm(obj=doc)
    if request.method == "GET" and request.args.get("annuler"):
        return web.render("documents/show.html", "documents/_details.html", **_show_context(viewer, doc))
    if form.validate_on_submit():
        services.update(viewer, doc, title=form.title.data, category=form.category.data,
                        act_date=form.act_date.data, note=form.note.data)
        flash(_("Changes saved."), "success")
        if web.wants_fragment():
            return web.render("documents/show.html", "documents/_details.html", **_show_context(viewer, doc))
        return redirect(url_for("documents.show", doc_id=doc.id), 303)
    status = 422 if form.is_submitted() else 200
    return web.render("documents/edit.html", "documents/_edit_form.html", status=status, form=form,
                      doc=services.detail(viewer, doc))


@bp.post("/<doc_id>/visibilite")
def visibility(doc_id: str):
    viewer = _viewer("write")
    doc = services.get(viewer, doc_id)
    hidden = request.form.get("action") == "hide"
    services.set_hidden(viewer, [doc.id], hidden)
    flash(_("Hidden from professionals. You still see it.") if hidden
          else _("Visible to professionals who have access to your space."), "success")
    if web.wants_fragment():
        return web.render("documents/show.html", "documents/_details.html", **_show_context(viewer, doc))
    return redirect(url_for("documents.show", doc_id=doc.id), 303)


@bp.post("/<doc_id>/supprimer")
def remove(doc_id: str):
    viewer = _viewer("delete")
    doc = services.get(viewer, doc_id)
    title = doc.title
    services.delete_document(viewer, doc)
    flash(_("“%(title)s” was deleted. It cannot be recovered.", title=title), "success")
    return web.hx_redirect(url_for("documents.index"))
