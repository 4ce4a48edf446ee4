"""Secure messaging between a holder and professionals with an account: who may write to whom
(core.access), threads, messages, read receipts, unread counts, archive, search, closing,
and refusing new conversations. Attachments are in attachments.py.

Every query on threads goes through access.scope_threads(); services flush, the request commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import abort, g
from sqlalchemy import bindparam, func, select, tuple_, update

from blueprints.documents.models import fold
from blueprints.messaging import attachments, cards
from blueprints.messaging.models import Message, Thread
from blueprints.pro.services import pro_name
from blueprints.sharing import professionals
from core import access, audit, clock, notify
from core.access import Viewer
from core.compiled import Fixed
from core.db import db, write_intent
from core.grants import Grant, MessageRefusal, ShareUse
from core.people import Account, Patient, Professional, patient_display_name, profession_label

PAGE_SIZE = 30
SUBJECT_MAX, BODY_MAX = 200, 5000


class Refused(Exception):
    """What the person asked is not allowed (who they write to, a closed thread): said plainly."""


# --------------------------------------------------------------------------- reading


def _side(viewer: Viewer) -> str:
    return "holder" if viewer.is_holder else "professional"


def unread_count(viewer: Viewer) -> int:
    """Unread messages across the viewer's threads: what the navigation polls, one indexed read
    (a page whose home card already counted them reads that count)."""
    known = g.get("messaging_unread")
    if known is not None:
        return known
    if viewer.is_holder:
        params = {"patient_id": viewer.patient_id}
    elif viewer.kind == "professional" and viewer.professional is not None and viewer.account_id:
        params = {"professional_id": viewer.professional.id, "rpps": viewer.professional.rpps}
    else:
        return 0
    kind = "holder" if viewer.is_holder else viewer.kind  # a guardian reads the child's side
    return int(_unread_statement(kind).scalar(params) or 0)


@lru_cache(maxsize=4)
def _unread_statement(kind: str):
    """Built once per kind of viewer (building it costs more than running it) and compiled once
    (compiled.Fixed: polled every 30 s by every open page); the gate's scope_threads() still decides
    the rows, for a viewer of this kind whose ids are parameters."""
    gate = Viewer("holder", patient_id=bindparam("patient_id")) if kind == "holder" else access.practice_gate()
    column = Thread.holder_unread if kind == "holder" else Thread.pro_unread
    return Fixed(access.scope_threads(gate, select(func.coalesce(func.sum(column), 0))).where(column > 0))


def summary(viewer: Viewer) -> dict:
    """For the home screen: unread messages and the latest conversation."""
    if viewer.is_holder:
        found = _holder_summary_statement().first({"patient_id": viewer.patient_id})
        latest = _holder_summary_row(found) if found else None
        unread = unread_count(viewer) if found else 0
    elif (pro := access.threads_professional(viewer)) is not None:
        found = _pro_summary_statement().first({"professional_id": pro.id, "rpps": pro.rpps})
        latest = _pro_summary_row(found) if found else None
        unread = int(found.unread) if found else 0
    else:  # what scope_threads() gives anyone else: no conversation
        latest, unread = None, 0
    g.messaging_unread = unread  # the navigation shows the same count
    return {"unread": g.messaging_unread, "latest": latest}


@lru_cache(maxsize=1)
def _holder_summary_statement() -> Fixed:
    """The holder's home card, plain columns, built and compiled once (building it costs more
    than running it); the gate's scope_threads() still decides the rows, the patient being a parameter. The
    newest conversation only, an index seek: its unread count is the poll's statement (a window
    sum over the space's threads read every conversation of the space, 10 ms for 2,000)."""
    gate = Viewer("holder", patient_id=bindparam("patient_id"))
    return Fixed(
        access.scope_threads(
            gate,
            select(
                Thread.id,
                Thread.subject,
                Thread.last_message_at,
                Thread.holder_unread,
                Thread.closed_at,
                Professional.profession,
                Professional.given_name,
                Professional.family_name,
            ).join(Professional, Thread.professional_id == Professional.id),
        )
        .order_by(Thread.last_message_at.desc(), Thread.id.desc())
        .limit(1)
    )


def _holder_summary_row(found) -> dict:
    return {
        "id": found.id,
        "subject": found.subject,
        "with": pro_name(found.profession, f"{found.given_name} {found.family_name}"),
        "with_detail": profession_label(found.profession),
        "birth_date": None,
        "last_message_at": found.last_message_at,
        "unread": found.holder_unread,
        "closed": found.closed_at is not None,
    }


