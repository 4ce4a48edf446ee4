"""Appointments, both ways: the holder adds their own; a professional with a permanent access
proposes one, the holder accepts it, declines it or asks for another time; the professional
takes that time, proposes yet another, or cancels; and so on, as many rounds as needed. Every
time put forward is kept on the appointment; every change is traced and the other side told
(tell.py). An answer names the version it saw (`sequence`): an answer to a time since
replaced is refused. Reads go through the gate: a professional sees only the appointments
they proposed, in the record their access opens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from flask import abort
from sqlalchemy import bindparam, or_, select

from blueprints.agenda import tell
from blueprints.agenda.models import Appointment
from blueprints.documents import categories
from blueprints.documents.models import Document
from blueprints.pro.services import pro_name
from core import access, audit, clock
from core.access import Viewer
from core.compiled import Fixed
from core.db import db

ACTIVE = ("proposed", "countered", "confirmed")
PAST_SHOWN = 20
DAY_DOCUMENTS = 5


@dataclass
class Row:
    """One appointment as a page shows it (plain data)."""

    id: str
    with_name: str
    starts_at: datetime
    ends_at: datetime
    duration: int
    place: str
    reason: str
    notes: str
    status: str
    proposed_by: str
    from_professional: bool
    counter_starts_at: datetime | None
    reminder_minutes: int | None
    past: bool
    version: int = 0  # what an answer sends back (the appointment's sequence)
    proposals: list = field(default_factory=list)  # every time put forward: {"by", "at", "on"}
    documents: list = field(default_factory=list)  # a past appointment's documents of that day


def _row(a: Appointment, now: datetime) -> Row:
    start = clock.aware(a.starts_at)
    end = start + timedelta(minutes=a.duration_minutes)
    return Row(
        a.id,
        a.with_name,
        start,
        end,
        a.duration_minutes,
        a.place or "",
        a.reason or "",
        a.notes or "",
        a.status,
        a.proposed_by,
        a.professional_id is not None,
        clock.aware(a.counter_starts_at),
        a.reminder_minutes,
        end <= now,
        a.sequence or 0,
        [
            {"by": p["by"], "at": datetime.fromisoformat(p["at"]), "on": datetime.fromisoformat(p["on"])}
            for p in a.proposals or ()
        ],
    )


# --------------------------------------------------------------------------- reading


def _mine(viewer: Viewer):
    """The appointments this viewer may see: the holder's all; a professional's own proposals."""
    stmt = access.scope(viewer, select(Appointment))
    if viewer.kind == "professional":
        stmt = stmt.where(Appointment.professional_id == viewer.professional.id)
    return stmt


def get(viewer: Viewer, appointment_id: str) -> Appointment:
    found = db.session.scalar(_mine(viewer).where(Appointment.id == appointment_id))
    if found is None:
        abort(404)
    return found


def row(viewer: Viewer, a: Appointment) -> Row:
    r = _row(a, clock.utcnow())
    if r.past:
        r.documents = documents_of_day(viewer, clock.paris(r.starts_at).date())
    return r


def upcoming(viewer: Viewer, limit: int | None = None) -> list[Row]:
    """What is coming, soonest first: confirmed appointments and proposals still open."""
    now = clock.utcnow()
    since = now - timedelta(hours=12)
    if viewer.is_holder:  # the home screen's card: one statement built once, plain rows
        found = _upcoming_statement(viewer.kind).all({"patient_id": viewer.patient_id, "since": since})
    else:
        found = db.session.scalars(
            _mine(viewer)
            .where(Appointment.status.in_(ACTIVE), Appointment.starts_at >= since)
            .order_by(Appointment.starts_at, Appointment.id)
        )
    rows = [r for r in (_row(a, now) for a in found) if not r.past]
    return rows[:limit] if limit else rows


@lru_cache(maxsize=4)
def _upcoming_statement(kind: str) -> Fixed:
    """Built and compiled once per kind of holder-side viewer (building it costs more than running it); the
    gate still writes the filter, for a viewer of this kind whose patient is a parameter."""
    gate = access.kind_gate(kind)
    return Fixed(
        access.scope(gate, select(*Appointment.__table__.c))
        .where(Appointment.status.in_(ACTIVE), Appointment.starts_at >= bindparam("since"))
        .order_by(Appointment.starts_at, Appointment.id)
    )


def page(viewer: Viewer) -> dict:
    """The agenda page: proposals to answer, what is coming, and the recent past with the
    documents added on each day."""
    now = clock.utcnow()
    coming = upcoming(viewer)
    past_stmt = (
        _mine(viewer)
        .where(Appointment.status == "confirmed", Appointment.starts_at < now)
        .order_by(Appointment.starts_at.desc(), Appointment.id)
        .limit(PAST_SHOWN)
    )
    past = [r for r in (_row(a, now) for a in db.session.scalars(past_stmt)) if r.past]
    for r in past:
        r.documents = documents_of_day(viewer, clock.paris(r.starts_at).date())
    return {
        "to_answer": [r for r in coming if r.status == "proposed"],
        "coming": [r for r in coming if r.status != "proposed"],
        "past": past,
    }


def documents_of_day(viewer: Viewer, day: date) -> list[dict]:
    """The documents of that day: those whose act is dated that day, or added to the space
    that day (Paris time)."""
    start, end = clock.paris_day_bounds(day)
    stmt = (
        access.scope(viewer, select(Document.id, Document.title, Document.category))
        .where(or_(Document.act_date == day, (Document.created_at >= start) & (Document.created_at < end)))
        .order_by(Document.created_at, Document.id)
        .limit(DAY_DOCUMENTS)
    )
    return [{"id": d.id, "title": d.title, "category": categories.label(d.category)} for d in db.session.execute(stmt)]


def for_professional(viewer: Viewer) -> dict:
    """The professional's appointments with this patient: open ones first, then the rest."""
    now = clock.utcnow()
    rows = [_row(a, now) for a in db.session.scalars(_mine(viewer).order_by(Appointment.starts_at.desc()))]
    return {
        "open": sorted((r for r in rows if r.status in ACTIVE and not r.past), key=lambda r: r.starts_at),
        "other": [r for r in rows if r.status not in ACTIVE or r.past][:PAST_SHOWN],
    }


