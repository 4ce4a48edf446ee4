"""iCalendar (RFC 5545) for calendar apps: one appointment as a .ics file, and the holder's
private feed. Made with the `icalendar` package. The feed carries appointments only (never
the prevention calendar, diagnoses or documents) and, unless the holder opts in, neither
reasons nor notes: a calendar app syncs to servers Carnet does not control.

The feed's token (192 random bits) is shown once; only its keyed hash is stored, so it can
be revoked (a new one replaces it) but never read back."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from icalendar import Alarm, Calendar, Event, vText
from sqlalchemy import select

from blueprints.agenda.appointments import ACTIVE
from blueprints.agenda.models import AgendaSettings, Appointment
from core import access, audit, clock
from core.access import Viewer
from core.db import db, write_intent
from core.i18n import gettext as _

TOKEN_BYTES = 24
FEED_PAST_DAYS = 365
READ_NOTED_EVERY = timedelta(
    minutes=30
)  # calendar apps poll: the last read is noted at most this often  # appointments older than this leave the feed
PRODID = "-//Carnet//Agenda//FR"
ICS_STATUS = {"confirmed": "CONFIRMED", "proposed": "TENTATIVE", "countered": "TENTATIVE", "cancelled": "CANCELLED"}


def _uid(a: Appointment) -> str:
    return f"{a.id}@{current_app.config.get('ICAL_UID_DOMAIN') or 'carnet'}"


def _event(a: Appointment, *, details: bool) -> Event:
    ev = Event()
    start = clock.aware(a.starts_at)
    ev.add("uid", _uid(a))
    ev.add("dtstamp", clock.aware(a.updated_at or a.created_at))
    ev.add("dtstart", start)
    ev.add("dtend", start + timedelta(minutes=a.duration_minutes))
    ev.add("summary", _("Appointment: %(name)s", name=a.with_name))
    ev.add("sequence", a.sequence or 0)
    ev.add("status", ICS_STATUS.get(a.status, "CONFIRMED"))
    if a.place:
        ev.add("location", vText(a.place))
    if details:
        lines = [x for x in (a.reason and _("Reason: %(reason)s", reason=a.reason), a.notes) if x]
        if lines:
            ev.add("description", "\n".join(lines))
    if a.reminder_minutes and a.status == "confirmed":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("Appointment: %(name)s", name=a.with_name))
        alarm.add("trigger", timedelta(minutes=-a.reminder_minutes))
        ev.add_component(alarm)
    return ev


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Paris")
    return cal


def one(a: Appointment) -> bytes:
    """The holder downloads one appointment: it is theirs, reason and notes included."""
    cal = _calendar(_("Carnet appointment"))
    cal.add_component(_event(a, details=True))
    return cal.to_ical()


def feed(viewer: Viewer) -> bytes:
    """The feed: active and cancelled appointments (a calendar app removes a cancelled one),
    from a year back on; declined proposals never appear."""
    own = db.session.get(AgendaSettings, viewer.patient_id)
    since = clock.utcnow() - timedelta(days=FEED_PAST_DAYS)
    stmt = (
        access.scope(viewer, select(Appointment))
        .where(Appointment.status.in_((*ACTIVE, "cancelled")), Appointment.starts_at >= since)
        .order_by(Appointment.starts_at)
    )
    cal = _calendar(_("Carnet appointments"))
    for a in db.session.scalars(stmt):
        cal.add_component(_event(a, details=bool(own and own.feed_details)))
    now = clock.utcnow()
    if own.feed_read_at is None or now - clock.aware(own.feed_read_at) > READ_NOTED_EVERY:
        write_intent()  # the holder sees when their feed was last read (a leaked link shows)
        own.feed_read_at = now
    return cal.to_ical()


# --------------------------------------------------------------------------- the feed's token


def _hash(token: str) -> str:
    """Keyed (the code pepper) and exact: the token is a URL, not something typed."""
    pepper = current_app.config["CODE_PEPPER"].encode()
    return hmac.new(pepper, f"agenda-feed:{token}".encode(), hashlib.sha256).hexdigest()


def feed_patient(token: str) -> str | None:
    """The holder whose feed this token opens, or None (web.gate answers 404)."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(AgendaSettings.patient_id).where(AgendaSettings.feed_hash == _hash(token)))


def new_feed(viewer: Viewer, details: bool) -> str:
    """A new token (the previous one stops working at once); returned once, to be shown."""
    own = db.session.get(AgendaSettings, viewer.patient_id)
    if own is None:
        own = AgendaSettings(patient_id=viewer.patient_id, prevention_off=False)
        db.session.add(own)
    replaced = own.feed_hash is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    own.feed_hash, own.feed_details = _hash(token), details
    own.feed_created_at, own.feed_read_at = clock.utcnow(), None
    db.session.flush()
    audit.record(viewer, audit.Action.CALENDAR_FEED_CREATED, detail={"details": details, "replaced": replaced})
    return token


def set_feed_details(viewer: Viewer, details: bool) -> None:
    own = db.session.get(AgendaSettings, viewer.patient_id)
    if own is None or own.feed_hash is None or own.feed_details == details:
        return
    own.feed_details = details
    db.session.flush()
    audit.record(viewer, audit.Action.CALENDAR_FEED_UPDATED, detail={"details": details})


def revoke_feed(viewer: Viewer) -> None:
    own = db.session.get(AgendaSettings, viewer.patient_id)
    if own is None or own.feed_hash is None:
        return
    own.feed_hash, own.feed_created_at, own.feed_read_at = None, None, None
    db.session.flush()
    audit.record(viewer, audit.Action.CALENDAR_FEED_REVOKED)


def feed_state(viewer: Viewer) -> dict:
    own = db.session.get(AgendaSettings, viewer.patient_id)
    active = own is not None and own.feed_hash is not None
    return {
        "active": active,
        "details": bool(own and own.feed_details),
        "created_at": own.feed_created_at if active else None,
        "read_at": own.feed_read_at if active else None,
    }
