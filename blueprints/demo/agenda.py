"""The demo agenda: a dentist appointment Camille noted herself, the consultation of
4 November with Dr Bernard (its report is among her documents), and a follow-up Dr Bernard
proposes, waiting for Camille's answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from blueprints.agenda import appointments
from blueprints.agenda.models import Appointment
from core import access, clock
from core.access import viewer_for
from core.db import db


def _paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clock.PARIS).astimezone(UTC)


def add_demo_agenda(holder_account, doctor_account, grant_id: str) -> None:
    today = clock.paris_today()
    holder = viewer_for(holder_account)
    appointments.add(
        holder,
        with_name="Dr Lefèvre, dentiste",
        starts_at=_paris(today + timedelta(days=5), 9, 30),
        duration=30,
        place="Cabinet dentaire, 18 rue des Martyrs, Paris 9e",
        reason="Détartrage",
        notes="Apporter la carte Vitale",
        reminder=1440,
    )
    # the consultation the demo report comes from (already past, so no reminder)
    db.session.add(
        Appointment(
            patient_id=holder_account.patient_id,
            professional_id=doctor_account.professional_id,
            with_name="Dr Hélène Bernard",
            starts_at=_paris(date(2026, 11, 4), 10, 15),
            duration_minutes=20,
            place="Cabinet médical, 4 place du Marché, Paris 11e",
            reason="Consultation de suivi",
            status="confirmed",
            proposed_by="professional",
        )
    )
    on_record = access.record_viewer(viewer_for(doctor_account), grant_id)
    appointments.propose(
        on_record,
        starts_at=_paris(today + timedelta(days=12), 17, 45),
        duration=20,
        place="Cabinet médical, 4 place du Marché, Paris 11e",
        reason="Contrôle de la tension",
        notes="Venir avec vos relevés de tension de la semaine.",
    )
