"""A professional's new message is also a card among the holder's notifications (the home's
card and the Sharing page's feed), grouped like visits: one card per professional and Paris
day, counting the messages and naming the latest subject, leading to the conversation. The
card is read once every conversation it names is read. The holder's "message" choice
decides: "none" keeps the card muted (kept, not shown); the mail is messaging's own rule."""

from __future__ import annotations

from sqlalchemy import select

from blueprints.messaging.models import Thread
from core import access, clock, notify
from core.access import Viewer
from core.db import db
from core.notify import Notification
from core.people import Professional

KIND = "message"
THREADS_KEPT = 10  # conversations a card remembers (the count goes on)


def tell(thread: Thread, professional: Professional) -> Notification:
    """The day's card of this professional in this space, made or brought up to date."""
    now = clock.utcnow()
    start, end = clock.paris_day_bounds(clock.paris(now).date())
    note = db.session.scalar(
        select(Notification)
        .where(
            Notification.patient_id == thread.patient_id,
            Notification.kind == KIND,
            Notification.actor_rpps == professional.rpps,
            Notification.created_at >= start,
            Notification.created_at < end,
        )
        .order_by(Notification.created_at.desc())
        .limit(1)
    )
    if note is None:
        note = Notification(
            patient_id=thread.patient_id,
            kind=KIND,
            actor_name=professional.display_name,  # as the other cards name people
            actor_rpps=professional.rpps,
            actor_profession=professional.profession,
            created_at=now,
            detail={"identity": "verified", "threads": [], "count": 0},
        )
        db.session.add(note)
    detail = dict(note.detail or {})
    threads = [t for t in detail.get("threads") or () if t != thread.id]
    detail.update(
        threads=[thread.id, *threads][:THREADS_KEPT],
        count=int(detail.get("count") or 0) + 1,
        subject=thread.subject,
    )
    note.detail = detail
    note.last_at = now
    note.muted = notify.preferences(thread.patient_id).get("message") == "none"
    note.read_at = None
    db.session.flush()
    return note


def thread_read(viewer: Viewer, thread: Thread) -> None:
    """The holder read this conversation: the unread cards naming it are read if nothing else
    they name waits (a few rows: the cards of one professional still unread)."""
    if not viewer.is_holder:
        return
    notes = [
        n
        for n in db.session.scalars(
            access.scope(viewer, select(Notification)).where(Notification.kind == KIND, Notification.read_at.is_(None))
        )
        if thread.id in ((n.detail or {}).get("threads") or ())
    ]
    if not notes:
        return
    named = {t for n in notes for t in n.detail["threads"]}
    waiting = set(
        db.session.scalars(
            access.scope_threads(viewer, select(Thread.id)).where(Thread.id.in_(named), Thread.holder_unread > 0)
        )
    )
    now = clock.utcnow()
    for n in notes:
        if not waiting & set(n.detail["threads"]):
            n.read_at = now
    db.session.flush()
