"""One holder's record as a professional sees it, through a share, a grant or an emergency access.

Every route has the same gate, `@web.gate(<record section>, action, record=True)`: the viewer
acting on the record its <access_id> opens (or 404), then the check of that section. Every
response that carries the record is traced with the grant it came through: pages and fragments,
document openings and downloads, chart images, a PDF's page images. One trace per view, not per
image: a chart image is traced as its own read ("measure_chart", with kind and period) unless
this session's trace of the same read (a measure page for that kind and period, or the same
chart) is less than CHART_TRACE_MINUTES old; a PDF's page image is traced as an opening of its
document unless this session traced that opening (the document's page, its full screen, or an
earlier page image) less than CHART_TRACE_MINUTES ago.
"""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, request, session, url_for
from flask_babel import get_locale

from blueprints.documents import files, previews, services as documents
from blueprints.documents.forms import UploadForm
from blueprints.measures import charts, services as measures
from blueprints.pro import bp, services
from blueprints.profile import services as profile
from blueprints.profile.synthesis import printing
from core import access, audit, clock, pdf as core_pdf, web
from core.files import pages, thumbnails
from core.i18n import gettext as _, ngettext

CHART_TRACE_MINUTES = 10  # an image read again within this window is covered by the first trace
ACCEPT = "application/pdf,image/jpeg,image/png,image/tiff,text/plain,.pdf,.jpg,.jpeg,.png,.tif,.tiff,.txt"


def _first_time(viewer) -> bool:
    """Whether this session opens this grant for the first time (the holder is told once)."""
    told = session.get("pro_told") or []
    if viewer.grant_id in told:
        return False
    session["pro_told"] = [*told, viewer.grant_id][-50:]
    return True


def _page(template: str, viewer, fragment: str | None = None, **context):
    return web.render(template, fragment, rec=services.header(viewer), **context)


def _viewed(viewer, page: str, target=None, **detail):
    services.viewed(
        viewer, page, target, first_in_session=viewer.grant_kind == "grant" and _first_time(viewer), **detail
    )


def _measure_read(viewer, kind: str, period: str, *, traced: bool) -> bool:
    """Whether this session already traced this measure read (access, kind, period) less than
    CHART_TRACE_MINUTES ago; with traced=True, remember that it just did."""
    return _recent_read(viewer, f"{kind}|{period}", traced=traced)


def _document_read(viewer, doc, *, traced: bool) -> bool:
    """The same for the opening of one document (what its page images show)."""
    return _recent_read(viewer, f"document|{doc.id}", traced=traced)


def _recent_read(viewer, what: str, *, traced: bool) -> bool:
    now = clock.utcnow().timestamp()
    window = CHART_TRACE_MINUTES * 60
    key = f"{viewer.grant_id}|{what}"
    reads = {k: t for k, t in (session.get("pro_reads") or {}).items() if now - t < window}
    if traced:
        reads[key] = now
        session["pro_reads"] = dict(sorted(reads.items(), key=lambda kv: kv[1])[-50:])
        return True
    return key in reads


# --------------------------------------------------------------------------- overview


@bp.get("/dossier/<access_id>")
@web.gate("pro", "read", record=True)
def record(viewer, access_id: str):
    _viewed(viewer, "overview")
    return _page("pro/record.html", viewer, o=services.overview(viewer))


# --------------------------------------------------------------------------- documents


@bp.get("/dossier/<access_id>/documents")
@web.gate(access.RECORD_DOCUMENTS, "read", record=True)
def record_documents(viewer, access_id: str):
    category = request.args.get("categorie") or None
    after = request.args.get("apres") or None
    listing = documents.listing(
        viewer,
        category=category,
        q=request.args.get("q") or None,
        after=after,
        with_counts=not (after and web.wants_fragment()),
    )
    _viewed(viewer, "documents", category=listing["category"])
    return _page(
        "pro/documents.html",
        viewer,
        "pro/_document_rows.html" if after else None,
        docs=listing,
        prev_month=request.args.get("mois"),
    )


