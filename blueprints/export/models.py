"""One export of a space: its progress while it runs, then the encrypted zip it made.

The zip sits in the blob store (core.blobs, encrypted with a key of its own) until it expires;
its key row names the space, so deleting the space shreds it like any other file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, uuid_pk

_UNFINISHED = text("status IN ('pending', 'running')")


class SpaceExport(Base):
    __tablename__ = "space_exports"
    # One export at a time per space, even when two requests ask at once (two tabs, two workers).
    __table_args__ = (
        Index(
            "ux_space_exports_one_running",
            "patient_id",
            unique=True,
            sqlite_where=_UNFINISHED,
            postgresql_where=_UNFINISHED,
        ),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | running | done | failed
    base_url: Mapped[str] = mapped_column(String(200))  # where links in the zip point (the FHIR base)
    asked_by: Mapped[str | None] = mapped_column(String(36))  # the account: the holder, or a guardian
    done_steps: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    blob_id: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    runner: Mapped[str | None] = mapped_column(String(200))  # core.jobs.this_runner()
    finished_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    downloaded_at: Mapped[datetime | None] = mapped_column()

    @property
    def audit_label(self) -> str:
        return ""

    @property
    def percent(self) -> int:
        if self.status in ("done", "failed"):
            return 100
        return min(99, int(100 * self.done_steps / self.total_steps)) if self.total_steps else 0
