"""What the API reads: one Spec per resource type (its table, how a row becomes FHIR, which
search parameters it takes), searched through access.scope() and paged by keyset (the sort
value and the id of a page's last row), so a deep page costs what the first one does.

Every call leaves one trace, worded for the holder: "l'application X a lu vos mesures de poids"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import abort
from sqlalchemy import or_, select

from blueprints.agenda.models import Appointment
from blueprints.apps.models import App, Connection
from blueprints.documents.models import Document
from blueprints.fhir import agenda, eob, resources, search
from blueprints.fhir.outcome import Invalid
from blueprints.history import actions
from blueprints.measures import kinds
from blueprints.measures.models import Measure
from blueprints.profile.models import Allergy, Condition, Treatment, Vaccination
from blueprints.reimbursements.models import Reimbursement
from core import access, audit
from core.access import Viewer
from core.audit import AuditEvent
from core.clock import PARIS
from core.db import db
from core.people import Patient

_CONTEXT_BY_LOINC = {code: key for key, (_label, code) in kinds.MEAL_CONTEXTS.items()}


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Spec:
    rtype: str
    model: type
    to_fhir: Callable
    sort_col: object  # keyset order: (sort_col, id)
    parse_sort: Callable[[str], object]
    updated_col: object
    date_col: object = None  # the `date` parameter, None where the type has none
    date_epoch: bool = False  # date_col holds epoch seconds
    date_day: bool = False  # date_col holds a calendar day (Paris)
    where: Callable | None = None  # a fixed filter (conditions: not family history)
    params: frozenset = frozenset()
    statuses: dict | None = None  # the `status` parameter: FHIR code → the column's values


# Kinds a measure row can have (BMI is derived, never stored).
STORED_KINDS = tuple(k.key for k in kinds.KINDS.values() if k.entered)


def _observation_kinds(q: search.Query) -> list[str]:
    """`code` (LOINC, aliases included) and `category` narrow the kinds searched."""
    wanted = None
    if q.codes:
        wanted = set()
        for system, code in q.codes:
            if system not in (None, resources.LOINC):
                continue
            if code in kinds.BY_LOINC:
                wanted.add(kinds.BY_LOINC[code].key)
            elif code in _CONTEXT_BY_LOINC:
                wanted.add("glucose")
    if q.categories:
        by_category = {k.key for k in kinds.KINDS.values() if resources.category_of(k) in q.categories}
        wanted = by_category if wanted is None else wanted & by_category
    return [k for k in STORED_KINDS if wanted is None or k in wanted]


def _document_categories(stmt, q: search.Query):
    if q.categories:
        stmt = stmt.where(Document.category.in_(q.categories))
    return stmt, None


SPECS: dict[str, Spec] = {
    "Observation": Spec(
        "Observation",
        Measure,
        resources.observation,
        Measure.taken_at,
        int,
        Measure.created_at,
        Measure.taken_at,
        True,
        params=frozenset({"date", "code", "category", "_lastUpdated"}),
    ),
    "DocumentReference": Spec(
        "DocumentReference",
        Document,
        None,  # needs the base URL: see to_resource
        Document.created_at,
        _from_iso,
        Document.updated_at,
        Document.created_at,
        params=frozenset({"date", "category", "_lastUpdated"}),
    ),
    "AllergyIntolerance": Spec(
        "AllergyIntolerance",
        Allergy,
        resources.allergy,
        Allergy.created_at,
        _from_iso,
        Allergy.updated_at,
        Allergy.created_at,
        params=frozenset({"date", "_lastUpdated"}),
    ),
    "MedicationStatement": Spec(
        "MedicationStatement",
        Treatment,
        resources.medication_statement,
        Treatment.created_at,
        _from_iso,
        Treatment.updated_at,
        params=frozenset({"_lastUpdated"}),
    ),
    "Condition": Spec(
        "Condition",
        Condition,
        resources.condition,
        Condition.created_at,
        _from_iso,
        Condition.updated_at,
        where=lambda stmt: stmt.where(Condition.kind.in_(("medical", "surgical"))),
        params=frozenset({"_lastUpdated"}),
    ),
    "Immunization": Spec(
        "Immunization",
        Vaccination,
        resources.immunization,
        Vaccination.created_at,
        _from_iso,
        Vaccination.updated_at,
        params=frozenset({"_lastUpdated"}),
    ),
    "Appointment": Spec(
        "Appointment",
        Appointment,
        agenda.appointment,
        Appointment.starts_at,
        _from_iso,
        Appointment.updated_at,
        Appointment.starts_at,
        params=frozenset({"date", "status", "_lastUpdated"}),
        statuses=agenda.BY_FHIR,
    ),
    "ExplanationOfBenefit": Spec(
        "ExplanationOfBenefit",
        Reimbursement,
        eob.explanation_of_benefit,
        Reimbursement.care_date,
        date.fromisoformat,
        Reimbursement.updated_at,
        Reimbursement.care_date,
        date_day=True,
        params=frozenset({"date", "_lastUpdated"}),
    ),
    "AuditEvent": Spec(
        "AuditEvent",
        AuditEvent,
        None,  # worded in the reader's language: see to_resource
        AuditEvent.id,
        int,
        AuditEvent.at,
        AuditEvent.at,
        params=frozenset({"date", "_lastUpdated"}),
    ),
}
SEARCHABLE = tuple(SPECS) + ("Patient", "Consent")


def to_resource(spec: Spec, row, base: str) -> dict:
    if spec.rtype == "DocumentReference":
        return resources.document_reference(row, base)
    if spec.rtype == "AuditEvent":
        return resources.audit_event(row, actions.sentence(row.action, row.target_type, row.target_label, row.detail))
    return spec.to_fhir(row)


def _sort_value(spec: Spec, row) -> str:
    value = getattr(row, spec.sort_col.key)
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _days(lower: datetime | None, upper: datetime | None) -> tuple[date | None, date | None]:
    """Instant bounds [lower, upper) → the Paris days they cover, [first, after last)."""

    def day(moment: datetime, up: bool) -> date:
        local = moment.astimezone(PARIS)
        whole = local.replace(hour=0, minute=0, second=0, microsecond=0) == local
        return local.date() + timedelta(days=1) if up and not whole else local.date()

    return (day(lower, False) if lower else None), (day(upper, True) if upper else None)


def _between(stmt, col, bounds: tuple, epoch: bool, days: bool = False):
    lower, upper = bounds
    if epoch:
        lower, upper = _epoch(lower), _epoch(upper)
    elif days:
        lower, upper = _days(lower, upper)
    if lower is not None:
        stmt = stmt.where(col >= lower)
    if upper is not None:
        stmt = stmt.where(col < upper)
    return stmt


def search_rows(viewer: Viewer, spec: Spec, q: search.Query) -> tuple[list, str | None, str | None]:
    """One page of rows, the cursor of the next page (None at the end), and the measure kind
    searched when only one was (for the trace)."""
    stmt = access.scope(viewer, select(spec.model))
    if spec.where is not None:
        stmt = spec.where(stmt)
    kind, wanted = None, None
    if spec.rtype == "Observation":
        wanted = _observation_kinds(q)
        kind = wanted[0] if len(wanted) == 1 else None
    elif spec.rtype == "DocumentReference":
        stmt, kind = _document_categories(stmt, q)
    elif q.codes or q.categories:
        raise Invalid(search.unsupported("code" if q.codes else "category"), code="not-supported")
    if q.statuses:
        stmt = stmt.where(spec.model.status.in_([v for code in q.statuses for v in spec.statuses.get(code, ())]))
    if q.date != (None, None):
        stmt = _between(stmt, spec.date_col, q.date, spec.date_epoch, spec.date_day)
    if q.updated != (None, None):
        stmt = _between(stmt, spec.updated_col, q.updated, False)
    col, pk = spec.sort_col, spec.model.id
    if q.cursor is not None:
        try:
            last = spec.parse_sort(q.cursor[0])
            last_id = int(q.cursor[1]) if spec.rtype == "AuditEvent" else q.cursor[1]
        except ValueError:
            raise Invalid(search.bad_cursor(), expression="_cursor") from None
        if spec.rtype == "AuditEvent":  # ordered by id alone
            stmt = stmt.where(pk < last_id if q.newest_first else pk > last_id)
        elif q.newest_first:  # the bare bound first: the index seeks to it
            stmt = stmt.where(col <= last, or_(col < last, pk < last_id))
        else:
            stmt = stmt.where(col >= last, or_(col > last, pk > last_id))
    order = (col.desc(), pk.desc()) if q.newest_first else (col.asc(), pk.asc())
    if spec.rtype == "AuditEvent":
        order = order[:1]
    if wanted is None:
        rows = list(db.session.scalars(stmt.order_by(*order).limit(q.count + 1)))
    else:
        # One indexed range per kind ((patient, kind, taken_at) is the measures' index), merged
        # here: a sort over every measure of the space would grow with it, these do not.
        rows = []
        for key in wanted:
            rows += db.session.scalars(stmt.where(Measure.kind == key).order_by(*order).limit(q.count + 1))
        rows.sort(key=lambda m: (m.taken_at, m.id), reverse=q.newest_first)
        rows = rows[: q.count + 1]
    following = None
    if len(rows) > q.count:
        rows = rows[: q.count]
        following = search.encode_cursor(_sort_value(spec, rows[-1]), rows[-1].id)
    return rows, following, kind


def read_row(viewer: Viewer, spec: Spec, rid: str):
    if spec.rtype == "AuditEvent":
        if not rid.isdigit():
            abort(404)
        rid = int(rid)
    stmt = access.scope(viewer, select(spec.model).where(spec.model.id == rid))
    if spec.where is not None:
        stmt = spec.where(stmt)
    row = db.session.scalar(stmt)
    if row is None:
        abort(404)
    return row


def holder(viewer: Viewer) -> Patient:
    return db.session.get(Patient, viewer.patient_id)


def connection(viewer: Viewer) -> tuple[Connection, App]:
    """The app's own grant: the only Consent it may read."""
    conn = db.session.get(Connection, viewer.grant_id)
    return conn, db.session.get(App, conn.app_id)


def trace(viewer: Viewer, rtype: str, row=None, *, kind: str | None = None, count: int | None = None) -> None:
    """One trace per call: what the app read, never the values."""
    detail = {"resource": rtype, "app": viewer.display_name}
    if kind:
        detail["kind"] = kind
    if count is not None:
        detail["count"] = count
    audit.record(
        viewer, audit.Action.APP_READ, row if row is not None and rtype != "AuditEvent" else None, detail=detail
    )
