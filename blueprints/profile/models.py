"""The holder's medical profile and the administrative data around it.

One table per list section (antécédents, treatments, allergies, vaccinations, disabilities,
contacts). Everything that has one value per space (blood group, lifestyle, organ donation,
advance directives, médecin traitant, complementary insurer, phones, postal address) sits
in a single `profile_facts` row per patient with nullable columns: one row to read for the
profile, the summary and the dashboard, no join, and no empty rows per section.
Identity traits (INS) stay on `patients`, where the space was created with them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, uuid_pk


class _Row:
    """Columns every profile table carries."""

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)

    @property
    def audit_label(self) -> str:
        """Traces name the section (in `detail`), never the health data itself: the trail
        cannot be erased, an allergy or a condition the holder removes must not stay in it."""
        return ""


class ProfileFacts(_Row, Base):
    __tablename__ = "profile_facts"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True, unique=True)
    blood_group: Mapped[str | None] = mapped_column(String(8))
    tobacco: Mapped[str | None] = mapped_column(String(12))
    alcohol: Mapped[str | None] = mapped_column(String(12))
    activity: Mapped[str | None] = mapped_column(String(12))
    lifestyle_note: Mapped[str | None] = mapped_column(Text)
    donation: Mapped[str | None] = mapped_column(String(12))
    donation_note: Mapped[str | None] = mapped_column(Text)
    directive_document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    doctor_name: Mapped[str | None] = mapped_column(String(200))
    doctor_phone: Mapped[str | None] = mapped_column(String(30))
    doctor_rpps: Mapped[str | None] = mapped_column(String(11))
    insurer_name: Mapped[str | None] = mapped_column(String(200))
    insurer_member_number: Mapped[str | None] = mapped_column(String(40))
    phone_mobile: Mapped[str | None] = mapped_column(String(30))
    phone_other: Mapped[str | None] = mapped_column(String(30))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(80))
    card_items: Mapped[str | None] = mapped_column(String(200))  # the emergency card's choice (synthesis/card.py)


class Condition(_Row, Base):
    """Antécédents: medical, surgical, family history, hospitalisations."""

    __tablename__ = "profile_conditions"

    kind: Mapped[str] = mapped_column(String(16))  # medical | surgical | family | hospitalisation
    label: Mapped[str] = mapped_column(String(200))
    year: Mapped[int | None] = mapped_column(Integer)
    on_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class Treatment(_Row, Base):
    __tablename__ = "profile_treatments"

    name: Mapped[str] = mapped_column(String(200))
    dosage: Mapped[str | None] = mapped_column(String(200))
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    ongoing: Mapped[bool] = mapped_column(Boolean, default=True)


class Allergy(_Row, Base):
    __tablename__ = "profile_allergies"

    substance: Mapped[str] = mapped_column(String(200))
    reaction: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10), default="unknown")  # mild | moderate | severe | unknown
    treatment_id: Mapped[str | None] = mapped_column(ForeignKey("profile_treatments.id", ondelete="SET NULL"))


class Vaccination(_Row, Base):
    __tablename__ = "profile_vaccinations"

    name: Mapped[str] = mapped_column(String(200))
    on_date: Mapped[date | None] = mapped_column(Date)
    lot_number: Mapped[str | None] = mapped_column(String(60))


class Disability(_Row, Base):
    __tablename__ = "profile_disabilities"

    label: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class Contact(_Row, Base):
    """Emergency contact, personne de confiance, caregiver (proche aidant)."""

    __tablename__ = "profile_contacts"

    role: Mapped[str] = mapped_column(String(12))  # emergency | trusted | caregiver
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(30))
    phone_other: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