@bp.get("/dossier/<access_id>/documents/<doc_id>")
@web.gate(access.RECORD_DOCUMENTS, "read", record=True)
def record_document(viewer, access_id: str, doc_id: str):
    doc = documents.get(viewer, doc_id)
    data = documents.detail(viewer, doc)
    # A PDF's or a TIFF's pages are looked at before the traces are written (no rendering under
    # a write lock).
    pdf = previews.paged_preview(viewer, doc) if not data["file_missing"] else None
    _viewed(viewer, "document", doc)
    if pdf and pdf["pages"]:  # its pages are on this page: the opening is traced here, not per image
        audit.record(viewer, audit.Action.DOCUMENT_OPENED, doc, detail={"how": "preview"})
        _document_read(viewer, doc, traced=True)
    text = documents.text_preview(viewer, doc) if doc.kind == "text" else None
    return _page("pro/document.html", viewer, doc=data, text_preview=text, pdf=pdf)


@bp.get("/dossier/<access_id>/documents/<doc_id>/apercu")
@web.gate(access.RECORD_DOCUMENTS, "read", record=True)
def record_preview(viewer, access_id: str, doc_id: str):
    doc = documents.get(viewer, doc_id)
    if previews.opens_full_screen(viewer, doc):
        return redirect(url_for("pro.record_fullscreen", access_id=access_id, doc_id=doc.id))
    if doc.kind == "tiff":  # its pages cannot be drawn: its thumbnail, traced as an opening too
        chunks = previews.open_thumbnail(viewer, doc)
        if chunks is None:
            return web.error_page(404)
        audit.record(viewer, audit.Action.DOCUMENT_OPENED, doc, detail={"how": "thumbnail"})
        return files.serve_image(chunks, thumbnails.THUMBNAIL_MIME, "apercu.jpg")
    drawing = previews.photo_drawing(viewer, doc, request.args.get("taille"))
    if drawing is not None:  # a photo as its page shows it, drawn at upload
        return files.serve_drawing(drawing[1], drawing[0], "apercu")
    return files.serve(documents.open_content(viewer, doc, "preview"), doc, inline=True, mime=doc.mime)


@bp.get("/dossier/<access_id>/documents/<doc_id>/plein-ecran")
@web.gate(access.RECORD_DOCUMENTS, "read", record=True)
def record_fullscreen(viewer, access_id: str, doc_id: str):
    """A PDF's or a TIFF's pages as large images (what "Open in full screen" opens), traced as an
    opening."""
    doc = documents.get(viewer, doc_id)
    pdf = previews.paged_preview(viewer, doc)
    if pdf is None:
        return redirect(url_for("pro.record_document", access_id=access_id, doc_id=doc.id))
    if pdf["pages"]:
        audit.record(viewer, audit.Action.DOCUMENT_OPENED, doc, detail={"how": "preview"})
        _document_read(viewer, doc, traced=True)
    return _page("pro/fullscreen.html", viewer, doc=documents.detail(viewer, doc), pdf=pdf)


@bp.get("/dossier/<access_id>/documents/<doc_id>/pages/<int:number>")
@web.gate(access.RECORD_DOCUMENTS, "read", record=True)
def record_page_image(viewer, access_id: str, doc_id: str, number: int):
    """One page of a PDF or a TIFF as an image: covered by the trace of the page that shows it
    (the document's page or full screen), else traced as an opening of the document. Drawn
    first, traced after: no rendering under a write lock."""
    doc = documents.get(viewer, doc_id)
    size = request.args.get("taille") if request.args.get("taille") in pages.WIDTHS else "normal"
    image = previews.page_image(viewer, doc, number, size)
    if image is None:
        return web.error_page(404)
    if not _document_read(viewer, doc, traced=False):
        audit.record(viewer, audit.Action.DOCUMENT_OPENED, doc, detail={"how": "page_image"})
        _document_read(viewer, doc, traced=True)
    return files.serve_drawing([image[1]], image[0], f"page-{number}")


@bp.get("/dossier/<access_id>/documents/<doc_id>/telecharger")
@web.gate(access.RECORD_DOCUMENTS, "read", record=True)
def record_download(viewer, access_id: str, doc_id: str):
    doc = documents.get(viewer, doc_id)
    chunks = documents.open_content(viewer, doc, "download", action=audit.Action.DOCUMENT_DOWNLOADED)
    return files.serve(chunks, doc, inline=False)


