"""The holder's notifications: who reached the space, read on the sharing page, and the
"this wasn't expected" flag that leads straight to ending that access and blocking that person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from babel.lists import format_list
from flask import url_for
from sqlalchemy import bindparam, func, select, update

from blueprints.sharing.professionals import profession_label
from core import access, audit, clock
from core.access import Viewer
from core.audit import AuditEvent
from core.compiled import Fixed
from core.db import db, write_intent
from core.formatting import moment
from core.grants import Grant, Share
from core.i18n import current_locale, gettext as _, lazy_gettext as _l, ngettext
from core.notify import Notification

LIST_SIZE = 30
SEEN_EVENTS = 2000  # trail rows read to tell what the listed cards' people consulted


@dataclass
class NoticeRow:
    id: str
    kind: str
    sentence: str
    actor: str
    profession: str
    rpps: str
    at: datetime  # the first activity of the card
    unread: bool
    flagged: bool
    last_at: datetime | None = None  # the latest, when there were several visits
    visits: int = 0
    alarm: bool = False
    first: bool = False  # the first visit of someone who never reached this space before
    identity: str = ""  # verified | typed
    identity_label: str = ""
    reason: str = ""  # an emergency access's reason
    # what the holder can do about it, once flagged
    share_id: str | None = None  # a share still running
    grant_id: str | None = None  # a grant still running
    can_block: bool = False
    link: str | None = None  # an appointment's page (agenda notices)


IDENTITY_LABELS = {
    "verified": _l("verified professional account"),
    "typed": _l("name given by the person, not verified"),
}


def _what(kind: str, detail: dict, seen: dict) -> list[str]:
    """What this person did that day, in pieces of one sentence."""
    parts = []
    documents = len(seen.get("documents", ()))
    if documents:
        parts.append(ngettext("consulted %(num)d document", "consulted %(num)d documents", documents))
    if "summary" in seen.get("pages", ()):
        parts.append(_("consulted your health summary"))
    if {"measures", "measure"} & seen.get("pages", set()):
        parts.append(_("consulted your measures"))
    titles = [t for t in detail.get("deposits") or () if t]
    count = max(int(detail.get("deposit_count") or 0), len(titles))
    for title in titles[:2]:
        parts.append(_("added “%(title)s”", title=title))
    if count > 2:
        parts.append(ngettext("added %(num)d other document", "added %(num)d other documents", count - 2))
    elif count and not titles:
        parts.append(ngettext("added %(num)d document", "added %(num)d documents", count))
    elif kind == "deposit" and not count:
        parts.append(_("added a document"))
    return parts


AGENDA_KINDS = ("appointment", "reminder")  # written by blueprints/agenda
MESSAGE_KIND = "message"  # written by blueprints/messaging (cards.py)


def _message_sentence(actor: str, detail: dict) -> str:
    count, subject = int(detail.get("count") or 1), detail.get("subject") or ""
    return ngettext(
        "%(name)s wrote to you: “%(subject)s”",
        "%(name)s wrote to you %(num)d times, lately: “%(subject)s”",
        count,
        name=actor,
        subject=subject,
    )


EXPORT_KINDS = ("export_ready", "export_failed")  # written by blueprints/export


def _agenda_sentence(kind: str, actor: str, detail: dict) -> str:
    try:
        when = moment(datetime.fromisoformat(detail.get("at") or ""))
    except ValueError:
        when = ""
    if kind == "reminder":
        return _("Reminder: your appointment with %(name)s, %(when)s", name=actor, when=when)
    return {
        "proposed": lambda: _("%(name)s proposes an appointment: %(when)s", name=actor, when=when),
        "reproposed": lambda: _("%(name)s proposes another time: %(when)s", name=actor, when=when),
        "confirmed": lambda: _("%(name)s confirmed your appointment: %(when)s", name=actor, when=when),
    }.get(detail.get("event"), lambda: _("%(name)s cancelled the appointment: %(when)s", name=actor, when=when))()


def _sentence(kind: str, actor: str, detail: dict | None = None, seen: dict | None = None) -> str:
    detail, seen = detail or {}, seen or {}
    if kind in AGENDA_KINDS:
        return _agenda_sentence(kind, actor, detail)
    if kind == MESSAGE_KIND:
        return _message_sentence(actor, detail)
    if kind in EXPORT_KINDS:
        if kind == "export_ready":
            return _("The copy of all your data is ready: you can download it for 7 days.")
        return _("The copy of all your data could not be prepared: you can start it again.")
    if kind == "code_locked":
        label = str(detail.get("label") or "")
        if label:
            return _(
                "Wrong codes were typed for your share “%(label)s”: its code can no longer be typed, "
                "its QR code link still works.",
                label=label,
            )
        return _(
            "Wrong codes were typed for one of your shares: its code can no longer be typed, "
            "its QR code link still works."
        )
    parts = _what(kind, detail, seen)
    consulted = bool(seen.get("documents") or seen.get("pages", set()) - {"overview", "documents"})
    if kind == "emergency":
        opened = _("opened your space in an emergency")
    elif not parts or (int(detail.get("visits") or 0) and not consulted):
        opened = _("opened your space")  # visits with nothing more than the first page
    else:
        opened = None
    if opened:
        parts.insert(0, opened)
    return _("%(name)s %(what)s", name=actor, what=format_list(parts, locale=current_locale()))


def _seen(viewer: Viewer, notes: list[Notification]) -> dict[str, dict]:
    """What each card's person consulted that day, read from the access trail (one query): the
    documents they opened and the pages they saw, by share, grant or emergency access."""
    grant_ids = {g for n in notes for g in _grants(n)}
    if not grant_ids:
        return {}
    since = min(clock.paris_day_bounds(clock.paris(n.created_at).date())[0] for n in notes)
    params = {"patient_id": viewer.patient_id, "grant_ids": sorted(grant_ids), "since": since}
    events = _seen_statement(viewer.kind).all(params)
    out: dict[str, dict] = {}
    for n in notes:
        day = clock.paris(n.created_at).date()
        grants = set(_grants(n))
        seen = {"documents": set(), "pages": set()}
        for e in events:
            if e.grant_id in grants and e.actor_name == n.actor_name and clock.paris(e.at).date() == day:
                page = (e.detail or {}).get("page")
                if page == "document" and e.target_id:
                    seen["documents"].add(e.target_id)
                elif page:
                    seen["pages"].add(page)
        out[n.id] = seen
    return out


@lru_cache(maxsize=8)
def _seen_statement(kind: str) -> Fixed:
    """Built and compiled once per kind of viewer, gated like _latest_statement(); the ids are
    one expanding parameter."""
    gate = access.kind_gate(kind)
    return Fixed(
        access.scope(
            gate,
            select(AuditEvent.at, AuditEvent.grant_id, AuditEvent.actor_name, AuditEvent.target_id, AuditEvent.detail),
        )
        .where(
            AuditEvent.grant_id.in_(bindparam("grant_ids", expanding=True)),
            AuditEvent.action == "record_viewed",
            AuditEvent.at >= bindparam("since"),
        )
        .order_by(AuditEvent.id.desc())
        .limit(SEEN_EVENTS)
    )


def _grants(note: Notification) -> list[str]:
    return list((note.detail or {}).get("grants") or ([note.grant_id] if note.grant_id else []))


def _identities(viewer: Viewer, notes: list[Notification]) -> dict[str, str | None]:
    """Cards made before identities were kept: a share id means a code, so a typed name."""
    missing = sorted({n.grant_id for n in notes if not (n.detail or {}).get("identity") and n.grant_id})
    params = {"patient_id": viewer.patient_id, "ids": missing}
    shares = {r.id for r in _shares_statement(viewer.kind).all(params)} if missing else set()
    return {
        n.id: None
        if n.kind == "code_locked" or n.kind in EXPORT_KINDS
        # nobody came in: no name to vouch for
        else (n.detail or {}).get("identity") or ("typed" if n.grant_id in shares else "verified")
        for n in notes
    }


@lru_cache(maxsize=8)
def _shares_statement(kind: str) -> Fixed:
    """Which of the ids are this space's shares: built and compiled once per kind of viewer,
    gated like _seen_statement()."""
    gate = access.kind_gate(kind)
    return Fixed(access.scope(gate, select(Share.id)).where(Share.id.in_(bindparam("ids", expanding=True))))


# The list's order, newest activity first: the home card's statement reads the first card of the
# same order, and an index of core.notify serves it (docs/performance.md, 28).
NEWEST_FIRST = (func.coalesce(Notification.last_at, Notification.created_at).desc(), Notification.created_at.desc())


def listing(viewer: Viewer) -> list[NoticeRow]:
    """Newest activity first; whatever was unread is shown as new once, and is read from now on."""
    notes = _listing_statement(viewer.kind).all({"patient_id": viewer.patient_id})
    rows = _rows(viewer, notes)
    unread = [n.id for n in notes if n.read_at is None]
    if unread:
        write_intent()  # a GET: take the write lock up front rather than upgrade a read (SQLite)
        db.session.execute(
            access.scope(viewer, update(Notification))
            .where(Notification.id.in_(unread))
            .values(read_at=clock.utcnow())
            .execution_options(synchronize_session=False)
        )
    return rows


def latest(viewer: Viewer) -> tuple[int, NoticeRow | None]:
    """For the home card: how many are new, and the one to show: an unread alarm (emergency,
    someone new) before anything else, so six routine visits never hide it. One statement,
    built once per kind of viewer; no shown card means nothing unread either."""
    if viewer.patient_id is None:
        return 0, None
    note = _latest_statement(viewer.kind).first({"patient_id": viewer.patient_id})
    if note is None:
        return 0, None
    return note.unread, _rows(viewer, [note])[0]


@lru_cache(maxsize=8)
def _latest_statement(kind: str) -> Fixed:
    """The card to show and the unread count in one row. The patient filter is the gate's:
    access.scope() for a viewer of this kind whose patient is the :patient_id parameter."""
    gate = access.kind_gate(kind)
    unread = (
        access.scope(gate, select(func.count()).select_from(Notification))
        .where(Notification.muted.is_(False), Notification.read_at.is_(None))
        .scalar_subquery()
    )

    def newest(*conditions):
        # the list's first card, read from the index in that order (never the whole list sorted)
        return (
            access.scope(gate, select(Notification.id))
            .where(Notification.muted.is_(False), *conditions)
            .order_by(*NEWEST_FIRST)
            .limit(1)
            .scalar_subquery()
        )

    shown = func.coalesce(newest(Notification.read_at.is_(None), Notification.alarm.is_(True)), newest())
    columns = [c for c in Notification.__table__.c if c.key != "patient_id"]
    return Fixed(access.scope(gate, select(*columns, unread.label("unread"))).where(Notification.id == shown))


@lru_cache(maxsize=8)
def _listing_statement(kind: str) -> Fixed:
    """Shown cards (not those the holder chose not to hear of), by latest activity: built once
    per kind of viewer (docs/performance.md, 48)."""
    gate = access.kind_gate(kind)
    columns = [c for c in Notification.__table__.c if c.key != "patient_id"]
    stmt = access.scope(gate, select(*columns)).where(Notification.muted.is_(False))
    return Fixed(stmt.order_by(*NEWEST_FIRST).limit(LIST_SIZE))


def _rows(viewer: Viewer, notes: list[Notification]) -> list[NoticeRow]:
    seen, identities = _seen(viewer, notes), _identities(viewer, notes)
    return [_row(viewer, n, seen.get(n.id), identities.get(n.id)) for n in notes]


def _row(viewer: Viewer, note: Notification, seen: dict | None = None, identity: str | None = None) -> NoticeRow:
    actor = note.actor_name or _("A professional")
    detail = note.detail or {}
    if identity is None:
        identity = _identities(viewer, [note])[note.id]
    if seen is None:
        seen = _seen(viewer, [note]).get(note.id)
    last = clock.aware(note.last_at) if note.last_at else None
    row = NoticeRow(
        note.id,
        note.kind,
        _sentence(note.kind, actor, detail, seen),
        actor,
        profession_label(note.actor_profession),
        note.actor_rpps or "",
        clock.aware(note.created_at),
        note.read_at is None,
        note.flagged_at is not None,
        last_at=last if last and last != clock.aware(note.created_at) else None,
        visits=int(detail.get("visits") or 0),
        alarm=bool(note.alarm),
        first=bool(detail.get("first")),
        identity=identity,
        identity_label=str(IDENTITY_LABELS.get(identity, "")),
        reason=(detail.get("reason") or "") if note.kind == "emergency" else "",
    )
    if note.kind in EXPORT_KINDS:  # the way on is the export's page
        row.link = url_for("export.index")
    elif note.kind in AGENDA_KINDS:  # nothing to flag: the way on is the appointment
        row.link = url_for("agenda.show", appt_id=detail["appointment"]) if detail.get("appointment") else None
    elif note.kind == MESSAGE_KIND:  # the latest conversation; the others are in Messages
        threads = detail.get("threads") or ()
        row.link = url_for("messaging.thread", thread_id=threads[0]) if threads else url_for("messaging.index")
    elif note.kind == "code_locked":  # nobody opened anything: the way out is ending that share
        row.share_id = _running_share(viewer, note.grant_id)
    elif row.flagged:
        row.share_id, row.grant_id, row.can_block = _remedies(viewer, note)
    return row


def _remedies(viewer: Viewer, note: Notification) -> tuple[str | None, str | None, bool]:
    """The share or grant behind this card if it still runs, and whether its author can be blocked."""
    share_id = grant_id = None
    ids = _grants(note)
    if ids:
        now = clock.utcnow()
        for share in db.session.scalars(access.scope(viewer, select(Share)).where(Share.id.in_(ids))):
            if share.live(now):
                share_id = share.id
        grant_id = db.session.scalar(
            access.scope(viewer, select(Grant.id)).where(Grant.id.in_(ids), Grant.ended_at.is_(None)).limit(1)
        )
    can_block = bool(note.actor_rpps) and not access.blocked(viewer.patient_id, note.actor_rpps)
    return share_id, grant_id, can_block


def _running_share(viewer: Viewer, share_id: str | None) -> str | None:
    if not share_id:
        return None
    share = db.session.scalar(access.scope(viewer, select(Share)).where(Share.id == share_id))
    return share.id if share is not None and share.live(clock.utcnow()) else None


def get(viewer: Viewer, note_id: str) -> Notification:
    return access.get_or_404(viewer, Notification, note_id)


def flag(viewer: Viewer, note: Notification) -> NoticeRow:
    """Mark an access as unexpected, trace it, and say what can be done about it."""
    if note.flagged_at is None:
        note.flagged_at = clock.utcnow()
        note.read_at = note.read_at or note.flagged_at
        audit.record(
            viewer,
            audit.Action.ACCESS_FLAGGED,
            note,
            target_label=note.actor_name,
            detail={"grant_id": note.grant_id, "kind": note.kind},
        )
    return _row(viewer, note)


def row(viewer: Viewer, note: Notification) -> NoticeRow:
    return _row(viewer, note)