@lru_cache(maxsize=1)
def _pro_summary_statement() -> Fixed:
    """The professional's home card, plain columns, built and compiled once as the holder's
    (docs/performance.md, 78): the newest conversation, with the unread count over all the
    professional's conversations (a window sum, as before)."""
    return Fixed(
        access.scope_threads(
            access.practice_gate(),
            select(
                Thread.id,
                Thread.subject,
                Thread.last_message_at,
                Thread.pro_unread,
                Thread.closed_at,
                Patient.given_names,
                Patient.used_name,
                Patient.family_name,
                Patient.birth_date,
                func.coalesce(func.sum(Thread.pro_unread).over(), 0).label("unread"),
            ).join(Patient, Thread.patient_id == Patient.id),
        )
        .order_by(Thread.last_message_at.desc(), Thread.id.desc())
        .limit(1)
    )


def _pro_summary_row(found) -> dict:
    return {
        "id": found.id,
        "subject": found.subject,
        "with": patient_display_name(found.given_names, found.used_name, found.family_name),
        "with_detail": None,
        "birth_date": found.birth_date,
        "last_message_at": found.last_message_at,
        "unread": found.pro_unread,
        "closed": found.closed_at is not None,
    }


def parse_cursor(raw: str | None) -> tuple[datetime, str] | None:
    if not raw or "~" not in raw:
        return None
    when, _sep, thread_id = raw.partition("~")
    try:
        return clock.aware(datetime.fromisoformat(when)), thread_id[:36]
    except ValueError:
        return None


def inbox(viewer: Viewer, *, q: str | None = None, archived: bool = False, after: str | None = None) -> dict:
    """One page of the viewer's threads, newest activity first (keyset on last message, id);
    every word of `q` must appear in the subject, a name or a message, accents and case aside.
    The first page also counts the threads found."""
    holder = viewer.is_holder
    other = Professional if holder else Patient
    join_on = Thread.professional_id == Professional.id if holder else Thread.patient_id == Patient.id
    stmt = access.scope_threads(viewer, select(Thread, other).join(other, join_on))
    stmt = stmt.where((Thread.holder_archived if holder else Thread.pro_archived).is_(archived))
    q = (q or "").strip()[:100]
    for word in fold(q).split()[:8]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Thread.search_text.like(pattern, escape="\\"))
    cursor = parse_cursor(after)
    # the first page counts what the search finds (said in the page's status region)
    count = None if cursor else db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    if cursor:
        stmt = stmt.where(tuple_(Thread.last_message_at, Thread.id) < tuple_(*cursor))
    found = db.session.execute(
        stmt.order_by(Thread.last_message_at.desc(), Thread.id.desc()).limit(PAGE_SIZE + 1)
    ).all()
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    names: dict = {}  # one professional's name and profession, worded once per page
    rows = [_row(viewer, thread, person, names) for thread, person in found]
    last = found[-1][0] if more and found else None
    return {
        "rows": rows,
        "next_cursor": f"{clock.aware(last.last_message_at).isoformat()}~{last.id}" if last else None,
        "q": q,
        "archived": archived,
        "after": after if cursor else None,
        "count": count,
    }


def _row(viewer: Viewer, thread: Thread, person, names: dict | None = None) -> dict:
    names = {} if names is None else names
    if person.id not in names:
        names[person.id] = (
            _name_of(person),
            profession_label(person.profession) if isinstance(person, Professional) else None,
        )
    name, detail = names[person.id]
    return {
        "id": thread.id,
        "subject": thread.subject,
        "with": name,
        "with_detail": detail,
        "birth_date": person.birth_date if isinstance(person, Patient) else None,
        "last_message_at": thread.last_message_at,
        "unread": thread.holder_unread if viewer.is_holder else thread.pro_unread,
        "closed": thread.closed_at is not None,
    }


def _name_of(person) -> str:
    if isinstance(person, Professional):
        return pro_name(person.profession, person.display_name)
    return person.display_name


def get_thread(viewer: Viewer, thread_id: str) -> Thread:
    """The thread if this viewer may read it; 404 otherwise (another space, another professional, blocked)."""
    thread = db.session.scalar(access.scope_threads(viewer, select(Thread).where(Thread.id == str(thread_id)[:36])))
    if thread is None:
        abort(404)
    return thread