@bp.route("/dossier/<access_id>/deposer", methods=["GET", "POST"])
@web.gate(access.RECORD_DOCUMENTS, "deposit", record=True)
def record_deposit(viewer, access_id: str):
    form = UploadForm()
    if request.method == "GET":
        form.act_date.data = clock.paris_today()
        form.category.data = "CPT_REND"
    error = None
    if form.validate_on_submit():
        uploads = form.uploads()
        if not uploads:
            error = _("Choose a file or take a photo.")
        else:
            try:
                docs = services.deposit(viewer, uploads, **form.described())
            except documents.UploadRefused as exc:
                error = exc.message(current_app.config["UPLOAD_MAX_MB"])
            else:
                flash(
                    ngettext(
                        "Document added to the patient's record. The patient is told.",
                        "%(num)d documents added to the patient's record. The patient is told.",
                        len(docs),
                    ),
                    "success",
                )
                for doc in docs:
                    if getattr(doc, "needs_password", False):
                        flash(
                            _(
                                "“%(title)s” is protected by a password: the patient and other professionals will "
                                "need the password to open it.",
                                title=doc.title,
                            ),
                            "warning",
                        )
                return web.hx_redirect(url_for("pro.record_documents", access_id=access_id))
    status = 422 if form.is_submitted() else 200
    _viewed(viewer, "deposit")  # the form shows who the record is
    return _page(
        "pro/deposit.html",
        viewer,
        "pro/_deposit_form.html",
        status=status,
        form=form,
        error=error,
        accept=ACCEPT,
        max_mb=current_app.config["UPLOAD_MAX_MB"],
        max_bytes=documents.max_bytes(),
    )


# --------------------------------------------------------------------------- summary and measures


@bp.get("/dossier/<access_id>/resume")
@web.gate(access.RECORD_SUMMARY, "read", record=True)
def record_summary(viewer, access_id: str):
    _viewed(viewer, "summary")
    return _page("pro/summary.html", viewer, s=profile.summary(viewer))


@bp.get("/dossier/<access_id>/resume/pdf")
@web.gate(access.RECORD_SUMMARY, "read", record=True)
def record_summary_pdf(viewer, access_id: str):
    """ "Ma synthèse" as the share allows it (measures and documents only within its scope),
    traced as a print by this professional, through this access."""
    lang = printing.language(request.args.get("lang"), str(get_locale()))
    try:
        data = printing.a4(viewer, lang)
    except core_pdf.PdfError:
        flash(_("The PDF could not be prepared. Try again in a moment."), "error")
        return redirect(url_for("pro.record_summary", access_id=access_id), 303)
    return printing.response(data, printing.filename(lang))


@bp.get("/dossier/<access_id>/mesures")
@web.gate(access.RECORD_MEASURES, "read", record=True)
def record_measures(viewer, access_id: str):
    _viewed(viewer, "measures")
    return _page("pro/measures.html", viewer, o=measures.overview(viewer))


def _range() -> str:
    wanted = request.args.get("periode")
    return wanted if wanted in charts.RANGES else charts.DEFAULT_RANGE


@bp.get("/dossier/<access_id>/mesures/<slug>")
@web.gate(access.RECORD_MEASURES, "read", record=True)
def record_measure(viewer, access_id: str, slug: str):
    kind = measures.kind_or_404(slug)
    period = _range()
    _viewed(viewer, "measure", kind=kind.key, period=period)
    _measure_read(viewer, kind.key, period, traced=True)  # the chart images of this page are in this trace
    page = {
        "kind": kind,
        "period": period,
        "chart": charts.chart(viewer, kind, period, svg=False),
        "values": measures.recent(viewer, kind, limit=10) if kind.entered else None,
        "bmi": measures.bmi_from(measures.latest_per_kind(viewer)) if kind.key == "bmi" else None,
    }
    if web.wants_fragment("chart-block"):
        return _page("pro/measure.html", viewer, "pro/_chart.html", **page)
    return _page("pro/measure.html", viewer, **page)


@bp.get("/dossier/<access_id>/mesures/<slug>/graphique.svg")
@web.gate(access.RECORD_MEASURES, "read", record=True)
def record_chart(viewer, access_id: str, slug: str):
    """Every value of a kind over a period: traced, unless this session traced the same read
    (the measure page that shows this chart, or this chart) less than CHART_TRACE_MINUTES ago."""
    kind = measures.kind_or_404(slug)
    period = _range()
    size = request.args.get("taille") if request.args.get("taille") in charts.SIZES else "wide"
    if not _measure_read(viewer, kind.key, period, traced=False):
        _viewed(viewer, "measure_chart", kind=kind.key, period=period)
        _measure_read(viewer, kind.key, period, traced=True)
    resp = Response(charts.svg(viewer, kind, period, size=size), mimetype="image/svg+xml")
    resp.headers["Content-Security-Policy"] = charts.CSP
    return resp