# --------------------------------------------------------------------------- the holder's changes


def _moved(a: Appointment, starts_at: datetime) -> None:
    """A new time: the reminder is due again, calendars see a new version."""
    if clock.aware(a.starts_at) != starts_at:
        a.starts_at = starts_at
        a.reminded_at = None
    a.sequence = (a.sequence or 0) + 1


def add(viewer: Viewer, *, with_name: str, starts_at: datetime, duration: int, place, reason, notes, reminder):
    a = Appointment(
        patient_id=viewer.patient_id,
        with_name=with_name.strip(),
        starts_at=starts_at,
        duration_minutes=duration,
        place=(place or "").strip() or None,
        reason=(reason or "").strip() or None,
        notes=(notes or "").strip() or None,
        reminder_minutes=reminder,
        status="confirmed",
        proposed_by="holder",
    )
    db.session.add(a)
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_ADDED, a, detail={"at": starts_at.isoformat()})
    return a


def update(viewer: Viewer, a: Appointment, *, with_name, starts_at, duration, place, reason, notes, reminder) -> None:
    """The holder's own appointments only; a professional's are answered, not edited."""
    if a.professional_id is not None:
        abort(404)
    a.with_name = with_name.strip()
    _moved(a, starts_at)
    a.duration_minutes = duration
    a.place = (place or "").strip() or None
    a.reason = (reason or "").strip() or None
    a.notes = (notes or "").strip() or None
    if a.reminder_minutes != reminder:
        a.reminder_minutes, a.reminded_at = reminder, None
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_UPDATED, a, detail={"at": starts_at.isoformat()})


def delete(viewer: Viewer, a: Appointment) -> None:
    """The holder removes one of their own; a professional's is cancelled instead (they are told)."""
    if a.professional_id is not None:
        abort(404)
    audit.record(viewer, audit.Action.APPOINTMENT_DELETED, a, detail={"at": clock.aware(a.starts_at).isoformat()})
    db.session.delete(a)
    db.session.flush()


def set_reminder(viewer: Viewer, a: Appointment, minutes: int | None) -> None:
    if a.reminder_minutes != minutes:
        a.reminder_minutes, a.reminded_at = minutes, None
        db.session.flush()


def current(a: Appointment, version) -> bool:
    """Whether an answer was made on what the appointment is now (not on a time since replaced)."""
    return str(a.sequence or 0) == str(version)


def _answerable(viewer: Viewer, a: Appointment, status: str, version) -> None:
    """Refuse an answer from the wrong side, in the wrong state, or on an older version."""
    if (status == "proposed") != viewer.is_holder:
        abort(403)
    if a.status != status or not current(a, version):
        abort(409)


def begun_at(starts_at: datetime) -> bool:
    return clock.aware(starts_at) <= clock.utcnow()


def _coming(starts_at: datetime) -> None:
    """A time put forward or taken must be to come: 422 otherwise (the forms say it first)."""
    if begun_at(starts_at):
        abort(422)


