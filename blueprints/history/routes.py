"""Access history: read-only. GET routes only — no route changes or deletes a trace."""
from __future__ import annotations

from flask import Response, abort, request, stream_with_context

from blueprints.history import bp, services
from core import access, clock, web


def _viewer():
    viewer = web.current_viewer()
    access.require(viewer, "history", "read")
    return viewer


@bp.get("")
def index():
    """The list, filtered; htmx asks for the results (filters) or for the next page (cursor)."""
    viewer = _viewer()
    filters = services.Filters.from_args(request.args)
    after = services.parse_cursor(request.args.get("apres"))
    result = services.page(viewer, filters, after)
    fragment = "history/_page.html" if after else "history/_results.html"
    return web.render("history/index.html", fragment, filters=filters, result=result, after=after,
                      periods=services.PERIODS, actors=services.ACTORS, kiosk=viewer.kiosk)


@bp.get("/export.csv")
def export():
    """The filtered history as CSV, streamed; the download itself is traced."""
    viewer = _viewer()
    filters = services.Filters.from_args(request.args)
    if viewer.kiosk:
        abort(403)  # a file left on a public kiosk would outlive the session
    answer = web.ask_fresh_authentication()
    if answer is not None:
        return answer
    services.record_export(viewer, filters)
    name = f"carnet-historique-{clock.paris_today().isoformat()}.csv"
    resp = Response(stream_with_context(services.csv_chunks(viewer, filters)),
                    mimetype="text/csv", content_type="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
