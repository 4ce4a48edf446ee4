"""Telling the other side of an appointment. The holder: a card among the notifications, and a
mail when they chose "in Carnet and by mail" for appointments (Sharing, "How to tell me").
The professional: a mail (their home and the record's agenda page show it too)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, format_datetime as babel_datetime
from sqlalchemy import select

from blueprints.agenda.models import Appointment
from core import clock, notify
from core.access import Viewer
from core.db import db
from core.formatting import clock_time
from core.i18n import gettext as _
from core.people import Account, profession_label


def when_text(at: datetime) -> str:
    """ "12 mars 2027 à 9 h 30" in the reader's language, Paris time (the app's time zone)."""
    return _("%(date)s at %(time)s", date=babel_datetime(clock.aware(at), "d MMMM y"), time=clock_time(clock.aware(at)))


def by_mail(patient_id: str) -> bool:
    """Whether the holder hears of appointments by mail too (the card in Carnet is always made)."""
    return notify.preferences(patient_id).get("appointment") == "mail"


def holder_account(patient_id: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.patient_id == patient_id))


def holder(viewer: Viewer, a: Appointment, event: str) -> None:
    """In Carnet (a card among the notifications) and, as the holder chose, by mail."""
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
    account = holder_account(a.patient_id)
    if account is None or not by_mail(a.patient_id):
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
            "reproposed": (
                _("Carnet: another time is proposed to you"),
                _(
                    "%(who)s cannot take the time you asked for and proposes %(when)s (Paris time).",
                    who=who,
                    when=when,
                ),
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


def professional(a: Appointment, event: str) -> None:
    """The professional hears of the holder's answer by mail."""
    if a.professional_id is None:
        return
    account = db.session.scalar(select(Account).where(Account.professional_id == a.professional_id))
    if account is None:
        return
    from_patient = holder_account(a.patient_id)
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