def message_count(thread: Thread) -> int:
    return db.session.scalar(select(func.count()).select_from(Message).where(Message.thread_id == thread.id)) or 0


def _holder_wrote_recently(thread: Thread) -> bool:
    last = thread.last_holder_message_at
    return last is not None and clock.aware(last) >= clock.utcnow() - timedelta(days=access.CODE_CONTACT_DAYS)


def may_reply(viewer: Viewer, thread: Thread, professional: Professional) -> bool:
    return access.may_reply(
        viewer,
        thread.patient_id,
        professional,
        closed=thread.closed_at is not None,
        holder_wrote_recently=_holder_wrote_recently(thread),
    )


def open_thread(viewer: Viewer, thread: Thread) -> dict:
    """The conversation as its page shows it. Opening it marks the other side's messages read
    (their read receipts) and clears this side's unread count; a professional's reading is traced."""
    now = clock.utcnow()
    side = _side(viewer)
    professional = db.session.get(Professional, thread.professional_id)
    patient = db.session.get(Patient, thread.patient_id)
    messages = list(
        db.session.scalars(select(Message).where(Message.thread_id == thread.id).order_by(Message.created_at))
    )
    unread_ids = [m.id for m in messages if m.sender != side and m.read_at is None]
    if unread_ids or (thread.holder_unread if viewer.is_holder else thread.pro_unread):
        write_intent()  # a page or a poll (GET) that writes: take the write lock first, waiting for it
        db.session.execute(
            update(Message)
            .where(Message.id.in_(unread_ids))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        for m in messages:
            if m.id in unread_ids:
                m.read_at = now
        if viewer.is_holder:
            thread.holder_unread = 0
            db.session.flush()
            cards.thread_read(viewer, thread)
        else:
            thread.pro_unread = 0
    if not viewer.is_holder:
        audit.record(viewer, audit.Action.MESSAGE_THREAD_READ, thread)
    db.session.flush()
    pro_label = pro_name(professional.profession, professional.display_name)
    return {
        "id": thread.id,
        "subject": thread.subject,
        "closed_at": thread.closed_at,
        "archived": thread.holder_archived if viewer.is_holder else thread.pro_archived,
        "with": pro_label if viewer.is_holder else patient.display_name,
        "with_detail": profession_label(professional.profession) if viewer.is_holder else None,
        "birth_date": None if viewer.is_holder else patient.birth_date,
        "professional_id": professional.id,
        "rpps": professional.rpps if viewer.is_holder else None,
        "patient_id": patient.id,
        "can_reply": may_reply(viewer, thread, professional),
        "can_close": not viewer.is_holder and thread.closed_at is None,
        "refused": viewer.is_holder and access.refuses_threads(patient.id, professional.id),
        "blocked": viewer.is_holder and access.blocked(patient.id, professional.rpps),
        "messages": [
            {
                "id": m.id,
                "mine": m.sender == side,
                "author": (patient.display_name if m.sender == "holder" else pro_label),
                "body": m.body,
                "at": m.created_at,
                "read_at": m.read_at,
                "attachments": [attachments.row(viewer, a) for a in m.attachments],
            }
            for m in messages
        ],
    }


# --------------------------------------------------------------------------- whom one may write to


@dataclass
class Contact:
    id: str  # the professional's id (for a holder) or the patient's id (for a professional)
    name: str
    detail: str


def may_start_any(viewer: Viewer) -> bool:
    """Whether this viewer has anyone to start a conversation with (the inbox's button), in a
    read or two: a live grant; for a holder, a professional who wrote; for a professional, a
    record opened by code lately."""
    if viewer.is_holder:
        granted = select(Grant.id).where(Grant.patient_id == viewer.patient_id, Grant.ended_at.is_(None))
        wrote = access.scope(viewer, select(Message.id)).where(Message.sender == "professional")
    else:
        pro = viewer.professional
        since = clock.utcnow() - timedelta(days=access.CODE_CONTACT_DAYS)
        granted = select(Grant.id).where(Grant.professional_id == pro.id, Grant.ended_at.is_(None))
        wrote = select(ShareUse.id).where(ShareUse.rpps == pro.rpps, ShareUse.started_at >= since)
    return any(db.session.scalar(stmt.limit(1)) is not None for stmt in (granted, wrote))


def contacts(viewer: Viewer) -> list[Contact]:
    """Whom this viewer may start a conversation with, by name."""
    if viewer.is_holder:
        return _holder_contacts(viewer)
    return _pro_contacts(viewer)


def _holder_contacts(viewer: Viewer) -> list[Contact]:
    """Professionals with a live grant, and those who wrote before; not the blocked ones."""
    granted = select(Grant.professional_id).where(Grant.patient_id == viewer.patient_id, Grant.ended_at.is_(None))
    wrote = (
        access.scope(viewer, select(Message.patient_id))
        .with_only_columns(Thread.professional_id)
        .select_from(Message)
        .join(Thread, Thread.id == Message.thread_id)
        .where(Message.sender == "professional")
    )
    pros = db.session.scalars(
        select(Professional)
        .where(Professional.id.in_(granted.union(wrote).scalar_subquery()))
        .order_by(Professional.family_name, Professional.given_name)
    )
    return [
        Contact(p.id, pro_name(p.profession, p.display_name), profession_label(p.profession))
        for p in pros
        if not access.blocked(viewer.patient_id, p.rpps)
    ]


def _pro_contacts(viewer: Viewer) -> list[Contact]:
    """Patients who granted access, and records opened by code within the contact window; not
    those who blocked this professional or refuse new conversations from them."""
    pro = viewer.professional
    since = clock.utcnow() - timedelta(days=access.CODE_CONTACT_DAYS)
    granted = select(Grant.patient_id).where(Grant.professional_id == pro.id, Grant.ended_at.is_(None))
    by_code = select(ShareUse.patient_id).where(ShareUse.rpps == pro.rpps, ShareUse.started_at >= since)
    refused = select(MessageRefusal.patient_id).where(MessageRefusal.professional_id == pro.id)
    patients = db.session.scalars(
        select(Patient)
        .where(
            Patient.id.in_(granted.union(by_code).scalar_subquery()),
            Patient.id.not_in(refused),
            Patient.status != "closed",
        )
        .order_by(Patient.family_name, Patient.given_names)
    )
    return [
        Contact(p.id, p.display_name, p.birth_date.strftime("%d/%m/%Y"))
        for p in patients
        if not access.blocked(p.id, pro.rpps)
    ]


def _wrote_before(patient_id: str, professional_id: str) -> bool:
    return (
        db.session.scalar(
            select(Message.id)
            .join(Thread, Thread.id == Message.thread_id)
            .where(
                Thread.patient_id == patient_id,
                Thread.professional_id == professional_id,
                Message.sender == "professional",
            )
            .limit(1)
        )
        is not None
    )


# --------------------------------------------------------------------------- writing


def _clean(subject: str | None, body: str | None) -> tuple[str, str]:
    return (subject or "").strip()[:SUBJECT_MAX], (body or "").strip()[:BODY_MAX]


def start_thread(
    viewer: Viewer,
    other_id: str,
    *,
    subject: str,
    body: str,
    uploads: list | None = None,
    document_ids: list[str] | None = None,
) -> Thread:
    """A new conversation with `other_id` (a professional's id for a holder, a patient's id
    for a professional), if core.access allows it; its first message, with any attachments."""
    if viewer.is_holder:
        patient_id, professional = viewer.patient_id, db.session.get(Professional, str(other_id)[:36])
    else:
        patient_id, professional = str(other_id)[:36], viewer.professional
        if db.session.get(Patient, patient_id) is None:
            raise Refused()
    wrote = professional is not None and _wrote_before(patient_id, professional.id)
    if not access.may_start_thread(viewer, patient_id, professional, wrote_before=wrote):
        raise Refused()
    subject, body = _clean(subject, body)
    stored = attachments.store(viewer, patient_id, uploads or [], document_ids or [])
    now = clock.utcnow()
    thread = Thread(
        patient_id=patient_id,
        professional_id=professional.id,
        subject=subject,
        started_by=_side(viewer),
        created_at=now,
        last_message_at=now,
        holder_unread=0,
        pro_unread=0,
    )
    db.session.add(thread)
    db.session.flush()
    _add_message(viewer, thread, professional, body, stored)
    return thread


def reply(
    viewer: Viewer, thread: Thread, *, body: str, uploads: list | None = None, document_ids: list[str] | None = None
) -> Message:
    professional = db.session.get(Professional, thread.professional_id)
    if not may_reply(viewer, thread, professional):
        raise Refused()
    _subject, body = _clean("", body)
    stored = attachments.store(viewer, thread.patient_id, uploads or [], document_ids or [])
    return _add_message(viewer, thread, professional, body, stored)


def _add_message(viewer: Viewer, thread: Thread, professional, body: str, stored: list) -> Message:
    """The message, its attachments (already stored), the counters, the trace, and telling the
    other side."""
    side = _side(viewer)
    now = clock.utcnow()
    message = Message(thread_id=thread.id, patient_id=thread.patient_id, sender=side, body=body, created_at=now)
    db.session.add(message)
    db.session.flush()
    files = attachments.attach(message, stored)
    first_unread = (thread.pro_unread if viewer.is_holder else thread.holder_unread) == 0
    if viewer.is_holder:
        thread.pro_unread = (thread.pro_unread or 0) + 1
        thread.last_holder_message_at = now
        thread.pro_archived = False
    else:
        thread.holder_unread = (thread.holder_unread or 0) + 1
        thread.holder_archived = False
    thread.last_message_at = now
    patient = db.session.get(Patient, thread.patient_id)
    words = [thread.subject, patient.display_name, professional.display_name, body, *(a.name for a in files)]
    thread.search_text = (thread.search_text or "") + " " + " ".join(fold(w) for w in words if w)
    db.session.flush()
    audit.record(viewer, audit.Action.MESSAGE_SENT, thread, detail={"attachments": len(files), "from": side})
    if not viewer.is_holder:
        cards.tell(thread, professional)
    if first_unread:
        _tell(viewer, thread, patient, professional)
    return message


def _tell(viewer: Viewer, thread: Thread, patient: Patient, professional: Professional) -> None:
    """A mail to the other side when this message is their first unread one in the thread: it
    says who wrote and the subject, never the text (mail is not a secure channel)."""
    if viewer.is_holder:
        account = db.session.scalar(select(Account).where(Account.professional_id == professional.id))
        if account is not None:
            notify.tell_of_message(account, patient.display_name, thread.subject)
        return
    account = db.session.scalar(select(Account).where(Account.patient_id == patient.id, Account.role == "holder"))
    if account is not None and notify.preferences(patient.id).get("message") == "mail":
        notify.tell_of_message(account, pro_name(professional.profession, professional.display_name), thread.subject)


def close_thread(viewer: Viewer, thread: Thread) -> None:
    """A professional ends a conversation: it stays readable; nobody writes in it any more."""
    if viewer.is_holder or thread.closed_at is not None:
        raise Refused()
    thread.closed_at = clock.utcnow()
    audit.record(viewer, audit.Action.MESSAGE_THREAD_CLOSED, thread)
    db.session.flush()


def archive(viewer: Viewer, thread: Thread, archived: bool) -> None:
    """Out of (or back into) this side's inbox; a new message brings it back."""
    if viewer.is_holder:
        thread.holder_archived = archived
    else:
        thread.pro_archived = archived
    db.session.flush()


def set_refusal(viewer: Viewer, professional_id: str, refuse: bool) -> None:
    """The holder refuses (or accepts again) new conversations from one professional."""
    access.require(viewer, "messages", "write")
    if not viewer.is_holder:
        abort(403)
    pro = db.session.get(Professional, str(professional_id)[:36])
    if pro is None:
        abort(404)
    found = db.session.scalar(
        select(MessageRefusal).where(
            MessageRefusal.patient_id == viewer.patient_id, MessageRefusal.professional_id == pro.id
        )
    )
    if refuse and found is None:
        db.session.add(MessageRefusal(patient_id=viewer.patient_id, professional_id=pro.id))
        audit.record(viewer, audit.Action.MESSAGES_REFUSED, target_label=pro.display_name)
    elif not refuse and found is not None:
        db.session.delete(found)
        audit.record(viewer, audit.Action.MESSAGES_ALLOWED, target_label=pro.display_name)
    db.session.flush()


def block(viewer: Viewer, thread: Thread) -> None:
    """The holder blocks the thread's professional, as Sharing does (grants.Block, by RPPS)."""
    pro = db.session.get(Professional, thread.professional_id)
    if not access.blocked(viewer.patient_id, pro.rpps):
        professionals.block(viewer, pro.rpps, pro_name(pro.profession, pro.display_name))


def professional_of(viewer: Viewer, professional_id: str) -> Professional:
    """A professional the holder has a thread with (the refusal switch lives on that thread)."""
    found = db.session.scalar(
        access.scope_threads(viewer, select(Thread.id))
        .where(Thread.professional_id == str(professional_id)[:36])
        .limit(1)
    )
    if found is None:
        abort(404)
    return db.session.get(Professional, professional_id)
