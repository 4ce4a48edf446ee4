"""The space as one FHIR R4 Bundle (type collection), written resource by resource.

Every type is found by walking the API's registry (fhir.services.SPECS): a type the API learns
to serve is exported the same day, with nothing to change here. Rows are read in keyset pages
through the API's own search (the gate's scope, the holder's view: hidden documents included),
so memory stays flat whatever the space's size."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from flask_babel import force_locale
from sqlalchemy import func, select

from blueprints.apps.models import App, Connection
from blueprints.fhir import resources, search, services as fhir
from core import access
from core.access import Viewer
from core.db import db
from core.people import Patient

PAGE = 500


def counts(viewer: Viewer) -> dict[str, int]:
    """How many resources of each registered type the space holds (for the progress bar)."""
    found = {}
    for rtype, spec in fhir.SPECS.items():
        stmt = access.scope(viewer, select(func.count()).select_from(spec.model))
        if spec.where is not None:
            stmt = spec.where(stmt)
        found[rtype] = db.session.scalar(stmt) or 0
    return found


def _rows(viewer: Viewer, spec: fhir.Spec) -> Iterator:
    """Every row of one type, oldest first, a page at a time (each page its own transaction)."""
    q = search.Query(count=PAGE, newest_first=False)
    while True:
        rows, following, _kind = fhir.search_rows(viewer, spec, q)
        yield from rows
        db.session.rollback()  # never hold a read transaction across pages
        if following is None:
            return
        q.cursor = search.decode_cursor(following)


def _connections(viewer: Viewer) -> Iterator[dict]:
    stmt = access.scope(viewer, select(Connection, App).join(App, App.id == Connection.app_id))
    for conn, app in db.session.execute(stmt.order_by(Connection.created_at, Connection.id)).all():
        yield resources.consent(conn, app, conn.scope)


def entries(viewer: Viewer, base: str, tick: Callable[[int], None]) -> Iterator[dict]:
    """The Patient, every registered type, then the apps' grants (Consent)."""
    patient = db.session.get(Patient, viewer.patient_id)
    yield {"fullUrl": f"{base}/Patient/{patient.id}", "resource": resources.patient(patient)}
    with force_locale("fr"):  # traces are worded in French, as the rest of the folder
        for rtype, spec in fhir.SPECS.items():
            for row in _rows(viewer, spec):
                res = fhir.to_resource(spec, row, base)
                yield {"fullUrl": f"{base}/{rtype}/{res['id']}", "resource": res}
                tick(1)
    for res in _connections(viewer):
        yield {"fullUrl": f"{base}/Consent/{res['id']}", "resource": res}


def write(out, viewer: Viewer, base: str, timestamp: str, tick: Callable[[int], None]) -> int:
    """Write the Bundle to a binary stream, one entry at a time. Returns the number of entries."""
    head = {"resourceType": "Bundle", "type": "collection", "timestamp": timestamp}
    out.write(json.dumps(head, ensure_ascii=False)[:-1].encode() + b', "entry": [\n')
    n = 0
    for entry in entries(viewer, base, tick):
        out.write((",\n" if n else "").encode() + json.dumps(entry, ensure_ascii=False).encode())
        n += 1
    out.write(b"\n]}\n")
    return n
