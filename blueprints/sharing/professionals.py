"""Permanent grants to registered professionals, blocks by RPPS, and the emergency settings.

Grants, blocks and settings are read by the gate on every request of a professional: what
changes here applies at their next click.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import bindparam, func, or_, select

from core import access, audit, clock
from core.access import Viewer
from core.compiled import Fixed
from core.db import db
from core.grants import Block, EmergencySettings, Grant
from core.people import Professional, profession_label, professional_display_name

SEARCH_MIN = 2
SEARCH_LIMIT = 10


def _pro_dict(pro: Professional) -> dict:
    return {
        "id": pro.id,
        "name": pro.display_name,
        "profession": profession_label(pro.profession),
        "specialty": pro.specialty or "",
        "rpps": pro.rpps,
    }


def search(viewer: Viewer, q: str) -> list[dict]:
    """Registered professionals by RPPS (digits) or by name; the directory is not patient data."""
    q = " ".join((q or "").split())[:80]
    if len(q) < SEARCH_MIN:
        return []
    stmt = select(Professional)
    if q.isdigit():
        stmt = stmt.where(Professional.rpps.startswith(q, autoescape=True))
    else:
        for word in q.lower().split()[:3]:
            stmt = stmt.where(
                or_(
                    func.lower(Professional.family_name).contains(word, autoescape=True),
                    func.lower(Professional.given_name).contains(word, autoescape=True),
                )
            )
    pros = db.session.scalars(
        stmt.order_by(Professional.family_name, Professional.given_name).limit(SEARCH_LIMIT)
    ).all()
    granted = _granted_ids(viewer)
    return [{**_pro_dict(p), "granted": p.id in granted} for p in pros]


def _granted_ids(viewer: Viewer) -> set[str]:
    return set(db.session.scalars(access.scope(viewer, select(Grant.professional_id)).where(Grant.ended_at.is_(None))))


@dataclass
class GrantRow:
    id: str
    name: str
    profession: str
    rpps: str
    since: datetime
    blocked: bool


def grants(viewer: Viewer, blocked: list | None = None) -> list[GrantRow]:
    """The permanent accesses in force, newest first; `blocked`: the space's blocks, when read already."""
    rows = _grants_statement(viewer.kind).all({"patient_id": viewer.patient_id})
    rpps_blocked = {b.rpps for b in (blocks(viewer) if blocked is None else blocked)}
    return [
        GrantRow(
            r.id,
            professional_display_name(r.given_name, r.family_name),
            profession_label(r.profession),
            r.rpps,
            clock.aware(r.created_at),
            r.rpps in rpps_blocked,
        )
        for r in rows
    ]


@lru_cache(maxsize=8)
def _grants_statement(viewer_kind: str) -> Fixed:
    """Built once per kind of viewer, as the sharing page's others (docs/performance.md, 48)."""
    columns = (Grant.id, Grant.created_at, Professional.given_name, Professional.family_name)
    return Fixed(
        access.scope(access.kind_gate(viewer_kind), select(*columns, Professional.profession, Professional.rpps))
        .join(Professional, Professional.id == Grant.professional_id)
        .where(Grant.ended_at.is_(None))
        .order_by(Grant.created_at.desc())
    )


@lru_cache(maxsize=8)
def _blocks_statement(viewer_kind: str) -> Fixed:
    columns = (Block.id, Block.rpps, Block.name, Block.created_at)
    return Fixed(access.scope(access.kind_gate(viewer_kind), select(*columns)).order_by(Block.created_at.desc()))


class Refused(Exception):
    pass


