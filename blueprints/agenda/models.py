"""The agenda's tables: appointments, the holder's marks on the prevention calendar, and the
holder's agenda settings (calendar on or off, the private calendar feed)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, uuid_pk

# proposed: a time from the professional waiting for the holder; countered: the holder asked
# for another time, waiting for the professional (who takes it, proposes yet another time, or
# cancels); confirmed; declined (by the holder); cancelled. As many rounds as both sides need.
STATUSES = ("proposed", "countered", "confirmed", "declined", "cancelled")


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_patient_start", "patient_id", "starts_at"),
        Index("ix_appointments_reminder", "status", "reminded_at", "starts_at"),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))  # indexed first by the one above
    # Set when a professional with an account proposed it; the holder's own appointments name
    # whom they see in `with_name` only.
    professional_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"), index=True)
    with_name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column()
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    place: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    reminder_minutes: Mapped[int | None] = mapped_column(Integer)  # None: no reminder
    status: Mapped[str] = mapped_column(String(12), default="confirmed")
    proposed_by: Mapped[str] = mapped_column(String(12), default="holder")  # holder | professional
    counter_starts_at: Mapped[datetime | None] = mapped_column()  # the time the holder asked for
    reminded_at: Mapped[datetime | None] = mapped_column()
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE: bumped on each change
    # Every time put forward, in order: [{"by": "professional" | "holder", "at": iso, "on": iso}].
    # An answer names the `sequence` it saw: an answer to a time since replaced is refused.
    proposals: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)

    @property
    def audit_label(self) -> str:
        """Traces name whom and when, never the reason (the trail cannot be erased)."""
        return self.with_name

    def begun(self) -> bool:
        """Its time has come: that time can no longer be accepted, only another asked for."""
        return clock.aware(self.starts_at) <= clock.utcnow()


class PreventionMark(Base):
    """The holder's answer to one item of the prevention calendar: done (with a document or a
    vaccination entry, if linked) or dismissed. `item` is the rule and the due date."""

    __tablename__ = "prevention_marks"
    __table_args__ = (UniqueConstraint("patient_id", "item", name="uq_prevention_marks_patient_item"),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    item: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10))  # done | dismissed
    done_on: Mapped[date | None] = mapped_column(Date)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    vaccination_id: Mapped[str | None] = mapped_column(ForeignKey("profile_vaccinations.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    @property
    def audit_label(self) -> str:
        return ""


class AgendaSettings(Base):
    """One row per holder who changed something: the prevention calendar switched off, and the
    private calendar feed (only a keyed hash of its token is kept)."""

    __tablename__ = "agenda_settings"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    prevention_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    feed_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    feed_details: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    feed_created_at: Mapped[datetime | None] = mapped_column()
    feed_read_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)
