"""Health measures: overview, one kind with its chart, entry, correction, removal, export."""

from __future__ import annotations

from flask import Response, abort, flash, request, stream_with_context, url_for

from blueprints.measures import bp, charts, export, kinds, services
from blueprints.measures.forms import MeasureForm
from core import web
from core.i18n import gettext as _


def _range() -> str:
    wanted = request.args.get("periode")
    return wanted if wanted in charts.RANGES else charts.DEFAULT_RANGE


@bp.get("")
@web.gate("measures")
def index(viewer):
    return web.render("measures/index.html", o=services.overview(viewer), kiosk=viewer.kiosk)


@bp.get("/ajouter")
@web.gate("measures", "write")
def choose(viewer):
    return web.render("measures/choose.html", choices=[k for k in kinds.KINDS.values() if k.entered])


@bp.get("/<slug>")
@web.gate("measures")
def kind(viewer, slug: str):
    kind = services.kind_or_404(slug)
    period = _range()
    cursor = services.parse_cursor(request.args.get("avant"))
    if cursor and web.wants_fragment():
        return web.render(
            "measures/kind.html", "measures/_rows.html", kind=kind, values=services.recent(viewer, kind, cursor)
        )
    chart = charts.chart(viewer, kind, period, svg=False)  # the <img> asks for the drawing
    page = {
        "kind": kind,
        "chart": chart,
        "period": period,
        "values": services.recent(viewer, kind, cursor) if kind.entered else None,
        "bmi": services.bmi_from(services.latest_per_kind(viewer)) if kind.key == "bmi" else None,
    }
    if web.wants_fragment("chart-block"):
        return web.render("measures/kind.html", "measures/_chart.html", **page)
    return web.render("measures/kind.html", **page)


@bp.get("/<slug>/graphique.svg")
@web.gate("measures")
def chart_svg(viewer, slug: str):
    kind = services.kind_or_404(slug)
    size = request.args.get("taille") if request.args.get("taille") in charts.SIZES else "wide"
    svg = charts.svg(viewer, kind, _range(), size=size)
    resp = Response(svg, mimetype="image/svg+xml")
    resp.headers["Content-Security-Policy"] = charts.CSP
    return resp


def _form_page(kind, form, m=None, status=200):
    return web.render(
        "measures/form.html",
        "measures/_form.html",
        status=status,
        kind=kind,
        form=form,
        m=m,
        back=url_for("measures.kind", slug=kind.slug),
    )


def _save(viewer, kind, form, m=None):
    """Check, then save; the form comes back with the message tied to the right field."""
    entry = form.entry()
    try:
        return services.record(viewer, kind, entry) if m is None else services.correct(viewer, kind, m, entry)
    except kinds.Implausible as error:
        form.implausible(error)
    except services.Duplicate:
        form.value.errors = [
            _("A total is already recorded for this day: correct it instead.")
            if kind.daily
            else _("This measure is already recorded at this date and time.")
        ]
    return None


@bp.route("/<slug>/ajouter", methods=["GET", "POST"])
@web.gate("measures", "write")
def add(viewer, slug: str):
    kind = services.kind_or_404(slug, entered=True)
    form = MeasureForm(kind)
    if request.method == "GET":
        form.prefill()
    if form.validate_on_submit() and _save(viewer, kind, form):
        flash(_("Measure saved."), "success")
        return web.hx_redirect(url_for("measures.kind", slug=kind.slug))
    return _form_page(kind, form, status=422 if form.is_submitted() else 200)


@bp.route("/<slug>/<measure_id>/modifier", methods=["GET", "POST"])
@web.gate("measures", "write")
def edit(viewer, slug: str, measure_id: str):
    kind = services.kind_or_404(slug, entered=True)
    m = services.measure(viewer, kind, measure_id)
    form = MeasureForm(kind)
    if request.method == "GET":
        form.prefill(m)
    if form.validate_on_submit() and _save(viewer, kind, form, m):
        flash(_("Measure corrected."), "success")
        return web.hx_redirect(url_for("measures.kind", slug=kind.slug))
    return _form_page(kind, form, m, status=422 if form.is_submitted() else 200)


@bp.post("/<slug>/<measure_id>/supprimer")
@web.gate("measures", "delete")
def delete(viewer, slug: str, measure_id: str):
    kind = services.kind_or_404(slug, entered=True)
    services.remove(viewer, kind, services.measure(viewer, kind, measure_id))
    flash(_("Measure deleted."), "success")
    return web.hx_redirect(url_for("measures.kind", slug=kind.slug))


@bp.get("/export.csv")
@web.gate("measures", "export")
def export_csv(viewer):
    if viewer.kiosk:
        abort(403)  # a file left on a public kiosk would outlive the session
    answer = web.ask_fresh_authentication(url_for("measures.index"))
    if answer is not None:
        return answer
    export.traced(viewer)
    resp = Response(
        stream_with_context(export.rows(viewer)), mimetype="text/csv", content_type="text/csv; charset=utf-8"
    )
    resp.headers["Content-Disposition"] = f'attachment; filename="{export.filename()}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
