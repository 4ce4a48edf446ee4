"""Public kiosks: devices an operator registered, and the one-use approvals that open a
holder's space on one from their phone (keyed hashes only, never the secrets)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, uuid_pk


class Kiosk(Base):
    __tablename__ = "kiosks"

    id: Mapped[str] = uuid_pk()
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    enrol_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # the one-time link, until used
    enrol_expires_at: Mapped[datetime | None]
    enrolled_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class KioskHandoff(Base):
    """A QR code shown on a kiosk: approved once by a logged-in phone, used once by that kiosk."""

    __tablename__ = "kiosk_handoffs"

    id: Mapped[str] = uuid_pk()
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    expires_at: Mapped[datetime]
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    approved_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
