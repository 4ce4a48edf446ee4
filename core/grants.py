"""Who else may see a space: time-limited shares (a code and a link), permanent grants to a
registered professional, blocks, emergency settings and emergency accesses. The gate
(core.access) reads them on every request of a professional.

Codes and link tokens are kept only as keyed hashes (core.codes). A share code is a public
`prefix` (which share is meant) and a secret part: a wrong secret counts against that share
and locks it at its limit, so guessing cannot move from one share to the next unnoticed.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, uuid_pk


class Share(Base):
    __tablename__ = "shares"

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(4), unique=True)      # first group of the code
    code_hash: Mapped[str] = mapped_column(String(64))               # keyed hash of the whole code
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)  # keyed hash of the link token
    # {"documents": "all" | "categories" | None, "categories": [...], "summary": bool, "measures": bool}
    scope: Mapped[dict] = mapped_column(JSON)
    can_deposit: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str | None] = mapped_column(String(120))           # the holder's own note: "Dr Durand"
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column()

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.locked_at is None and clock.aware(self.expires_at) > now

    @property
    def audit_label(self) -> str:
        return self.label or ""


class ShareUse(Base):
    """A professional who opened a share with its code or link: who they said they are, when."""

    __tablename__ = "share_uses"

    id: Mapped[str] = uuid_pk()
    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    profession: Mapped[str] = mapped_column(String(40))
    rpps: Mapped[str] = mapped_column(String(11))
    started_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class Grant(Base):
    """Permanent access given to a registered professional (the médecin traitant, say)."""

    __tablename__ = "grants"
    __table_args__ = (Index("ix_grants_professional", "professional_id", "ended_at"),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()


class Block(Base):
    """A professional (by RPPS) who may use no code, grant or emergency access for this holder."""

    __tablename__ = "blocks"
    __table_args__ = (Index("ux_blocks_patient_rpps", "patient_id", "rpps", unique=True),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    rpps: Mapped[str] = mapped_column(String(11))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)


class EmergencySettings(Base):
    """The three MES settings; a space without a row has the defaults."""

    __tablename__ = "emergency_settings"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    allow_samu: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_others: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)


class EmergencyAccess(Base):
    """"Bris de glace": a registered professional opened the space without consent, with a reason."""

    __tablename__ = "emergency_accesses"
    __table_args__ = (Index("ix_emergency_professional", "professional_id", "expires_at"),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    samu: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text)
    include_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    expires_at: Mapped[datetime] = mapped_column()


# --------------------------------------------------------------------------- share codes and links

# XXXX-XXXX-XXXX in Crockford's base32: the first group says which share (20 bits), the other
# two are the secret (40 bits). A share locks after SHARE_MAX_FAILURES wrong secrets, so the
# chance of guessing a live share stays below 5 in 2^40 per share, and the per-IP and global
# caps bound how many shares an attacker can even try.
CODE_GROUP = 4
SHARE_MAX_FAILURES = 5
IP_LIMIT = 30            # attempts per IP per hour, right or wrong
GLOBAL_LIMIT = 2000      # attempts across the whole service per hour
LINK_BYTES = 24          # 192 bits in the QR link


def new_share_secrets() -> tuple[str, str, str]:
    """(code as printed, prefix, link token). The prefix is unique among shares ever made."""
    import secrets

    from sqlalchemy import select

    from core import codes
    from core.db import db

    while True:
        code = codes.activation_code(3, CODE_GROUP)
        prefix = code[:CODE_GROUP]
        if db.session.scalar(select(Share.id).where(Share.prefix == prefix)) is None:
            return code, prefix, secrets.token_urlsafe(LINK_BYTES)


def code_hash(code: str) -> str:
    from core import codes

    return codes.keyed_hash(code, "share-code")


def link_hash(token: str) -> str:
    from core import codes

    return codes.keyed_hash(token, "share-link")


def redeem(ip: str | None, code: str | None = None, token: str | None = None):
    """The live share a code or a link opens, or None.

    Every attempt is counted (per IP, globally) before anything is checked, and a wrong secret
    for an existing prefix counts against that share in one atomic UPDATE that also locks it at
    the limit: exact under parallel requests. The same work runs whether the prefix exists or
    not; the caller answers every None the same way (wrong, expired, revoked, locked, capped)."""
    import hmac

    from sqlalchemy import case, select, update

    from core import clock, codes, throttle
    from core.db import db

    now = clock.utcnow()
    capped = throttle.hit("share_ip", ip or "?") > IP_LIMIT
    capped = throttle.hit("share_all", "*") > GLOBAL_LIMIT or capped
    if token:
        share = db.session.scalar(select(Share).where(Share.link_hash == link_hash(token)))
        ok = share is not None
    else:
        normalised = codes.normalise(code or "")
        prefix = normalised[:CODE_GROUP]
        given = code_hash(normalised)
        share = db.session.scalar(select(Share).where(Share.prefix == prefix))
        ok = share is not None and hmac.compare_digest(given, share.code_hash) and len(normalised) == 3 * CODE_GROUP
        if not ok:
            db.session.execute(
                update(Share).where(Share.prefix == prefix, Share.locked_at.is_(None)).values(
                    failed_attempts=Share.failed_attempts + 1,
                    locked_at=case((Share.failed_attempts + 1 >= SHARE_MAX_FAILURES, now), else_=None))
                .execution_options(synchronize_session=False))
            if share is not None:
                db.session.refresh(share)
    if capped or not ok or not share.live(now):
        return None
    return share
