"""The holder's notifications: who reached the space, read on the sharing page, and the
"this wasn't expected" flag that leads straight to ending that access and blocking that person."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from blueprints.sharing.professionals import profession_label
from core import access, audit, clock
from core.access import Viewer
from core.db import db, write_intent
from core.grants import Grant, Share
from core.notify import Notification

LIST_SIZE = 30


@dataclass
class NoticeRow:
    id: str
    kind: str
    sentence: str
    actor: str
    profession: str
    rpps: str
    at: datetime
    unread: bool
    flagged: bool
    # what the holder can do about it, once flagged
    share_id: str | None = None      # a share still running
    grant_id: str | None = None      # a grant still running
    can_block: bool = False


def _sentence(kind: str, actor: str, label: str = "") -> str:
    if kind == "code_locked":
        if label:
            return _("Wrong codes were typed for your share “%(label)s”: its code can no longer be typed, "
                     "its QR code link still works.", label=label)
        return _("Wrong codes were typed for one of your shares: its code can no longer be typed, "
                 "its QR code link still works.")
    if kind == "emergency":
        return _("%(name)s opened your space in an emergency", name=actor)
    if kind == "deposit":
        return _("%(name)s added a document to your space", name=actor)
    return _("%(name)s opened your space", name=actor)


def listing(viewer: Viewer) -> list[NoticeRow]:
    """Newest first; whatever was unread is shown as new once, and is read from now on."""
    notes = db.session.scalars(access.scope(viewer, select(Notification), Notification)
                               .order_by(Notification.created_at.desc()).limit(LIST_SIZE)).all()
    rows = [_row(viewer, n) for n in notes]
    unread = [n.id for n in notes if n.read_at is None]
    if unread:
        write_intent()  # a GET: take the write lock up front rather than upgrade a read (SQLite)
        db.session.execute(access.scope(viewer, update(Notification), Notification)
                           .where(Notification.id.in_(unread)).values(read_at=clock.utcnow())
                           .execution_options(synchronize_session=False))
    return rows


def _row(viewer: Viewer, note: Notification) -> NoticeRow:
    actor = note.actor_name or _("A professional")
    label = str((note.detail or {}).get("label") or "")
    row = NoticeRow(note.id, note.kind, _sentence(note.kind, actor, label), actor,
                    profession_label(note.actor_profession), note.actor_rpps or "", clock.aware(note.created_at),
                    note.read_at is None, note.flagged_at is not None)
    if note.kind == "code_locked":  # nobody opened anything: the way out is ending that share
        row.share_id = _running_share(viewer, note.grant_id)
    elif row.flagged:
        row.share_id, row.grant_id, row.can_block = _remedies(viewer, note)
    return row


def _remedies(viewer: Viewer, note: Notification) -> tuple[str | None, str | None, bool]:
    """The share or grant behind this access if it still runs, and whether its author can be blocked."""
    share_id = grant_id = None
    if note.grant_id:
        share_id = _running_share(viewer, note.grant_id)
        found = db.session.scalar(access.scope(viewer, select(Grant), Grant).where(
            Grant.id == note.grant_id, Grant.ended_at.is_(None)))
        if found is not None:
            grant_id = found.id
    can_block = bool(note.actor_rpps) and not access.blocked(viewer.patient_id, note.actor_rpps)
    return share_id, grant_id, can_block


def _running_share(viewer: Viewer, share_id: str | None) -> str | None:
    if not share_id:
        return None
    share = db.session.scalar(access.scope(viewer, select(Share), Share).where(Share.id == share_id))
    return share.id if share is not None and share.live(clock.utcnow()) else None


def get(viewer: Viewer, note_id: str) -> Notification:
    return access.get_or_404(viewer, Notification, note_id)


def flag(viewer: Viewer, note: Notification) -> NoticeRow:
    """Mark an access as unexpected, trace it, and say what can be done about it."""
    if note.flagged_at is None:
        note.flagged_at = clock.utcnow()
        note.read_at = note.read_at or note.flagged_at
        audit.record(viewer, "access_flagged", note, target_label=note.actor_name,
                     detail={"grant_id": note.grant_id, "kind": note.kind})
    return _row(viewer, note)


def row(viewer: Viewer, note: Notification) -> NoticeRow:
    return _row(viewer, note)

