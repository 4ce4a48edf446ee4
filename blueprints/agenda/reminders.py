"""Appointment reminders, sent by an operator command run every few minutes
(`flask --app app agenda reminders`, from cron or a systemd timer).

Idempotent: an appointment is claimed by one conditional UPDATE (reminded_at still empty)
before anything is sent, and each claim commits with its notification, so two runs at once,
or a run after a crash, never remind twice. A reminder is due from `reminder_minutes` before
the start until the start; one whose time passed without a run is still sent while the
appointment has not begun."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import select, update

from blueprints.agenda.models import Appointment
from blueprints.agenda.tell import by_mail, holder_account, when_text
from core import clock, notify
from core.db import db
from core.i18n import gettext as _

LOOKAHEAD = timedelta(days=8)  # the longest reminder offered is a week before


def due(now: datetime) -> list[str]:
    """Confirmed appointments not begun, whose reminder time has come and was not sent.
    (Operator command: no viewer, every space.)"""
    rows = db.session.execute(
        select(Appointment.id, Appointment.starts_at, Appointment.reminder_minutes).where(
            Appointment.status == "confirmed",
            Appointment.reminded_at.is_(None),
            Appointment.reminder_minutes.is_not(None),
            Appointment.starts_at > now,
            Appointment.starts_at <= now + LOOKAHEAD,
        )
    ).all()
    return [r.id for r in rows if clock.aware(r.starts_at) - timedelta(minutes=r.reminder_minutes) <= now]


def send_due(now: datetime | None = None) -> int:
    """Send every due reminder; returns how many this run sent."""
    now = now or clock.utcnow()
    ids = due(now)
    db.session.rollback()
    sent = 0
    for appointment_id in ids:
        claimed = db.session.execute(
            update(Appointment)
            .where(
                Appointment.id == appointment_id, Appointment.reminded_at.is_(None), Appointment.status == "confirmed"
            )
            .values(reminded_at=now)
        ).rowcount
        if claimed != 1:
            db.session.rollback()
            continue  # another run took it, or it changed meanwhile
        _remind(db.session.get(Appointment, appointment_id))
        db.session.commit()
        sent += 1
    return sent


def _remind(a: Appointment) -> None:
    """In Carnet (a card among the notifications) and, as the holder chose, by mail."""
    db.session.add(
        notify.Notification(
            patient_id=a.patient_id,
            kind="reminder",
            actor_name=a.with_name,
            detail={"appointment": a.id, "at": clock.aware(a.starts_at).isoformat()},
            last_at=clock.utcnow(),
        )
    )
    account = holder_account(a.patient_id)
    if account is None or not by_mail(a.patient_id):
        return
    with force_locale(account.locale or "fr"):
        subject = _("Carnet: reminder of your appointment with %(name)s", name=a.with_name)
        lines = [
            _(
                "Your appointment with %(name)s is on %(when)s (Paris time).",
                name=a.with_name,
                when=when_text(a.starts_at),
            )
        ]
        if a.place:
            lines.append(_("Place: %(place)s", place=a.place))
        lines.append(_("The details are in your Carnet Agenda."))
        body = "\n\n".join(lines)
    notify.send_mail(account.email, subject, body)
