"""A professional's agenda across their patients, on their home: the coming appointments and
the other times patients asked for, waiting for the professional's answer, each leading to
the patient's record agenda page. Read through access.scope_practice(): a patient whose
permanent access ended, who blocked them, or whose space is closed is not listed (the
record page would not open either)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import url_for
from sqlalchemy import bindparam, select

from blueprints.agenda.appointments import ACTIVE
from blueprints.agenda.models import Appointment
from core import access, clock
from core.access import Viewer
from core.compiled import Fixed
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
    (the two lists, names joined in, and the live accesses their links go through), built and
    compiled once (compiled.Fixed): a professional's home runs them on every visit, and building them
    cost more than running them (docs/performance.md, 78)."""
    pro = access.practice_professional(viewer)
    if pro is None:  # what scope_practice() gives anyone else: nothing
        return {"to_answer": [], "coming": [], "more": False, "shown": SHOWN}
    now = clock.utcnow()
    asked, coming, grants_of = _statements()
    params = {
        "professional_id": pro.id,
        "rpps": pro.rpps,
        "asked_since": now - ASKED_KEPT,
        "coming_since": now - timedelta(hours=12),
    }
    grants = {r.patient_id: r.id for r in grants_of.all(params)}
    to_answer = [_row(r, grants) for r in asked.all(params)]
    rows = [_row(r, grants) for r in coming.all(params)]
    coming_rows = [r for r in rows if r.starts_at + timedelta(minutes=r.duration) > now]
    return {
        "to_answer": to_answer[:SHOWN],
        "coming": coming_rows[:SHOWN],
        "more": len(to_answer) > SHOWN or len(coming_rows) > SHOWN,
        "shown": SHOWN,
    }


_COLUMNS = (
    Appointment.id,
    Appointment.patient_id,
    Appointment.starts_at,
    Appointment.duration_minutes,
    Appointment.place,
    Appointment.reason,
    Appointment.status,
    Appointment.counter_starts_at,
    Patient.given_names,
    Patient.used_name,
    Patient.family_name,
)


@lru_cache(maxsize=1)
def _statements() -> tuple[Fixed, Fixed, Fixed]:
    """The two lists through the gate's scope_practice() and the live accesses as
    access.practice_grants() reads them, for access.practice_gate(): the professional's id and
    RPPS and the two instants are parameters."""
    base = access.scope_practice(
        access.practice_gate(), select(*_COLUMNS).join(Patient, Patient.id == Appointment.patient_id)
    )
    asked = (
        base.where(Appointment.status == "countered", Appointment.counter_starts_at >= bindparam("asked_since"))
        .order_by(Appointment.counter_starts_at, Appointment.id)
        .limit(SHOWN + 1)
    )
    coming = (
        base.where(
            Appointment.status.in_([s for s in ACTIVE if s != "countered"]),
            Appointment.starts_at >= bindparam("coming_since"),
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(SHOWN + 10)
    )
    return Fixed(asked), Fixed(coming), Fixed(access.practice_grants_statement())


def _row(r, grants: dict[str, str]) -> PracticeRow:
    return PracticeRow(
        r.id,
        f"{r.given_names} {r.used_name or r.family_name}",
        clock.aware(r.starts_at),
        r.duration_minutes,
        r.place or "",
        r.reason or "",
        r.status,
        clock.aware(r.counter_starts_at),
        url_for("agenda.record_agenda", access_id=grants[r.patient_id]) + f"#rdv-{r.id}",
    )
