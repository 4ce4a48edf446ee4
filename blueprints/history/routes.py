"""Access history: read-only. GET routes only — no route changes or deletes a trace."""

from __future__ import annotations

from flask import Response, abort, request, stream_with_context

from blueprints.history import bp, services
from core import clock, web


@bp.get("")
@web.gate("history")
def index(viewer):
    """The list, filtered; htmx asks for the results (filters) or for the next page (cursor)."""
    filters = services.Filters.from_args(request.args)
    after = services.parse_cursor(request.args.get("apres"))
    result = services.page(viewer, filters, after)
    fragment = "history/_page.html" if after else "history/_results.html"
    return web.render(
        "history/index.html",
        fragment,
        filters=filters,
        result=result,
        after=after,
        periods=services.PERIODS,
        actors=services.ACTORS,
        kiosk=viewer.kiosk,
    )


@bp.get("/export.csv")
@web.gate("history")
def export(viewer):
    """The filtered history as CSV, streamed; the download itself is traced."""
    filters = services.Filters.from_args(request.args)
    if viewer.kiosk:
        abort(403)  # a file left on a public kiosk would outlive the session
    answer = web.ask_fresh_authentication()
    if answer is not None:
        return answer
    services.record_export(viewer, filters)
    name = f"carnet-historique-{clock.paris_today().isoformat()}.csv"
    resp = Response(
        stream_with_context(services.csv_chunks(viewer, filters)),
        mimetype="text/csv",
        content_type="text/csv; charset=utf-8",
    )
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
