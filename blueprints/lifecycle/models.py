"""The life of a space beyond its creation: where its letters go, its closure and deletion
dates and the people who objected (a keyed hash only). The guardians of a child's space are
the gate's (core.grants.Guardianship)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, uuid_pk
from core.grants import Guardianship


class SpaceLife(Base):
    """One row per space made from a population file or closed once: the dates the timers of
    `flask lifecycle run` read."""

    __tablename__ = "space_life"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    postal_address: Mapped[str | None] = mapped_column(Text)  # letters by post when there is no email
    # its activation letter waits for the printer (blueprints.lifecycle.postal); no code yet
    letter_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
    opposition_until: Mapped[datetime | None]  # end of the 6 weeks to object
    closed_at: Mapped[datetime | None]
    delete_after: Mapped[datetime | None]  # end of the 10-year archive, or the deletion asked for
    deletion_requested_at: Mapped[datetime | None]


class Opposition(Base):
    """Someone who objected to their space: only a keyed hash of the NIR is kept, so that the
    next population file does not create the space again. Not patient data: no patient_id."""

    __tablename__ = "oppositions"

    id: Mapped[str] = uuid_pk()
    nir_hash: Mapped[str] = mapped_column(String(64), unique=True)
    receipt: Mapped[str] = mapped_column(String(20), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(default=clock.utcnow)


__all__ = ["Guardianship", "Opposition", "SpaceLife"]  # Guardianship lives with the gate's tables
