"""Who else may see a space: time-limited shares (a code and a link), permanent grants to a
registered professional, blocks, emergency settings and emergency accesses. The gate
(core.access) reads them on every request of a professional.

Codes and link tokens are kept only as keyed hashes (core.codes). A share code is a public
`prefix` (which share is meant) and a secret part: a wrong secret counts against that share
and locks *typing* its code at the limit, so guessing cannot move from one share to the next
unnoticed. The QR link (192 random bits) is not guessable and keeps working.

What bounds guessing across every live code, without any global refusal
-----------------------------------------------------------------------
Nobody's wrong attempts may refuse somebody else's right code or link (a global counter that
refuses would let anyone switch sharing off for everybody with ~2,000 requests). What limits
an attacker instead, however many addresses they use:

- A guess can only succeed against an existing prefix, and every existing share accepts at
  most SHARE_MAX_FAILURES (5) wrong secrets, ever: then its code can no longer be typed (the
  UPDATE that counts is atomic, exact under parallel requests). Each guess has a 1 in 2^40
  chance (two groups of 4 Crockford symbols). Prefixes are unique among every share ever
  made (20 bits), so at most 2^20 shares can exist, and the chance that *any* guess on the
  whole service ever opens *any* share is at most 5 × 2^20 / 2^40 = 5 / 2^20 (under 5 in a
  million), whatever the number of addresses or the time spent. A holder keeps at most
  MAX_LIVE_SHARES (blueprints.sharing) shares running, which bounds one space's exposure too.
- Guesses at a prefix that does not exist cannot succeed at all; they cost the sender their
  per-address budget (IP_LIMIT code attempts an hour, right or wrong). An address over its
  cap is refused before its code is even looked at, and its refused attempts do not count
  against any share (so one address cannot lock the codes of many holders).
- The lever left to an attacker is locking the typed code of shares whose prefix they try,
  5 attempts each: the holder is told once (core.notify), the link still opens the share,
  and the holder can end it and make a new one.
- The operator is alerted instead of the service refusing: every refused attempt counts in
  one counter per hour (throttle scope "share_refused"), read with `flask --app app shares
  attempts`; a WARNING is logged each time it passes another GLOBAL_ALERT refusals.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import clock, codes, notify, throttle
from core.db import Base, db, uuid_pk


class Share(Base):
    __tablename__ = "shares"

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(4), unique=True)  # first group of the code
    code_hash: Mapped[str] = mapped_column(String(64))  # keyed hash of the whole code
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)  # keyed hash of the link token
    # {"documents": "all" | "categories" | None, "categories": [...], "summary": bool, "measures": bool}
    scope: Mapped[dict] = mapped_column(JSON)
    can_deposit: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str | None] = mapped_column(String(120))  # the holder's own note: "Dr Durand"
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column()

    def live(self, now: datetime) -> bool:
        """Running: not ended by the holder, not expired. A share whose code is locked still runs
        (its link opens it, and so does a session already opened): the lock is on typing."""
        return self.revoked_at is None and clock.aware(self.expires_at) > now

    @property
    def code_locked(self) -> bool:
        return self.locked_at is not None

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
        return typed_name(self.given_name, self.family_name)


def typed_name(given_name: str, family_name: str) -> str:
    """The name a professional typed with a code, as the holder reads it."""
    return f"{given_name} {family_name}".strip()


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


class MessageRefusal(Base):
    """A professional (an account) the holder refuses new conversations from: threads already
    open go on; blocking (Block) is what ends everything."""

    __tablename__ = "message_refusals"
    __table_args__ = (Index("ux_message_refusals", "patient_id", "professional_id", unique=True),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
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
    """ "Bris de glace": a registered professional opened the space without consent, with a reason."""

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


class Guardianship(Base):
    """A legal guardian of a child's space: a holder who acts in it from their own account
    (core.access.guardian_viewer), until the child comes of age."""

    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("patient_id", "guardian_patient_id"),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)  # the child
    guardian_patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    ended_at: Mapped[datetime | None]


class Delegation(Base):
    """A helper (proche aidant) named by a holder: another person with a Carnet account who acts
    in the holder's space, within `scopes`, between two dates (core.access.helper_viewer). The
    invitation names an email; `helper_patient_id` is set only when that email is a Carnet
    account's, so the holder's screen is the same either way (no account enumeration)."""

    __tablename__ = "delegations"
    __table_args__ = (Index("ix_delegations_helper", "helper_patient_id", "status"),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)  # the holder helped
    helper_patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))
    email: Mapped[str] = mapped_column(String(254))  # as the holder typed it (normalised)
    scopes: Mapped[list] = mapped_column(JSON)  # among core.access.HELPER_SCOPES
    include_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[date] = mapped_column(Date)  # Paris days, both included
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="invited")  # invited | accepted | declined | ended
    invited_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(10))  # holder | helper


# --------------------------------------------------------------------------- share codes and links

# XXXX-XXXX-XXXX in Crockford's base32: the first group says which share (20 bits), the other
# two are the secret (40 bits). See the module docstring for what bounds guessing.
CODE_GROUP = 4
SHARE_MAX_FAILURES = 5  # wrong secrets for one share, then its code can no longer be typed
IP_LIMIT = 30  # code attempts per IP per hour, right or wrong
GLOBAL_ALERT = 2000  # refused attempts across the service per hour: a WARNING each time
LINK_BYTES = 24  # 192 bits in the QR link
PREFIX_TRIES = 20  # random prefixes tried before giving up on making a share
REFUSED_SCOPE = "share_refused"  # the operator's counter (core.throttle), one row per hour

log = logging.getLogger(__name__)


class NoFreePrefix(RuntimeError):
    """No unused prefix was found in PREFIX_TRIES tries: the share cannot be made now."""


def new_share_secrets() -> tuple[str, str, str]:
    """(code as printed, prefix, link token). The prefix is unique among shares ever made; a
    bounded number of random tries, then NoFreePrefix (the caller says so, cleanly)."""
    for _ in range(PREFIX_TRIES):
        code = codes.activation_code(3, CODE_GROUP)
        prefix = code[:CODE_GROUP]
        if db.session.scalar(select(Share.id).where(Share.prefix == prefix)) is None:
            return code, prefix, secrets.token_urlsafe(LINK_BYTES)
    log.error("No free share prefix in %d tries: the prefix space is filling up", PREFIX_TRIES)
    raise NoFreePrefix()


def code_hash(code: str) -> str:
    return codes.keyed_hash(code, "share-code")


def link_hash(token: str) -> str:
    return codes.keyed_hash(token, "share-link")


def redeem(ip: str | None, code: str | None = None, token: str | None = None):
    """The live share a code or a link opens, or None.

    Every attempt is counted per IP before anything is checked. A link opens its live share
    whatever its sender's count (192 bits: nothing to guess), locked code or not. A code from
    an address over its cap is refused unchecked; otherwise a wrong secret for an existing
    prefix counts against that share in one atomic UPDATE that also locks typing its code at
    the limit (exact under parallel requests; the one request that locks it tells the holder).
    The same work runs whether the prefix exists or not; the caller answers every None the
    same way (wrong, expired, revoked, locked, capped). Refusals are counted for the operator,
    never used to refuse anyone else."""
    now = clock.utcnow()
    capped = throttle.hit("share_ip", ip or "?") > IP_LIMIT
    if token:
        share = db.session.scalar(select(Share).where(Share.link_hash == link_hash(token)))
        ok = share is not None and share.live(now)
    else:
        normalised = codes.normalise(code or "")
        prefix = normalised[:CODE_GROUP]
        given = code_hash(normalised)
        share = db.session.scalar(select(Share).where(Share.prefix == prefix))
        right = share is not None and hmac.compare_digest(given, share.code_hash) and len(normalised) == 3 * CODE_GROUP
        if not right and not capped:
            locked = db.session.execute(
                update(Share)
                .where(Share.prefix == prefix, Share.locked_at.is_(None))
                .values(
                    failed_attempts=Share.failed_attempts + 1,
                    locked_at=case((Share.failed_attempts + 1 >= SHARE_MAX_FAILURES, now), else_=None),
                )
                .returning(Share.locked_at)
                .execution_options(synchronize_session=False)
            ).scalar()
            if share is not None:
                db.session.refresh(share)
                if locked is not None:
                    _code_locked(share)
        ok = right and not capped and share.live(now) and not share.code_locked
    if not ok:
        _refused()
        return None
    return share


def _code_locked(share: Share) -> None:
    """Said once, by the request whose wrong secret locked the code: to the holder, in the log."""
    log.info("Share code locked after %d wrong attempts (share %s)", share.failed_attempts, share.id)
    notify.tell_holder_code_locked(share)


def _refused() -> None:
    """Count a refusal for the operator; warn each time another GLOBAL_ALERT are reached this hour."""
    n = throttle.hit(REFUSED_SCOPE, "*")
    if n % GLOBAL_ALERT == 0:
        log.warning(
            "Share codes: %d refused attempts this hour across the service: someone may be "
            "guessing codes (nobody is refused for it; see flask --app app shares attempts)",
            n,
        )


def refused_this_hour() -> int:
    """The operator's figure: refused code and link attempts in the current hour."""
    return throttle.current(REFUSED_SCOPE, "*")
