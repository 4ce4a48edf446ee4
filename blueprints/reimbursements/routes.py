"""Reimbursements: the list by month, one act, a year, the relevé (PDF and CSV)."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, request, url_for
from flask_babel import format_currency

from blueprints.reimbursements import bp, drawing, export, services
from blueprints.reimbursements.forms import LinkForm
from core import web
from core.clock import paris_today
from core.db import db
from core.formatting import date_text
from core.pdf import PdfError


@bp.get("")
@web.gate("reimbursements")
def index(viewer):
    """The list; a filter, a search or "more" answers with the fragment it replaces."""
    filters = services.Filters.from_args(request.args)
    listing = services.page(viewer, filters)
    context = {"filters": filters, "listing": listing}
    if web.wants_fragment("reimbursement-more"):
        return web.render("reimbursements/index.html", "reimbursements/_more.html", **context)
    if web.wants_fragment():
        resp = web.render("reimbursements/index.html", "reimbursements/_results.html", **context)
        # the address bar keeps the filters as a link would write them, not every empty field
        resp.headers["HX-Push-Url"] = url_for("reimbursements.index", **filters.query_args())
        return resp
    year = paris_today().year
    return web.render(
        "reimbursements/index.html",
        providers=services.providers(viewer),
        caps=services.caps(viewer, year),
        year=year,
        **context,
    )


@bp.get("/<reimbursement_id>")
@web.gate("reimbursements")
def show(viewer, reimbursement_id: str):
    line = services.get(viewer, reimbursement_id)
    return web.render("reimbursements/show.html", d=services.detail(viewer, line), form=LinkForm())


@bp.post("/<reimbursement_id>/document")
@web.gate("reimbursements", "write")
def link(viewer, reimbursement_id: str):
    line = services.get(viewer, reimbursement_id)
    form = LinkForm()
    if form.validate_on_submit():
        services.link(viewer, line, form.document_id.data or None)
        db.session.commit()
    return web.hx_redirect(url_for("reimbursements.show", reimbursement_id=line.id) + "#document")


@bp.get("/annee")
@bp.get("/annee/<int:year>")
@web.gate("reimbursements")
def year(viewer, year: int | None = None):
    today = paris_today()
    year = year or today.year
    if not 1990 <= year <= today.year + 1:
        abort(404)
    view = services.year_view(viewer, year)
    chart = drawing.year_chart(view["months"], year)
    return web.render("reimbursements/year.html", y=view, years=services.years(viewer), chart=chart)


def _period() -> tuple[date | None, date | None]:
    def day(name):
        try:
            return date.fromisoformat(request.args.get(name, "")[:10])
        except ValueError:
            return None

    return day("du"), day("au")


@bp.get("/releve")
@web.gate("reimbursements")
def statement(viewer):
    start, end = _period()
    error = None
    if request.args:
        try:
            export.check_period(start, end)
        except export.PeriodError as exc:
            error = str(exc)
    return _statement_page(viewer, start, end, error)


def _statement_page(viewer, start: date | None, end: date | None, error: str | None):
    today = paris_today()
    return web.render(
        "reimbursements/statement.html",
        start=start or date(today.year, 1, 1),
        end=end or today,
        error=error,
        kiosk=viewer.kiosk,
        status=422 if error else 200,
    )


def _download(viewer, fmt: str):
    if viewer.kiosk:
        abort(403)  # a file left on a public kiosk would outlive the session
    start, end = _period()
    try:
        start, end = export.check_period(start, end)
    except export.PeriodError:
        return web.hx_redirect(url_for("reimbursements.statement", **request.args))
    answer = web.ask_fresh_authentication(url_for("reimbursements.statement", **request.args))
    if answer is not None:
        return answer
    if fmt == "pdf":
        try:
            data = export.pdf_bytes(viewer, start, end)
        except export.PeriodError as exc:
            return _statement_page(viewer, start, end, str(exc))
        except PdfError:
            abort(503)
        resp = Response(data, content_type="application/pdf")
    else:
        resp = Response(export.csv_chunks(viewer, start, end), content_type="text/csv; charset=utf-8")
    export.traced(viewer, fmt, start, end)
    db.session.commit()
    resp.headers["Content-Disposition"] = f'attachment; filename="{export.filename(fmt, start, end)}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/releve.pdf")
@web.gate("reimbursements")
def statement_pdf(viewer):
    return _download(viewer, "pdf")


@bp.get("/releve.csv")
@web.gate("reimbursements")
def statement_csv(viewer):
    return _download(viewer, "csv")


@bp.app_template_filter("month_label")
def month_label(day: date) -> str:
    """ "Mars 2026": a month heading."""
    text = date_text(day, "LLLL yyyy")
    return text[:1].upper() + text[1:]


@bp.app_template_filter("amount")
def amount(cents: int, currency: str) -> str:
    """An amount in another currency than the euro (a foreign statement), as sent."""
    return format_currency(cents / 100, currency)
