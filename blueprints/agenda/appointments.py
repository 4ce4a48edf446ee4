"""Appointments, both ways: the holder adds their own; a professional with a permanent access
proposes one, the holder accepts it, declines it or asks for another time, which the
professional accepts. Every change is traced; the other side is told (the holder in Carnet and
by mail, the professional by mail). Reads go through the gate: a professional sees only the
appointments they proposed, in the record their access opens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from flask import abort
from flask_babel import force_locale, format_datetime as babel_datetime, gettext as _
from sqlalchemy import bindparam, or_, select

from blueprints.agenda.models import Appointment
from blueprints.documents import categories
from blueprints.documents.models import Document
from blueprints.pro.services import pro_name
from core import access, audit, clock, notify
from core.access import Viewer
from core.db import db
from core.formatting import clock_time
from core.people import Account, profession_label

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
        found = db.session.connection().execute(
            _upcoming_statement(viewer.kind), {"patient_id": viewer.patient_id, "since": since}
        )
    else:
        found = db.session.scalars(
            _mine(viewer)
            .where(Appointment.status.in_(ACTIVE), Appointment.starts_at >= since)
            .order_by(Appointment.starts_at, Appointment.id)
        )
    rows = [r for r in (_row(a, now) for a in found) if not r.past]
    return rows[:limit] if limit else rows


@lru_cache(maxsize=4)
def _upcoming_statement(kind: str):
    """Built once per kind of holder-side viewer (building it costs more than running it); the
    gate still writes the filter, for a viewer of this kind whose patient is a parameter."""
    gate = Viewer(kind, patient_id=bindparam("patient_id"))
    return (
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


def accept(viewer: Viewer, a: Appointment, reminder: int | None) -> None:
    if a.status != "proposed":
        abort(409)
    a.status = "confirmed"
    a.reminder_minutes, a.reminded_at = reminder, None
    a.sequence = (a.sequence or 0) + 1
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_ACCEPTED, a)
    _tell_professional(a, "accepted")


def decline(viewer: Viewer, a: Appointment) -> None:
    if a.status != "proposed":
        abort(409)
    a.status = "declined"
    a.sequence = (a.sequence or 0) + 1
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_DECLINED, a)
    _tell_professional(a, "declined")


def counter(viewer: Viewer, a: Appointment, starts_at: datetime) -> None:
    """The holder asks for another time; the professional's answer confirms it."""
    if a.status != "proposed":
        abort(409)
    a.status, a.counter_starts_at = "countered", starts_at
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_COUNTERED, a, detail={"asked": starts_at.isoformat()})
    _tell_professional(a, "countered")


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
        _tell_professional(a, "cancelled")
    else:
        _tell_holder(viewer, a, "cancelled")


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
    )
    db.session.add(a)
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_PROPOSED, a, detail={"at": starts_at.isoformat()})
    _tell_holder(viewer, a, "proposed")
    return a


def confirm_counter(viewer: Viewer, a: Appointment) -> None:
    """The professional takes the time the holder asked for."""
    access.require(viewer, access.RECORD_AGENDA, "write")
    if a.status != "countered" or a.counter_starts_at is None:
        abort(409)
    _moved(a, clock.aware(a.counter_starts_at))
    a.status, a.counter_starts_at = "confirmed", None
    if a.reminder_minutes is None:
        a.reminder_minutes = 1440  # the holder chooses at acceptance; here the usual day before
    db.session.flush()
    audit.record(viewer, audit.Action.APPOINTMENT_CONFIRMED, a, detail={"at": clock.aware(a.starts_at).isoformat()})
    _tell_holder(viewer, a, "confirmed")


# --------------------------------------------------------------------------- telling the other side


def when_text(at: datetime) -> str:
    """ "12 mars 2027 à 9 h 30" in the reader's language, Paris time (the app's time zone)."""
    return _("%(date)s at %(time)s", date=babel_datetime(clock.aware(at), "d MMMM y"), time=clock_time(clock.aware(at)))


def _tell_holder(viewer: Viewer, a: Appointment, event: str) -> None:
    """In Carnet (a card among the notifications) and by mail."""
    pro = viewer.professional
    db.session.add(
        notify.Notification(
            patient_id=a.patient_id,
            kind="appointment",
            grant_id=viewer.grant_id,
            actor_name=viewer.display_name or None,
            actor_rpps=getattr(pro, "rpps", None),
            actor_profession=getattr(pro, "profession", None),
            detail={"appointment": a.id, "event": event, "at": clock.aware(a.starts_at).isoformat()},
            last_at=clock.utcnow(),
        )
    )
    db.session.flush()
    account = db.session.scalar(select(Account).where(Account.patient_id == a.patient_id))
    if account is None:
        return
    with force_locale(account.locale or "fr"):
        who = a.with_name
        if getattr(pro, "profession", None):
            who = _("%(name)s (%(profession)s)", name=who, profession=profession_label(pro.profession))
        when = when_text(a.starts_at)
        subject, what = {
            "proposed": (
                _("Carnet: an appointment is proposed to you"),
                _("%(who)s proposes an appointment on %(when)s (Paris time).", who=who, when=when),
            ),
            "confirmed": (
                _("Carnet: your appointment is confirmed"),
                _("%(who)s confirmed your appointment on %(when)s (Paris time).", who=who, when=when),
            ),
            "cancelled": (
                _("Carnet: an appointment was cancelled"),
                _("%(who)s cancelled the appointment of %(when)s (Paris time).", who=who, when=when),
            ),
        }[event]
        advice = _("Log in to Carnet and open your Agenda to answer or see the details.")
        body = "\n\n".join((what, advice))
    notify.send_mail(account.email, subject, body)


def _tell_professional(a: Appointment, event: str) -> None:
    """The professional hears of the holder's answer by mail (their record page shows it too)."""
    if a.professional_id is None:
        return
    account = db.session.scalar(select(Account).where(Account.professional_id == a.professional_id))
    if account is None:
        return
    from_patient = db.session.scalar(select(Account).where(Account.patient_id == a.patient_id))
    name = from_patient.display_name if from_patient is not None else ""
    with force_locale(account.locale or "fr"):
        when = when_text(a.starts_at)
        subject, what = {
            "accepted": (
                _("Carnet: appointment accepted"),
                _("%(name)s accepted the appointment of %(when)s (Paris time).", name=name, when=when),
            ),
            "declined": (
                _("Carnet: appointment declined"),
                _("%(name)s declined the appointment of %(when)s (Paris time).", name=name, when=when),
            ),
            "countered": (
                _("Carnet: another time is asked for"),
                _(
                    "%(name)s cannot come on %(when)s and asks for %(asked)s (Paris time).",
                    name=name,
                    when=when,
                    asked=when_text(a.counter_starts_at) if a.counter_starts_at else "—",
                ),
            ),
            "cancelled": (
                _("Carnet: appointment cancelled"),
                _("%(name)s cancelled the appointment of %(when)s (Paris time).", name=name, when=when),
            ),
        }[event]
        body = "\n\n".join((what, _("Open the patient's record in Carnet to answer.")))
    notify.send_mail(account.email, subject, body)
