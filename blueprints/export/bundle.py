"""The space as one FHIR R4 Bundle (type collection), written resource by resource.

Every type is found by walking the API's registry (fhir.services.SPECS): a type the API learns
to serve is exported the same day, with nothing to change here. Each type's rows are read
through the gate's scope (the holder's view: hidden documents included) in the API's order, as
one query streamed in batches on a reading connection of its own (`stream`): memory stays flat
whatever the space's size, each row is read once, and the job's own small writes (progress)
go on beside it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blueprints.apps.models import App, Connection
from blueprints.fhir import resources, services as fhir
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


def stream(stmt) -> Iterator:
    """The statement's rows (ORM objects, or tuples of them), fetched PAGE at a time from a
    connection of their own: one sort in the database, never the whole result in memory."""
    with db.engine.connect() as conn, Session(bind=conn) as reading:
        result = reading.execute(stmt.execution_options(yield_per=PAGE))
        for row in result:
            yield row[0] if len(row) == 1 else tuple(row)


def _rows(viewer: Viewer, spec: fhir.Spec) -> Iterator:
    """Every row of one type, in the API's order (oldest first)."""
    stmt = access.scope(viewer, select(spec.model))
    if spec.where is not None:
        stmt = spec.where(stmt)
    return stream(stmt.order_by(spec.sort_col, spec.model.id))


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