def _put_forward(a: Appointment, by: str, starts_at: datetime) -> None:
    """One more time in the appointment's history of proposals (a new list: JSON is replaced)."""
    entry = {"by": by, "at": clock.aware(starts_at).isoformat(), "on": clock.utcnow().isoformat()}
    a.proposals = [*(a.proposals or []), entry]
    a.sequence = (a.sequence or 0) + 1


def accept(viewer: Viewer, a: Appointment, reminder: int | None, version) -> None:
    """The holder takes the time the professional proposed."""
    _answerable(viewer, a, "proposed", version)
    if a.begun():
        abort(422)
    a.status = "confirmed"
    a.reminder_minutes, a.reminded_at = reminder, None
    a.sequence = (a.sequence or 0) + 1
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_ACCEPTED, a)
    tell.professional(a, "accepted")


def decline(viewer: Viewer, a: Appointment, version) -> None:
    _answerable(viewer, a, "proposed", version)
    a.status = "declined"
    a.sequence = (a.sequence or 0) + 1
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_DECLINED, a)
    tell.professional(a, "declined")


def counter(viewer: Viewer, a: Appointment, starts_at: datetime, version) -> None:
    """The holder asks for another time; the professional takes it or proposes yet another."""
    _answerable(viewer, a, "proposed", version)
    _coming(starts_at)
    a.status, a.counter_starts_at = "countered", starts_at
    _put_forward(a, "holder", starts_at)
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_COUNTERED, a, detail={"asked": starts_at.isoformat()})
    tell.professional(a, "countered")


def cancel(viewer: Viewer, a: Appointment) -> None:
    """Either side calls off an appointment with a professional; the other side is told."""
    if a.status not in ACTIVE:
        abort(409)
    a.status = "cancelled"
    a.sequence = (a.sequence or 0) + 1
    db.session.flush()
    by = "holder" if viewer.is_holder else viewer.kind  # a guardian cancels on the holder's side
    audit.record(viewer, audit.Action.APPOINTMENT_CANCELLED, a, detail={"by": by})
    if viewer.is_holder:
        tell.professional(a, "cancelled")
    else:
        tell.holder(viewer, a, "cancelled")


# --------------------------------------------------------------------------- the professional's side


def propose(viewer: Viewer, *, starts_at: datetime, duration: int, place, reason, notes) -> Appointment:
    access.require(viewer, access.RECORD_AGENDA, "write")
    pro = viewer.professional
    a = Appointment(
        patient_id=viewer.patient_id,
        professional_id=pro.id,
        with_name=pro_name(pro.profession, pro.display_name),
        starts_at=starts_at,
        duration_minutes=duration,
        place=(place or "").strip() or None,
        reason=(reason or "").strip() or None,
        notes=(notes or "").strip() or None,
        reminder_minutes=None,
        status="proposed",
        proposed_by="professional",
        sequence=0,
    )
    _coming(starts_at)
    _put_forward(a, "professional", starts_at)
    db.session.add(a)
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_PROPOSED, a, detail={"at": starts_at.isoformat()})
    tell.holder(viewer, a, "proposed")
    return a


def confirm_counter(viewer: Viewer, a: Appointment, version) -> None:
    """The professional takes the time the holder asked for."""
    access.require(viewer, access.RECORD_AGENDA, "write")
    _answerable(viewer, a, "countered", version)
    if a.counter_starts_at is None:
        abort(409)
    _coming(clock.aware(a.counter_starts_at))
    _moved(a, clock.aware(a.counter_starts_at))
    a.status, a.counter_starts_at = "confirmed", None
    if a.reminder_minutes is None:
        a.reminder_minutes = 1440  # the holder chooses at acceptance; here the usual day before
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_CONFIRMED, a, detail={"at": clock.aware(a.starts_at).isoformat()})
    tell.holder(viewer, a, "confirmed")


def repropose(viewer: Viewer, a: Appointment, starts_at: datetime, version) -> None:
    """The professional cannot take the time the holder asked for and proposes another: the
    holder answers again (accept, decline, or ask for yet another time)."""
    access.require(viewer, access.RECORD_AGENDA, "write")
    _answerable(viewer, a, "countered", version)
    _coming(starts_at)
    if clock.aware(a.starts_at) != starts_at:
        a.starts_at, a.reminded_at = starts_at, None
    a.status, a.counter_starts_at = "proposed", None
    _put_forward(a, "professional", starts_at)
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_REPROPOSED, a, detail={"at": starts_at.isoformat()})
    tell.holder(viewer, a, "reproposed")
