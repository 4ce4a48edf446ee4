"""A professional's agenda across their patients, on their home: the coming appointments and
the other times patients asked for, waiting for the professional's answer, each leading to
the patient's record agenda page. Read through access.scope_practice(): a patient whose
permanent access ended, who blocked them, or whose space is closed is not listed (the
record page would not open either)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from sqlalchemy import select

from blueprints.agenda.appointments import ACTIVE
from blueprints.agenda.models import Appointment
from core import access, clock
from core.access import Viewer
from core.db import db
from core.people import Patient

SHOWN = 30  # of each list on the home; the rest is on each record's page
ASKED_KEPT = timedelta(days=1)  # an asked time just passed still waits (propose another one)


@dataclass
class PracticeRow:
    id: str
    patient: str
    starts_at: datetime
    duration: int
    place: str
    reason: str
    status: str
    counter_starts_at: datetime | None
    link: str


def overview(viewer: Viewer) -> dict:
    """{"to_answer": requests for another time, soonest asked first; "coming": what is
    proposed or confirmed, soonest first; "more": whether a list was cut}. Three statements
    (the two lists, names joined in, and the live accesses their links go through)."""
    now = clock.utcnow()
    base = access.scope_practice(
        viewer,
        select(Appointment, Patient.given_names, Patient.used_name, Patient.family_name).join(
            Patient, Patient.id == Appointment.patient_id
        ),
    )
    asked = (
        base.where(Appointment.status == "countered", Appointment.counter_starts_at >= now - ASKED_KEPT)
        .order_by(Appointment.counter_starts_at, Appointment.id)
        .limit(SHOWN + 1)
    )
    coming = (
        base.where(
            Appointment.status.in_([s for s in ACTIVE if s != "countered"]),
            Appointment.starts_at >= now - timedelta(hours=12),
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(SHOWN + 10)
    )
    grants = access.practice_grants(viewer)
    to_answer = [_row(r, grants) for r in db.session.execute(asked)]
    rows = [_row(r, grants) for r in db.session.execute(coming)]
    coming_rows = [r for r in rows if r.starts_at + timedelta(minutes=r.duration) > now]
    return {
        "to_answer": to_answer[:SHOWN],
        "coming": coming_rows[:SHOWN],
        "more": len(to_answer) > SHOWN or len(coming_rows) > SHOWN,
        "shown": SHOWN,
    }


def _row(r, grants: dict[str, str]) -> PracticeRow:
    a = r.Appointment
    return PracticeRow(
        a.id,
        f"{r.given_names} {r.used_name or r.family_name}",
        clock.aware(a.starts_at),
        a.duration_minutes,
        a.place or "",
        a.reason or "",
        a.status,
        clock.aware(a.counter_starts_at),
        url_for("agenda.record_agenda", access_id=grants[a.patient_id]) + f"#rdv-{a.id}",
    )
