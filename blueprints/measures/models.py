"""Health measures and the imports that brought them.

A measure's instant is kept as whole seconds since the epoch (UTC) plus the offset it was
taken at, in minutes: a device export of a million rows goes in as plain integers, charts
filter on integer ranges, and the local time a person saw on their scale is not lost.
One unique index — (patient, kind, instant, dedup) — serves the charts' range scans and
makes imports idempotent: a row already present is skipped by the database itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, uuid_pk


class Measure(Base):
    __tablename__ = "measures"
    __table_args__ = (Index("ux_measures_patient_kind_time", "patient_id", "kind", "taken_at", "dedup", unique=True),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))  # indexed by the unique index above
    kind: Mapped[str] = mapped_column(String(24))
    taken_at: Mapped[int] = mapped_column(BigInteger)  # UTC, seconds since the epoch
    utc_offset: Mapped[int] = mapped_column(SmallInteger, default=0)  # minutes east of UTC
    value: Mapped[float] = mapped_column(Float)  # canonical UCUM unit of the kind
    value2: Mapped[float | None] = mapped_column(Float)  # diastolic, for blood pressure
    context: Mapped[str | None] = mapped_column(String(16))  # glucose: fasting, before_meal, after_meal
    source: Mapped[str] = mapped_column(String(16))  # manual | apple | fhir | csv
    source_name: Mapped[str | None] = mapped_column(String(120))  # device or app, as the file names it
    import_id: Mapped[str | None] = mapped_column(ForeignKey("measure_imports.id", ondelete="SET NULL"))
    dedup: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    @property
    def when(self) -> datetime:
        """The instant, in the offset it was taken at."""
        return datetime.fromtimestamp(self.taken_at, timezone(timedelta(minutes=self.utc_offset)))


class MeasureImport(Base):
    """One file a person gave us: its progress while it runs, its summary once done.

    The file itself sits encrypted in the blob store until the import ends."""

    __tablename__ = "measure_imports"
    # every worker looks for jobs nobody runs every few seconds: the waiting ones by index, never
    # every import ever made (jobs.waiting)
    __table_args__ = (Index("ix_measure_imports_status_created", "status", "created_at"),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    format: Mapped[str] = mapped_column(String(8))  # apple | fhir | csv
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # preview | pending | running | done | failed
    blob_id: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes to read
    done_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[int] = mapped_column(Integer, default=0)  # already there (same file twice...)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    ignored: Mapped[int] = mapped_column(Integer, default=0)  # kinds Carnet does not keep
    reasons: Mapped[dict | None] = mapped_column(JSON)  # rejection reason -> count, examples
    options: Mapped[dict | None] = mapped_column(JSON)  # CSV column mapping, delimiter...
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    # The process running the job: "host|boot id|pid|start time" (imports.this_runner), so that
    # a job whose process died on this host is taken over at once, not after STALE.
    runner: Mapped[str | None] = mapped_column(String(200))
    finished_at: Mapped[datetime | None] = mapped_column()
