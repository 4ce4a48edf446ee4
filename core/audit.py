"""The access trail: append-only and hash-chained, so any change to a past trace shows.

Each event's hash covers its own fields and the previous event's hash. `verify()` walks the
chain and names the first broken link. Appends are serialised (SQLite: the write lock every
transaction takes; PostgreSQL: a transaction-scoped advisory lock) so the chain never forks.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, select, text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, db, write_intent

GENESIS = "0" * 64
_LOCK_KEY = 0x6361726E6574  # "carnet"


class AuditEvent(Base):
    __tablename__ = "audit_events"
    # A space's history, newest first, page by page (WHERE patient_id = ? AND id < ? ORDER BY id DESC).
    __table_args__ = (Index("ix_audit_events_patient_id_id", "patient_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    patient_id: Mapped[str | None] = mapped_column(String(36), index=True)
    account_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # holder|professional|emergency|app|system|anonymous
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_profession: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str | None] = mapped_column(String(30))
    target_id: Mapped[str | None] = mapped_column(String(36))
    target_label: Mapped[str | None] = mapped_column(String(200))
    grant_id: Mapped[str | None] = mapped_column(String(36))
    ip: Mapped[str | None] = mapped_column(String(45))
    device: Mapped[str | None] = mapped_column(String(120))
    kiosk: Mapped[bool | None]
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


_FIELDS = ("at", "patient_id", "account_id", "actor_type", "actor_id", "actor_name", "actor_profession",
           "action", "target_type", "target_id", "target_label", "grant_id", "ip", "device", "kiosk",
           "detail")


def _digest(event: AuditEvent) -> str:
    body = {f: getattr(event, f) for f in _FIELDS}
    body["at"] = clock.aware(event.at).isoformat(timespec="microseconds")
    payload = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((event.prev_hash + payload).encode()).hexdigest()


def _lock() -> None:
    write_intent()
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def append(*, action: str, actor_type: str, patient_id: str | None = None, account_id: str | None = None,
           actor_id: str | None = None, actor_name: str | None = None, actor_profession: str | None = None,
           target_type: str | None = None, target_id: str | None = None, target_label: str | None = None,
           grant_id: str | None = None, ip: str | None = None, device: str | None = None,
           kiosk: bool | None = None, detail: dict | None = None) -> AuditEvent:
    """Low-level append; features call record(viewer, ...) instead."""
    _lock()
    last = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        at=clock.utcnow(), patient_id=patient_id, account_id=account_id, actor_type=actor_type,
        actor_id=actor_id, actor_name=actor_name, actor_profession=actor_profession, action=action,
        target_type=target_type, target_id=target_id, target_label=(target_label or None) and target_label[:200],
        grant_id=grant_id, ip=ip, device=device, kiosk=kiosk, detail=detail or {},
        prev_hash=last or GENESIS,
    )
    event.hash = _digest(event)
    db.session.add(event)
    db.session.flush()
    return event


def record(viewer, action: str, target=None, *, patient_id: str | None = None,
           account_id: str | None = None, target_label: str | None = None,
           detail: dict | None = None) -> AuditEvent:
    """The one audit call: who (the viewer), what (action, target), when, where, which grant."""
    from core import web

    who = viewer.audit_identity() if viewer is not None else {"actor_type": "anonymous"}
    space = patient_id or getattr(target, "patient_id", None) or who.pop("patient_id", None)
    who.pop("patient_id", None)
    if account_id is not None:
        who["account_id"] = account_id
    if target is not None and target_label is None:
        target_label = getattr(target, "audit_label", None) or getattr(target, "title", None)
    return append(
        action=action, patient_id=space,
        target_type=getattr(target, "__tablename__", None) if target is not None else None,
        target_id=getattr(target, "id", None) if target is not None else None,
        target_label=target_label, detail=detail, **who, **web.request_origin(),
    )


@dataclass
class VerifyResult:
    ok: bool
    count: int
    broken_id: int | None = None
    reason: str | None = None


def verify(batch: int = 2000) -> VerifyResult:
    """Walk the chain in id order; stop at the first event whose link or hash is wrong."""
    prev, seen, last_id = GENESIS, 0, 0
    while True:
        rows = list(db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ))
        if not rows:
            return VerifyResult(True, seen)
        for event in rows:
            if event.prev_hash != prev:
                return VerifyResult(False, seen, event.id, "link")
            if _digest(event) != event.hash:
                return VerifyResult(False, seen, event.id, "content")
            prev, last_id, seen = event.hash, event.id, seen + 1
        db.session.expunge_all()
