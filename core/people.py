"""People and their ways in: patients (space holders), professionals, accounts, passkeys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base, db, uuid_pk
from core.i18n import lazy_gettext as _l

ROLES = ("holder", "professional")

PROFESSIONS = {
    "medecin": _l("Physician"),
    "pharmacien": _l("Pharmacist"),
    "infirmier": _l("Nurse"),
    "masseur-kinesitherapeute": _l("Physiotherapist"),
    "sage-femme": _l("Midwife"),
    "chirurgien-dentiste": _l("Dentist"),
    "biologiste": _l("Medical biologist"),
    "autre": _l("Other health professional"),
}


def patient_display_name(given_names: str | None, used_name: str | None, family_name: str | None) -> str:
    """First given name and the name used ("Camille Martin"): how the app addresses a holder."""
    first = given_names.split()[0] if given_names else ""
    return f"{first} {used_name or family_name or ''}".strip()


def profession_label(code: str | None) -> str:
    """The profession in words ("Médecin"), or the code itself when it is not one we know."""
    return str(PROFESSIONS.get(code or "", code or ""))


class Patient(Base):
    """A space holder's identity: INS traits as given, and the life cycle of the space."""

    __tablename__ = "patients"

    id: Mapped[str] = uuid_pk()
    nir: Mapped[str] = mapped_column(String(15), unique=True)
    birth_date: Mapped[date] = mapped_column(Date)
    given_names: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    used_name: Mapped[str | None] = mapped_column(String(120))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_place_code: Mapped[str | None] = mapped_column(String(5))
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|active|closed
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    activated_at: Mapped[datetime | None]

    @property
    def display_name(self) -> str:
        return patient_display_name(self.given_names, self.used_name, self.family_name)

    @property
    def first_name(self) -> str:
        return self.given_names.split()[0] if self.given_names else ""


class Professional(Base):
    """A health professional identified by RPPS."""

    __tablename__ = "professionals"

    id: Mapped[str] = uuid_pk()
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    profession: Mapped[str] = mapped_column(String(40))
    specialty: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    @property
    def display_name(self) -> str:
        return professional_display_name(self.given_name, self.family_name)


def professional_display_name(given_name: str, family_name: str) -> str:
    return f"{given_name} {family_name}"


@dataclass(frozen=True)
class ProfessionalColumns:
    """A logged-in professional as their requests know them (core.sessions.SessionUser.professional:
    one compiled read), so their pages name and trace them without loading the Account."""

    id: str
    rpps: str
    given_name: str
    family_name: str
    profession: str
    specialty: str | None

    @property
    def display_name(self) -> str:
        return professional_display_name(self.given_name, self.family_name)


class Account(Base):
    """A way to log in: a holder's or a professional's."""

    __tablename__ = "accounts"

    id: Mapped[str] = uuid_pk()
    role: Mapped[str] = mapped_column(String(12))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    professional_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"), index=True)
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True, default=lambda: secrets.token_bytes(32))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]

    patient: Mapped[Patient | None] = relationship(lazy="joined")
    professional: Mapped[Professional | None] = relationship(lazy="joined")

    @property
    def display_name(self) -> str:
        if self.patient is not None:
            return self.patient.display_name
        if self.professional is not None:
            return self.professional.display_name
        return self.email


class Credential(Base):
    """A passkey. The sign count is kept but never trusted alone (synced passkeys send 0)."""

    __tablename__ = "credentials"

    id: Mapped[str] = uuid_pk()
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[list] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(60))
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    last_used_at: Mapped[datetime | None]


def account_by_email(email: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.email == normalise_email(email)))


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()