def grant(viewer: Viewer, professional_id: str) -> Grant:
    """A permanent access for one registered professional (once: a second grant changes nothing)."""
    pro = db.session.get(Professional, professional_id or "")
    if pro is None:
        raise LookupError(professional_id)
    if access.blocked(viewer.patient_id, pro.rpps):
        raise Refused(pro.display_name)
    existing = db.session.scalar(
        access.scope(viewer, select(Grant)).where(Grant.professional_id == pro.id, Grant.ended_at.is_(None))
    )
    if existing is not None:
        return existing
    new = Grant(patient_id=viewer.patient_id, professional_id=pro.id)
    db.session.add(new)
    db.session.flush()
    audit.record(
        viewer,
        audit.Action.GRANT_CREATED,
        new,
        target_label=pro.display_name,
        detail={"professional_id": pro.id, "rpps": pro.rpps, "profession": pro.profession},
    )
    return new


def get_grant(viewer: Viewer, grant_id: str) -> Grant:
    return access.get_or_404(viewer, Grant, grant_id)


def end_grant(viewer: Viewer, found: Grant) -> bool:
    if found.ended_at is not None:
        return False
    found.ended_at = clock.utcnow()
    pro = db.session.get(Professional, found.professional_id)
    audit.record(
        viewer,
        audit.Action.GRANT_ENDED,
        found,
        target_label=pro.display_name if pro else None,
        detail={"professional_id": found.professional_id},
    )
    return True


# --------------------------------------------------------------------------- blocks


def blocks(viewer: Viewer) -> list:
    """The space's blocks, newest first (id, rpps, name, created_at)."""
    return _blocks_statement(viewer.kind).all({"patient_id": viewer.patient_id})


def block(viewer: Viewer, rpps: str, name: str | None) -> Block:
    """Stop every code, grant and emergency access of this RPPS for this space, at once."""
    existing = db.session.scalar(access.scope(viewer, select(Block)).where(Block.rpps == rpps))
    if existing is not None:
        return existing
    name = (name or "").strip() or _known_name(rpps)
    new = Block(patient_id=viewer.patient_id, rpps=rpps, name=name)
    db.session.add(new)
    db.session.flush()
    audit.record(viewer, audit.Action.PROFESSIONAL_BLOCKED, new, target_label=name or rpps, detail={"rpps": rpps})
    return new


def _known_name(rpps: str) -> str | None:
    pro = db.session.scalar(select(Professional).where(Professional.rpps == rpps))
    return pro.display_name if pro is not None else None


def get_block(viewer: Viewer, block_id: str) -> Block:
    return access.get_or_404(viewer, Block, block_id)


def unblock(viewer: Viewer, found: Block) -> None:
    audit.record(
        viewer,
        audit.Action.PROFESSIONAL_UNBLOCKED,
        found,
        target_label=found.name or found.rpps,
        detail={"rpps": found.rpps},
    )
    db.session.delete(found)


# --------------------------------------------------------------------------- emergency


def emergency(viewer: Viewer):
    """The three settings, for the page's form."""
    found = _emergency_statement().first({"patient_id": viewer.patient_id})
    return found if found is not None else access.default_emergency_settings(viewer.patient_id)


@cache
def _emergency_statement() -> Fixed:
    columns = (EmergencySettings.allow_samu, EmergencySettings.allow_others, EmergencySettings.allow_hidden)
    return Fixed(select(*columns).where(EmergencySettings.patient_id == bindparam("patient_id")))


def save_emergency(viewer: Viewer, samu: bool, others: bool, hidden: bool) -> EmergencySettings:
    settings = db.session.get(EmergencySettings, viewer.patient_id)
    if settings is None:
        settings = EmergencySettings(patient_id=viewer.patient_id)
        db.session.add(settings)
    settings.allow_samu, settings.allow_others, settings.allow_hidden = bool(samu), bool(others), bool(hidden)
    settings.updated_at = clock.utcnow()
    db.session.flush()
    audit.record(
        viewer,
        audit.Action.EMERGENCY_SETTINGS_UPDATED,
        patient_id=viewer.patient_id,
        detail={
            "allow_samu": settings.allow_samu,
            "allow_others": settings.allow_others,
            "allow_hidden": settings.allow_hidden,
        },
    )
    return settings
