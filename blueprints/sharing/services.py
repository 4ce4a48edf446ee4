"""Shares: made with a code and a link kept only as keyed hashes, followed, ended.

The code and the link token exist in clear only in the answer to the request that made them
(and in the print request that carries them back, checked against the hashes). They never
reach the database, the session or the audit trail.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

import segno
from flask import current_app, url_for
from flask_babel import format_timedelta
from markupsafe import Markup
from sqlalchemy import bindparam, func, select
from werkzeug.routing import BuildError

from blueprints.documents import categories
from blueprints.history import actions
from blueprints.sharing.forms import DURATIONS
from core import access, audit, clock, codes, grants
from core.access import Viewer
from core.audit import AuditEvent
from core.clock import PARIS
from core.compiled import Fixed
from core.db import db, write_intent
from core.grants import Share, ShareUse, typed_name
from core.i18n import gettext as _
from core.people import PROFESSIONS, Patient

RECENT_DAYS = 30
RECENT_ENDED = 10
USE_EVENTS = 300  # traces read per page, newest first, across the shares shown
MAX_LIVE_SHARES = 20  # shares running at once per holder (not ended, not expired)


class TooManyShares(Exception):
    """The holder already has MAX_LIVE_SHARES shares running."""


class NoCodeNow(Exception):
    """No code could be made this time (no free prefix found): try again."""


@dataclass
class Created:
    share: Share
    code: str
    token: str


def expiry(duration: str, until) -> datetime:
    """When a share made now ends: after the chosen length, or at the end of the chosen day (Paris)."""
    if duration == "date":
        end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=PARIS)
        return end.astimezone(UTC)
    return clock.utcnow() + DURATIONS[duration][1]


def live_count(viewer: Viewer, lock: bool = False) -> int:
    """Shares of this holder still running (a locked code still runs: its link works).
    With lock=True, the holder's row is locked first, so parallel creations count one by one
    (PostgreSQL; SQLite serialises every write anyway)."""
    if lock:
        write_intent()
        db.session.execute(select(Patient.id).where(Patient.id == viewer.patient_id).with_for_update())
    now = clock.utcnow()
    return (
        db.session.scalar(
            access.scope(viewer, select(func.count()).select_from(Share)).where(
                Share.revoked_at.is_(None), Share.expires_at > now
            )
        )
        or 0
    )


def create(viewer: Viewer, scope: dict, duration: str, until, can_deposit: bool, label: str | None) -> Created:
    """A new share, unless the holder already has MAX_LIVE_SHARES running (TooManyShares) or
    no code can be made right now (NoCodeNow)."""
    if live_count(viewer, lock=True) >= MAX_LIVE_SHARES:
        raise TooManyShares()
    try:
        code, prefix, token = grants.new_share_secrets()
    except grants.NoFreePrefix:
        raise NoCodeNow() from None
    share = Share(
        patient_id=viewer.patient_id,
        prefix=prefix,
        code_hash=grants.code_hash(code),
        link_hash=grants.link_hash(token),
        scope=scope,
        can_deposit=bool(can_deposit),
        label=(label or "").strip() or None,
        expires_at=expiry(duration, until),
    )
    db.session.add(share)
    db.session.flush()
    audit.record(
        viewer,
        audit.Action.SHARE_CREATED,
        share,
        detail={
            "scope": scope,
            "duration": duration,
            "expires_at": clock.aware(share.expires_at).isoformat(),
            "can_deposit": share.can_deposit,
        },
    )
    return Created(share, code, token)


def get(viewer: Viewer, share_id: str) -> Share:
    return access.get_or_404(viewer, Share, share_id)


def secrets_match(share: Share, code: str, token: str) -> bool:
    """The print request carries the code and the token back: both must hash to this share."""
    normalised = codes.normalise(code or "")
    good_code = hmac.compare_digest(grants.code_hash(normalised), share.code_hash)
    good_link = hmac.compare_digest(grants.link_hash(token or ""), share.link_hash)
    return good_code and good_link and len(normalised) == 3 * grants.CODE_GROUP


def link(token: str | None) -> str | None:
    """The link the QR code carries: the professional's entry page, opened with the token
    (without a token: the page where the code is typed)."""
    try:
        return url_for("pro.access", lien=token, _external=True) if token else url_for("pro.access", _external=True)
    except BuildError:
        current_app.logger.error("pro.access is not registered: the share link cannot be built")
        return None


def qr_svg(data: str | None) -> Markup | None:
    """The QR code as inline SVG (paths only: no style, no script; a white quiet zone)."""
    if not data:
        return None
    qr = segno.make(data, error="m")
    return Markup(
        qr.svg_inline(scale=1, border=4, svgclass="qr", lineclass=None, omitsize=True, dark="#000", light="#fff")
    )


def grouped(code: str) -> list[str]:
    return code.split("-")


def scope_labels(scope: dict | None, can_deposit: bool = False) -> list[str]:
    """What a share covers, in words."""
    scope = scope or {}
    out = []
    if scope.get("documents") == "all":
        out.append(_("All documents visible to professionals"))
    elif scope.get("documents") == "categories":
        names = ", ".join(categories.label(c) for c in scope.get("categories") or ())
        out.append(_("Documents: %(kinds)s", kinds=names))
    if scope.get("summary"):
        out.append(_("My health in summary"))
    if scope.get("measures"):
        out.append(_("My measures"))
    if can_deposit:
        out.append(_("May add documents"))
    return out


def time_left(expires_at: datetime) -> str:
    left = clock.aware(expires_at) - clock.utcnow()
    return format_timedelta(max(left, timedelta(minutes=1)), granularity="minute", threshold=1.1)


@dataclass
class ShareRow:
    id: str
    label: str
    covers: list[str]
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    status: str  # active | revoked | expired
    code_locked: bool = False  # wrong codes were typed: the code no longer opens it, the link does
    left: str = ""
    uses: list[dict] = field(default_factory=list)


def _status(share, now: datetime) -> str:
    """A share, or a row of the page's statement."""
    if share.revoked_at is not None:
        return "revoked"
    return "active" if clock.aware(share.expires_at) > now else "expired"


