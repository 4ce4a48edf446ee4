"""The FHIR R4 API: read and search for each resource type, each route gated on its own
section ("fhir.Observation" with action read/search) so an app reaches only what it was granted."""

from __future__ import annotations

import base64

from flask import Response, request, url_for
from werkzeug.datastructures import MultiDict

from blueprints.documents import files, services as documents
from blueprints.fhir import bp, capability, resources, search, services, writes
from blueprints.fhir.outcome import MESSAGES, Invalid, error, fhir_response
from core import audit, clock, web
from core.access import Viewer
from core.db import db

PUBLISHED = "2026-12-01"
MESSAGES_413, MESSAGES_415 = MESSAGES[413][1], MESSAGES[415][1]


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid):
    db.session.rollback()
    return error(exc.status, exc.message, exc.code, exc.expression)


def _base() -> str:
    return url_for("fhir.metadata", _external=True).rsplit("/", 1)[0]


def _page_url(rtype: str, cursor: str | None = None) -> str:
    args = MultiDict([(k, v) for k, v in request.args.items(multi=True) if k != "_cursor"])
    if cursor:
        args["_cursor"] = cursor
    return url_for(f"fhir.search_{rtype}", _external=True, **args.to_dict(flat=False))


def _bundle(rtype: str, entries: list[dict], following: str | None) -> dict:
    links = [{"relation": "self", "url": _page_url(rtype, request.args.get("_cursor"))}]
    if request.args.get("_cursor"):
        links.append({"relation": "first", "url": _page_url(rtype)})
    if following:
        links.append({"relation": "next", "url": _page_url(rtype, following)})
    base = _base()
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": resources.instant(clock.utcnow()),
        "link": links,
        "entry": [
            {"fullUrl": f"{base}/{e['resourceType']}/{e['id']}", "resource": e, "search": {"mode": "match"}}
            for e in entries
        ],
    }


def _answer(resource: dict, status: int = 200) -> Response:
    db.session.commit()
    return fhir_response(resource, status)


@bp.get("/metadata")
def metadata():
    """Public, as FHIR wants: what the server supports and where to get a token."""
    return fhir_response(capability.statement(PUBLISHED))


def _searcher(rtype: str):
    spec = services.SPECS[rtype]

    def view(viewer: Viewer):
        q = search.parse(request.args, set(spec.params))
        rows, following, kind = services.search_rows(viewer, spec, q)
        if kind is None and rtype == "Observation" and len({r.kind for r in rows}) == 1:
            kind = rows[0].kind  # what the app read was one kind of measure: say which
        services.trace(viewer, rtype, kind=kind, count=len(rows))
        return _answer(_bundle(rtype, [services.to_resource(spec, r, _base()) for r in rows], following))

    view.__name__ = f"search_{rtype}"
    return view


def _reader(rtype: str):
    spec = services.SPECS[rtype]

    def view(viewer: Viewer, rid: str):
        row = services.read_row(viewer, spec, rid)
        services.trace(viewer, rtype, row, kind=getattr(row, "kind", None) if rtype == "Observation" else None)
        return _answer(services.to_resource(spec, row, _base()))

    view.__name__ = f"read_{rtype}"
    return view


for _rtype in services.SPECS:
    bp.add_url_rule(
        f"/{_rtype}", f"search_{_rtype}", web.gate(f"fhir.{_rtype}", "search")(_searcher(_rtype)), methods=["GET"]
    )
    bp.add_url_rule(
        f"/{_rtype}/<rid>", f"read_{_rtype}", web.gate(f"fhir.{_rtype}", "read")(_reader(_rtype)), methods=["GET"]
    )


def _patient_only(viewer: Viewer) -> dict:
    q = search.parse(request.args, {"_id"})
    if request.args.get("_id") not in (None, viewer.patient_id):
        return _bundle("Patient", [], None)
    del q
    services.trace(viewer, "Patient")
    return _bundle("Patient", [resources.patient(services.holder(viewer))], None)


@bp.get("/Patient")
@web.gate("fhir.Patient", "search")
def search_Patient(viewer: Viewer):  # noqa: N802  (FHIR's resource names)
    return _answer(_patient_only(viewer))


@bp.get("/Patient/<rid>")
@web.gate("fhir.Patient", "read")
def read_Patient(viewer: Viewer, rid: str):  # noqa: N802
    if rid != viewer.patient_id:
        return error(404)
    services.trace(viewer, "Patient")
    return _answer(resources.patient(services.holder(viewer)))


def _consent(viewer: Viewer) -> dict:
    conn, app = services.connection(viewer)
    return resources.consent(conn, app, conn.scope)


@bp.get("/Consent")
@web.gate("fhir.Consent", "search")
def search_Consent(viewer: Viewer):  # noqa: N802
    search.parse(request.args, set())
    services.trace(viewer, "Consent")
    return _answer(_bundle("Consent", [_consent(viewer)], None))


@bp.get("/Consent/<rid>")
@web.gate("fhir.Consent", "read")
def read_Consent(viewer: Viewer, rid: str):  # noqa: N802
    if rid != viewer.grant_id:
        return error(404)
    services.trace(viewer, "Consent")
    return _answer(_consent(viewer))


@bp.get("/Binary/<rid>")
@web.gate(("fhir.Binary", "fhir.DocumentReference"), "read")
def read_Binary(viewer: Viewer, rid: str):  # noqa: N802
    """A document's bytes, always as an attachment (never rendered by a browser); as a Binary
    resource (base64) when FHIR JSON is asked for."""
    doc = documents.get(viewer, rid)
    content = documents.open_content(
        viewer, doc, "download", audit.Action.APP_READ, detail={"resource": "Binary", "app": viewer.display_name}
    )
    if request.accept_mimetypes.best in ("application/fhir+json", "application/json"):
        with content:
            data = content.read()
        binary = {
            "resourceType": "Binary",
            "id": doc.id,
            "contentType": doc.mime,
            "data": base64.b64encode(data).decode(),
        }
        return _answer(binary)
    db.session.commit()
    resp = files.serve(content, doc, inline=False)
    resp.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return resp


def _body(rtype: str, limit: int) -> dict:
    if request.mimetype not in ("application/fhir+json", "application/json"):
        raise Invalid(MESSAGES_415, status=415, code="not-supported")
    if request.content_length is not None and request.content_length > limit:
        raise Invalid(MESSAGES_413, status=413, code="too-costly")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise Invalid(MESSAGES_413, status=413, code="too-costly")
    return writes.parse_json(raw, rtype)


@bp.post("/Observation")
@web.gate("fhir.Observation", "create")
def create_Observation(viewer: Viewer):  # noqa: N802
    """201 with the new Observation; 200 with the one already there when the same measure is
    sent again (a device that retries adds nothing)."""
    m, created = writes.create_observation(viewer, _body("Observation", writes.MAX_JSON))
    db.session.commit()
    resource = resources.observation(m)
    location = f"{_base()}/Observation/{m.id}"
    return fhir_response(resource, 201 if created else 200, {"Location": location})


@bp.post("/DocumentReference")
@web.gate("fhir.DocumentReference", "create")
def create_DocumentReference(viewer: Viewer):  # noqa: N802
    # base64 makes 4 bytes of 3; the upload's own limit is checked again on the decoded bytes
    limit = documents.max_bytes() * 4 // 3 + writes.MAX_JSON
    doc = writes.create_document(viewer, _body("DocumentReference", limit))
    db.session.commit()
    return fhir_response(
        resources.document_reference(doc, _base()), 201, {"Location": f"{_base()}/DocumentReference/{doc.id}"}
    )
