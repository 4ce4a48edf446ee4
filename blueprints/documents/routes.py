"""Documents screens: list (search, chips, infinite scroll), add, open, download, edit, hide, delete."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for

from blueprints.documents import bp, categories, files, previews, services
from blueprints.documents.forms import EditForm, UploadForm
from blueprints.reimbursements import services as reimbursements
from core import access, audit, clock, web
from core.files import pages, thumbnails
from core.i18n import gettext as _, ngettext

ACCEPT = "application/pdf,image/jpeg,image/png,image/tiff,text/plain,.pdf,.jpg,.jpeg,.png,.tif,.tiff,.txt"


def _list_args() -> dict:
    return {
        "category": request.args.get("categorie") or None,
        "q": request.args.get("q") or None,
        "after": request.args.get("apres") or None,
    }


# --------------------------------------------------------------------------- list


@bp.get("")
@web.gate("documents")
def index(viewer):
    args = _list_args()
    # Infinite scroll asks for the next rows only; the search box for the results block.
    next_rows = bool(args["after"]) and web.wants_fragment()
    listing = services.listing(viewer, **args, with_counts=not next_rows)
    fragment = "documents/_rows.html" if args["after"] else "documents/_results.html"
    return web.render(
        "documents/index.html",
        fragment,
        docs=listing,
        empty=listing["total"] == 0 and not listing["q"],
        prev_month=request.args.get("mois"),
        categories=categories.choices(),
    )


@bp.post("/visibilite")
@web.gate("documents", "share")
def bulk_visibility(viewer):
    hidden = request.form.get("action") == "hide"
    ids = request.form.getlist("ids")
    back = web.safe_next(request.form.get("next"), url_for("documents.index"))
    if not ids:
        flash(_("Select at least one document first."), "warning")
        return web.hx_redirect(back)
    n = services.set_hidden(viewer, ids, hidden)
    if hidden:
        flash(
            ngettext("%(num)d document hidden from professionals.", "%(num)d documents hidden from professionals.", n),
            "success",
        )
    else:
        flash(
            ngettext(
                "%(num)d document visible to professionals again.",
                "%(num)d documents visible to professionals again.",
                n,
            ),
            "success",
        )
    return web.hx_redirect(back)


# --------------------------------------------------------------------------- add


@bp.route("/ajouter", methods=["GET", "POST"])
@web.gate("documents", "write")
def add(viewer):
    form = UploadForm()
    if request.method == "GET":
        form.act_date.data = clock.paris_today()
        wanted = request.args.get("categorie")
        form.category.data = wanted if wanted in categories.CATEGORIES else categories.DEFAULT_CATEGORY
    error = None
    if form.validate_on_submit():
        uploads = form.uploads()
        if not uploads:
            error = _("Choose a file or take a photo.")
        else:
            try:
                docs = services.add_documents(viewer, uploads, **form.described())
            except services.UploadRefused as exc:
                error = exc.message(current_app.config["UPLOAD_MAX_MB"])
            else:
                flash(ngettext("Document added.", "%(num)d documents added.", len(docs)), "success")
                for doc in docs:
                    if getattr(doc, "needs_password", False):
                        flash(
                            _(
                                "“%(title)s” is protected by a password: professionals will need the password "
                                "to open it, and Carnet cannot show a preview of it.",
                                title=doc.title,
                            ),
                            "warning",
                        )
                target = url_for("documents.show", doc_id=docs[0].id) if len(docs) == 1 else url_for("documents.index")
                return web.hx_redirect(target)
    status = 422 if form.is_submitted() else 200
    return web.render(
        "documents/add.html",
        "documents/_add_form.html",
        status=status,
        form=form,
        error=error,
        accept=ACCEPT,
        max_mb=current_app.config["UPLOAD_MAX_MB"],
        max_bytes=services.max_bytes(),
    )


# --------------------------------------------------------------------------- one document


def _show_context(viewer, doc, page: bool = False) -> dict:
    """What the document's page shows; with page=True, its preview too (a PDF or a TIFF: its
    pages as images, looked at before anything is written, then traced as the opening it is)."""
    data = services.detail(viewer, doc)
    pdf = None
    if page and not data["file_missing"]:
        pdf = previews.paged_preview(viewer, doc)
        if pdf and pdf["pages"]:
            audit.record(viewer, audit.Action.DOCUMENT_OPENED, doc, detail={"how": "preview"})
    text = services.text_preview(viewer, doc) if page and doc.kind == "text" else None
    # the acts this document is linked to: the holder's own section, never a professional's
    linked = (
        reimbursements.for_document(viewer, doc.id) if page and access.can(viewer, "reimbursements", "read") else []
    )
    return {"doc": data, "text_preview": text, "pdf": pdf, "reimbursements": linked}


def _details(viewer, doc, template: str = "documents/show.html"):
    """The details block for htmx, else the whole page (with its preview)."""
    if web.wants_fragment():
        return web.render(template, "documents/_details.html", **_show_context(viewer, doc))
    return web.render(template, **_show_context(viewer, doc, page=True))


@bp.get("/<doc_id>")
@web.gate("documents")
def show(viewer, doc_id: str):
    doc = services.get(viewer, doc_id)
    return web.render("documents/show.html", **_show_context(viewer, doc, page=True))


@bp.get("/<doc_id>/telecharger")
@web.gate("documents")
def download(viewer, doc_id: str):
    if viewer.kiosk:
        abort(403)  # a file left on a public kiosk would outlive the session
    doc = services.get(viewer, doc_id)
    chunks = services.open_content(viewer, doc, "download")
    return files.serve(chunks, doc, inline=False)


@bp.get("/<doc_id>/apercu")
@web.gate("documents")
def preview(viewer, doc_id: str):
    doc = services.get(viewer, doc_id)
    if previews.opens_full_screen(viewer, doc):
        return redirect(url_for("documents.fullscreen", doc_id=doc.id))
    if doc.kind == "tiff":  # its pages cannot be drawn: its thumbnail, as its page shows
        return redirect(url_for("documents.thumbnail", doc_id=doc.id))
    drawing = previews.photo_drawing(viewer, doc, request.args.get("taille"))
    if drawing is not None:  # a photo as its page shows it, drawn at upload
        return files.serve_drawing(drawing[1], drawing[0], "apercu")
    chunks = services.open_content(viewer, doc, "preview")
    return files.serve(chunks, doc, inline=True, mime=doc.mime)


@bp.get("/<doc_id>/plein-ecran")
@web.gate("documents")
def fullscreen(viewer, doc_id: str):
    """A PDF's or a TIFF's pages as large images, one under the other (what "Open in full
    screen" opens)."""
    doc = services.get(viewer, doc_id)
    pdf = previews.paged_preview(viewer, doc)
    if pdf is None:
        return redirect(url_for("documents.show", doc_id=doc.id))
    if pdf["pages"]:
        audit.record(viewer, audit.Action.DOCUMENT_OPENED, doc, detail={"how": "preview"})
    return web.render("documents/fullscreen.html", doc=services.detail(viewer, doc), pdf=pdf)


@bp.get("/<doc_id>/pages/<int:number>")
@web.gate("documents")
def page_image(viewer, doc_id: str, number: int):
    """One page of a PDF or a TIFF drawn as an image (?taille=grande: twice as large). The page
    showing it traced the opening: no trace per image."""
    size = request.args.get("taille") if request.args.get("taille") in pages.WIDTHS else "normal"
    image = previews.stored_first_page(viewer, doc_id, size) if number == 1 else None
    if image is None:
        image = previews.page_image(viewer, services.get(viewer, doc_id), number, size)
        if image is None:
            return web.error_page(404)
        image = image[0], [image[1]]
    return files.serve_drawing(image[1], image[0], f"page-{number}")


@bp.get("/<doc_id>/vignette")
@web.gate("documents")
def thumbnail(viewer, doc_id: str):
    chunks = previews.thumbnail_of(viewer, doc_id)
    if chunks is None:
        return web.error_page(404)
    return files.serve_image(chunks, thumbnails.THUMBNAIL_MIME, "vignette.jpg")


@bp.route("/<doc_id>/modifier", methods=["GET", "POST"])
@web.gate("documents", "write")
def edit(viewer, doc_id: str):
    doc = services.get(viewer, doc_id)
    form = EditForm(obj=doc)
    if request.method == "GET" and request.args.get("annuler"):
        return _details(viewer, doc)
    if form.validate_on_submit():
        services.update(
            viewer,
            doc,
            title=form.title.data,
            category=form.category.data,
            act_date=form.act_date.data,
            note=form.note.data,
        )
        flash(_("Changes saved."), "success")
        if web.wants_fragment():
            return _details(viewer, doc)
        return redirect(url_for("documents.show", doc_id=doc.id), 303)
    status = 422 if form.is_submitted() else 200
    return web.render(
        "documents/edit.html", "documents/_edit_form.html", status=status, form=form, doc=services.detail(viewer, doc)
    )


@bp.post("/<doc_id>/visibilite")
@web.gate("documents", "share")
def visibility(viewer, doc_id: str):
    doc = services.get(viewer, doc_id)
    hidden = request.form.get("action") == "hide"
    services.set_hidden(viewer, [doc.id], hidden)
    flash(
        _("Hidden from professionals. You still see it.")
        if hidden
        else _("Visible to professionals who have access to your space."),
        "success",
    )
    if web.wants_fragment():
        return _details(viewer, doc)
    return redirect(url_for("documents.show", doc_id=doc.id), 303)


@bp.post("/<doc_id>/supprimer")
@web.gate("documents", "delete")
def remove(viewer, doc_id: str):
    doc = services.get(viewer, doc_id)
    title = doc.title
    services.delete_document(viewer, doc)
    flash(_("“%(title)s” was deleted. It cannot be recovered.", title=title), "success")
    return web.hx_redirect(url_for("documents.index"))