def listing(viewer: Viewer) -> dict:
    """Active shares and those ended in the last days, each with its uses and what was opened."""
    now = clock.utcnow()
    since = now - timedelta(days=RECENT_DAYS)
    shares = _shares_statement(viewer.kind).all({"patient_id": viewer.patient_id, "since": since})
    rows, ended = [], []
    for s in shares:
        status = _status(s, now)
        end = s.revoked_at or (s.expires_at if status == "expired" else None)
        row = ShareRow(
            s.id,
            s.label or "",
            scope_labels(s.scope, s.can_deposit),
            clock.aware(s.created_at),
            clock.aware(s.expires_at),
            clock.aware(end),
            status,
            s.locked_at is not None,
            time_left(s.expires_at) if status == "active" else "",
        )
        (rows if status == "active" else ended).append(row)
    ended = [r for r in ended if r.ended_at and r.ended_at > since][:RECENT_ENDED]
    _attach_uses(viewer, rows + ended)
    return {"active": rows, "ended": ended}


def _attach_uses(viewer: Viewer, rows: list[ShareRow]) -> None:
    ids = [r.id for r in rows]
    if not ids:
        return
    params = {"patient_id": viewer.patient_id, "ids": ids}
    uses = _uses_statement(viewer.kind).all(params)
    events = _use_events_statement(viewer.kind).all(params)
    by_share = {r.id: r for r in rows}
    for use in uses:
        opened = [
            {"at": clock.aware(e.at), "what": actions.sentence(e.action, e.target_type, e.target_label, e.detail)}
            for e in events
            if e.grant_id == use.share_id and e.actor_id == use.id
        ]
        by_share[use.share_id].uses.append(
            {
                "name": typed_name(use.given_name, use.family_name),
                "profession": str(PROFESSIONS.get(use.profession, use.profession)),
                "rpps": use.rpps,
                "at": clock.aware(use.started_at),
                "opened": opened,
            }
        )


@lru_cache(maxsize=8)
def _shares_statement(viewer_kind: str) -> Fixed:
    """The page's statements, built once per kind of viewer (docs/performance.md, 48)."""
    columns = (Share.id, Share.label, Share.scope, Share.can_deposit, Share.created_at, Share.expires_at)
    return Fixed(
        access.scope(access.kind_gate(viewer_kind), select(*columns, Share.revoked_at, Share.locked_at))
        .where(Share.expires_at > bindparam("since"))
        .order_by(Share.created_at.desc())
    )


@lru_cache(maxsize=8)
def _uses_statement(viewer_kind: str) -> Fixed:
    columns = (ShareUse.id, ShareUse.share_id, ShareUse.given_name, ShareUse.family_name, ShareUse.profession)
    return Fixed(
        access.scope(access.kind_gate(viewer_kind), select(*columns, ShareUse.rpps, ShareUse.started_at))
        .where(ShareUse.share_id.in_(bindparam("ids", expanding=True)))
        .order_by(ShareUse.started_at.desc())
    )


@lru_cache(maxsize=8)
def _use_events_statement(viewer_kind: str) -> Fixed:
    columns = (AuditEvent.at, AuditEvent.action, AuditEvent.target_type, AuditEvent.target_label, AuditEvent.detail)
    return Fixed(
        access.scope(access.kind_gate(viewer_kind), select(*columns, AuditEvent.grant_id, AuditEvent.actor_id))
        .where(AuditEvent.grant_id.in_(bindparam("ids", expanding=True)), AuditEvent.actor_type != "holder")
        # id + 0: SQLite would read the space's whole trail in id order to spare the sort of a few rows
        .order_by((AuditEvent.id + 0).desc())
        .limit(USE_EVENTS)
    )


def record_printed(viewer: Viewer, share: Share) -> None:
    """The slip of a new share was printed: the holder keeps its code (the trace has no secret)."""
    audit.record(viewer, audit.Action.SHARE_PRINTED, share)


def was_printed(viewer: Viewer, share: Share) -> bool:
    return (
        db.session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.patient_id == viewer.patient_id,
                AuditEvent.action == "share_printed",
                AuditEvent.target_id == share.id,
            )
            .limit(1)
        )
        is not None
    )


def revoke(viewer: Viewer, share: Share) -> bool:
    if share.revoked_at is not None:
        return False
    share.revoked_at = clock.utcnow()
    audit.record(viewer, audit.Action.SHARE_REVOKED, share, detail={"scope": share.scope})
    return True


def revoke_all(viewer: Viewer) -> int:
    """End every share still running, with one trace for all of them."""
    now = clock.utcnow()
    live = db.session.scalars(
        access.scope(viewer, select(Share)).where(Share.revoked_at.is_(None), Share.expires_at > now)
    ).all()
    for share in live:
        share.revoked_at = now
    audit.record(viewer, audit.Action.SHARES_REVOKED_ALL, detail={"count": len(live), "ids": [s.id for s in live]})
    return len(live)
