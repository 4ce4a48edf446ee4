"""The access trail: append-only and chained by a keyed hash, so any change to a past trace shows.

Each event's hash is an HMAC-SHA256, under the audit key (kept outside the database:
CARNET_AUDIT_KEY or instance/keys/audit.key), of its own fields, its position in the chain
(`seq`) and the previous event's hash. Without the key nobody can re-chain the trail after
deleting or changing a trace. Deleting the newest traces leaves a valid shorter chain, so the
head (count, last id, hash) is also anchored outside the database: after every commit that
appended traces, one line is appended and fsynced to the anchor file
(instance/audit/anchor.log), itself sealed by the key. `verify()` walks the chain, names the
first broken link, and checks that the chain still reaches every anchored head.

Appends are serialised (SQLite: the write lock every transaction takes; PostgreSQL: a
transaction-scoped advisory lock) so the chain never forks.

Traces written before the chain was keyed (`seq` NULL) were chained with plain SHA-256; the
first keyed event records their head (its prev_hash) and their count (its seq - 1) under the
key, so they can no longer be rewritten either. After a keyed event, an unkeyed one is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from flask import current_app
from sqlalchemy import JSON, Index, Integer, String, bindparam, event as sa_event, func, insert, select, text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock, origin
from core.compiled import Fixed, in_sql
from core.db import Base, _AppSession, db, write_intent

GENESIS = "0" * 64
_LOCK_KEY = 0x6361726E6574  # "carnet"
_APPENDED = "carnet_audit_appended"  # session.info: events appended in the open transaction
ANCHOR_VERSION = "a1"


class Action(StrEnum):
    """Every code a trace is recorded under. The history has a sentence for each member and for
    nothing else (tests/history checks both ways); the value is what the trail stores."""

    # Logging in and the life of the space
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    ACTIVATION_CODE_USED = "activation_code_used"
    ACTIVATION_FAILED = "activation_failed"
    SPACE_ACTIVATED = "space_activated"
    ACTIVATION_LETTER_REQUESTED = "activation_letter_requested"
    LOGIN_UNLOCKED = "login_unlocked"
    REAUTHENTICATED = "reauthenticated"
    REAUTHENTICATION_FAILED = "reauthentication_failed"
    PASSWORD_CHANGED = "password_changed"
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    PASSKEY_RENAMED = "passkey_renamed"
    SESSION_ENDED = "session_ended"
    SESSIONS_ENDED = "sessions_ended"
    ACCESS_DENIED = "access_denied"
    HISTORY_EXPORTED = "history_exported"
    KIOSK_APPROVED = "kiosk_approved"
    # Documents
    DOCUMENT_ADDED = "document_added"
    DOCUMENT_OPENED = "document_opened"
    DOCUMENT_DOWNLOADED = "document_downloaded"
    DOCUMENT_UPDATED = "document_updated"
    DOCUMENT_HIDDEN = "document_hidden"
    DOCUMENT_SHOWN = "document_shown"
    DOCUMENT_DELETED = "document_deleted"
    # Professionals, shares, emergency
    SHARE_CREATED = "share_created"
    SHARE_PRINTED = "share_printed"
    SHARE_REVOKED = "share_revoked"
    SHARES_REVOKED_ALL = "shares_revoked_all"
    GRANT_CREATED = "grant_created"
    GRANT_ENDED = "grant_ended"
    PROFESSIONAL_BLOCKED = "professional_blocked"
    PROFESSIONAL_UNBLOCKED = "professional_unblocked"
    EMERGENCY_SETTINGS_UPDATED = "emergency_settings_updated"
    NOTIFICATION_PREFERENCES_UPDATED = "notification_preferences_updated"
    ACCESS_FLAGGED = "access_flagged"
    SHARE_CODE_FAILED = "share_code_failed"
    SHARE_OPENED = "share_opened"
    SHARE_SESSION_ENDED = "share_session_ended"
    EMERGENCY_ACCESS = "emergency_access"
    EMERGENCY_ACCESS_REFUSED = "emergency_access_refused"
    RECORD_VIEWED = "record_viewed"
    DOCUMENT_DEPOSITED = "document_deposited"
    # Health profile and measures
    PROFILE_UPDATED = "profile_updated"
    PROFILE_ITEM_ADDED = "profile_item_added"
    PROFILE_ITEM_REMOVED = "profile_item_removed"
    MEASURE_ADDED = "measure_added"
    MEASURE_CORRECTED = "measure_corrected"
    MEASURE_DELETED = "measure_deleted"
    MEASURES_EXPORTED = "measures_exported"
    MEASURES_IMPORT_STARTED = "measures_import_started"
    MEASURES_IMPORTED = "measures_imported"
    # Agenda
    APPOINTMENT_ADDED = "appointment_added"
    APPOINTMENT_UPDATED = "appointment_updated"
    APPOINTMENT_DELETED = "appointment_deleted"
    APPOINTMENT_PROPOSED = "appointment_proposed"
    APPOINTMENT_ACCEPTED = "appointment_accepted"
    APPOINTMENT_DECLINED = "appointment_declined"
    APPOINTMENT_COUNTERED = "appointment_countered"
    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    APPOINTMENT_REPROPOSED = "appointment_reproposed"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    PREVENTION_MARKED = "prevention_marked"
    PREVENTION_SETTINGS_UPDATED = "prevention_settings_updated"
    CALENDAR_FEED_CREATED = "calendar_feed_created"
    CALENDAR_FEED_UPDATED = "calendar_feed_updated"
    CALENDAR_FEED_REVOKED = "calendar_feed_revoked"
    # Secure messaging
    MESSAGE_SENT = "message_sent"
    MESSAGE_THREAD_READ = "message_thread_read"
    MESSAGE_THREAD_CLOSED = "message_thread_closed"
    MESSAGES_REFUSED = "messages_refused"
    MESSAGES_ALLOWED = "messages_allowed"
    # Reimbursements
    REIMBURSEMENTS_IMPORT_STARTED = "reimbursements_import_started"
    REIMBURSEMENTS_IMPORTED = "reimbursements_imported"
    REIMBURSEMENTS_EXPORTED = "reimbursements_exported"
    # "Ma synthèse" and the emergency card
    SUMMARY_PRINTED = "summary_printed"
    SUMMARY_KEPT = "summary_kept"
    # Connected apps
    APP_CONNECTED = "app_connected"
    APP_DISCONNECTED = "app_disconnected"
    APP_PURPOSES_CHANGED = "app_purposes_changed"
    APP_READ = "app_read"
    APP_WROTE = "app_wrote"
    # The life of a space: provisioning, opposition, closure, deletion (blueprints/lifecycle)
    SPACES_PROVISIONED = "spaces_provisioned"
    SPACE_OPPOSED = "space_opposed"
    OPPOSITION_FAILED = "opposition_failed"
    SPACE_OPENED_BY_DEFAULT = "space_opened_by_default"
    SPACE_CLOSED = "space_closed"
    SPACE_REOPENED = "space_reopened"
    SPACE_DELETION_REQUESTED = "space_deletion_requested"
    SPACE_DELETED = "space_deleted"
    SPACE_HANDED_OVER = "space_handed_over"
    EXPORT_PREPARED = "export_prepared"
    EXPORT_DOWNLOADED = "export_downloaded"
    SPACE_IMPORTED = "space_imported"
    # Helpers (proches aidants, blueprints/helpers)
    HELPER_INVITED = "helper_invited"
    HELPER_ACCEPTED = "helper_accepted"
    HELPER_DECLINED = "helper_declined"
    HELPER_SCOPE_CHANGED = "helper_scope_changed"
    HELPER_ENDED = "helper_ended"
    GUARDIAN_ADDED = "guardian_added"
    GUARDIAN_REMOVED = "guardian_removed"


class AuditEvent(Base):
    __tablename__ = "audit_events"
    # A space's history, newest first, page by page (WHERE patient_id = ? AND id < ? ORDER BY id DESC).
    __table_args__ = (
        Index("ix_audit_events_patient_id_id", "patient_id", "id"),
        # what the people of a notice card consulted (sharing.notices._seen): a space's views since a day
        Index("ix_audit_events_patient_action_at", "patient_id", "action", "at"),
        # an account's logins, newest first (the home's "previous login"): without it SQLite read
        # every login of every account through the action's index (35 ms a home visit at 1,000 spaces)
        Index("ix_audit_events_account_action_id", "account_id", "action", "id"),
        # what was done through a space's shares (sharing.services._use_events_statement): found by
        # share, not by reading the space's whole trail newest first (thousands of traces in a few years)
        Index("ix_audit_events_patient_grant_id", "patient_id", "grant_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    # read by space and by account through the indexes above: one alone would repeat them
    patient_id: Mapped[str | None] = mapped_column(String(36))
    account_id: Mapped[str | None] = mapped_column(String(36))
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
    # Position in the chain (1, 2, ...), under the HMAC; NULL for traces from before the key.
    seq: Mapped[int | None] = mapped_column(Integer)


_FIELDS = (
    "at",
    "patient_id",
    "account_id",
    "actor_type",
    "actor_id",
    "actor_name",
    "actor_profession",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "grant_id",
    "ip",
    "device",
    "kiosk",
    "detail",
)


def _payload(event: AuditEvent) -> bytes:
    body = {f: getattr(event, f) for f in _FIELDS}
    body["at"] = clock.aware(event.at).isoformat(timespec="microseconds")
    if event.seq is not None:
        body["seq"] = event.seq
    payload = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return (event.prev_hash + payload).encode()


def _digest(event: AuditEvent, key: bytes) -> str:
    """HMAC-SHA256 under the audit key; plain SHA-256 for a trace from before the key."""
    if event.seq is None:
        return hashlib.sha256(_payload(event)).hexdigest()
    return hmac.new(key, _payload(event), hashlib.sha256).hexdigest()


def audit_key() -> bytes:
    return current_app.config["AUDIT_KEY"]


def key_id(key: bytes) -> str:
    """A short public fingerprint of the key, written in every anchor line: a verification
    with another key says so instead of calling every line forged."""
    return hmac.new(key, b"carnet audit key id", hashlib.sha256).hexdigest()[:16]


def anchor_path() -> Path:
    return Path(current_app.config["AUDIT_ANCHOR_FILE"])


def _lock() -> None:
    write_intent()
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


_HEAD = Fixed(select(AuditEvent.hash, AuditEvent.seq).order_by(AuditEvent.id.desc()).limit(in_sql(1)))
_COLUMNS = tuple(c.name for c in AuditEvent.__table__.c if c.name != "id")
#: A trace is written by one INSERT built once: the ORM's unit of work around one new row cost
#: more than the rest of its append (docs/performance.md, 81).
_INSERT = Fixed(
    insert(AuditEvent.__table__)
    .values({name: bindparam(name) for name in _COLUMNS})
    .returning(AuditEvent.__table__.c.id)
)


def append(
    *,
    action: str,
    actor_type: str,
    patient_id: str | None = None,
    account_id: str | None = None,
    actor_id: str | None = None,
    actor_name: str | None = None,
    actor_profession: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    target_label: str | None = None,
    grant_id: str | None = None,
    ip: str | None = None,
    device: str | None = None,
    kiosk: bool | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Low-level append; features call record(viewer, ...) instead. The trace is written in the
    ORM session's transaction (committed, or rolled back, with the request's work) and remembered
    with the savepoint it was written in, for the anchor."""
    _lock()
    session = db.session()
    session.connection()  # the session's transaction holds the connection: its commit ends ours
    last = _HEAD.first({})
    if last is None:
        seq = 1
    elif last.seq is None:  # the first keyed trace: it seals the unkeyed ones before it (count once)
        seq = db.session.scalar(select(func.count()).select_from(AuditEvent)) + 1
    else:
        seq = last.seq + 1
    values = {
        "at": clock.utcnow(),
        "patient_id": patient_id,
        "account_id": account_id,
        "actor_type": actor_type,
        "actor_id": actor_id,
        "actor_name": actor_name,
        "actor_profession": actor_profession,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_label": (target_label or None) and target_label[:200],
        "grant_id": grant_id,
        "ip": ip,
        "device": device,
        "kiosk": kiosk,
        "detail": detail or {},
        "prev_hash": last.hash if last is not None else GENESIS,
        "seq": seq,
    }
    event = AuditEvent(**values)
    event.hash = values["hash"] = _digest(event, audit_key())
    event.id = _INSERT.returning(values)[0]
    session.info.setdefault(_APPENDED, []).append((event, session.get_nested_transaction()))
    return event


# --------------------------------------------------------------------------- the anchor


@sa_event.listens_for(_AppSession, "after_commit")
def _anchor_after_commit(session) -> None:
    """The transaction that appended traces is committed: anchor the head it left. One small
    append + fsync per such commit, after the database lock is released."""
    if session.in_nested_transaction():  # a savepoint released: the transaction is not over yet
        return
    appended = session.info.pop(_APPENDED, None)
    if not appended:
        return
    head = appended[-1][0]
    try:
        write_anchor(anchor_path(), audit_key(), count=head.seq, last_id=head.id, head=head.hash)
    except OSError:  # the traces are committed; a missing anchor only widens the unanchored tail
        current_app.logger.exception("audit: could not write the anchor file")


@sa_event.listens_for(_AppSession, "after_transaction_end")
def _forget_appended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_APPENDED, None)


@sa_event.listens_for(_AppSession, "after_soft_rollback")
def _forget_rolled_back(session, transaction) -> None:
    """A savepoint rolled back took the traces written inside it (and in its own savepoints)."""
    appended = session.info.get(_APPENDED)
    if appended and transaction.nested:
        appended[:] = [(e, where) for e, where in appended if not _inside(where, transaction)]


def _inside(where, transaction) -> bool:
    while where is not None:
        if where is transaction:
            return True
        where = where.parent
    return False


def _anchor_mac(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def write_anchor(path: Path, key: bytes, *, count: int, last_id: int, head: str) -> None:
    """Append one sealed line "a1 <time> <count> <last id> <head hash> <key id> <hmac>" and fsync.
    O_APPEND keeps the lines of concurrent workers whole."""
    body = " ".join(
        (ANCHOR_VERSION, clock.utcnow().isoformat(timespec="microseconds"), str(count), str(last_id), head, key_id(key))
    )
    line = f"{body} {_anchor_mac(key, body)}\n".encode()
    new = not path.exists()
    if new:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    if new and os.name != "nt":  # the file's own directory entry must survive a crash too
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def record(
    viewer,
    action: Action,
    target=None,
    *,
    patient_id: str | None = None,
    account_id: str | None = None,
    target_label: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """The one audit call: who (the viewer), what (action, target), when, where, which grant."""
    who = viewer.audit_identity() if viewer is not None else {"actor_type": "anonymous"}
    space = patient_id or getattr(target, "patient_id", None) or who.pop("patient_id", None)
    who.pop("patient_id", None)
    if account_id is not None:
        who["account_id"] = account_id
    if target is not None and target_label is None:
        target_label = getattr(target, "audit_label", None) or getattr(target, "title", None)
    return append(
        action=Action(action).value,
        patient_id=space,
        target_type=getattr(target, "__tablename__", None) if target is not None else None,
        target_id=getattr(target, "id", None) if target is not None else None,
        target_label=target_label,
        detail=detail,
        **who,
        **origin.request_origin(),
    )


class _System:
    """Carnet itself, as the author of what its scheduled commands do (timers, provisioning)."""

    def audit_identity(self) -> dict:
        return {"actor_type": "system", "actor_name": "Carnet"}


SYSTEM = _System()


@dataclass(frozen=True)
class Anchor:
    line: int
    at: str
    count: int
    last_id: int
    head: str


@dataclass
class VerifyResult:
    """reason: link (an event's link to the one before is wrong), content (an event does not
    match its hash: changed, or re-chained without the key), position (its position is not its
    place: traces were removed before it), unkeyed (a plain SHA-256 event after keyed ones),
    anchor (an anchored head is in the chain with another hash or position), missing (an
    anchored head is no longer in the chain), truncated (the chain ends before an anchored
    head), no_anchor (keyed traces but no anchor file), anchor_line (a line of the anchor file
    is altered), key (the anchors were sealed with another key)."""

    ok: bool
    count: int
    broken_id: int | None = None
    reason: str | None = None
    unkeyed: int = 0  # traces from before the key, sealed by the first keyed one
    anchors: int = 0  # anchored heads checked
    anchor: Anchor | None = None
    last_id: int | None = None
    detail: dict = field(default_factory=dict)


def read_anchors(path: Path, key: bytes) -> tuple[dict[int, Anchor], VerifyResult | None]:
    """The anchored heads by last id, or the reason the file cannot be trusted. A last line cut
    short (a crash in the middle of its write) is ignored: it was never fsynced."""
    anchors: dict[int, Anchor] = {}
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return anchors, None
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        lines.pop()  # torn last line
    mine = key_id(key)
    for number, line in enumerate(lines, 1):
        parts = line.decode("ascii", "replace").split(" ")
        if len(parts) != 7 or parts[0] != ANCHOR_VERSION:
            return anchors, VerifyResult(False, 0, reason="anchor_line", detail={"line": number})
        _v, at, count, last_id, head, kid, mac = parts
        if kid != mine:
            return anchors, VerifyResult(
                False, 0, reason="key", detail={"line": number, "key_id": kid, "expected": mine}
            )
        if not hmac.compare_digest(mac, _anchor_mac(key, " ".join(parts[:6]))):
            return anchors, VerifyResult(False, 0, reason="anchor_line", detail={"line": number})
        anchor = Anchor(number, at, int(count), int(last_id), head)
        seen = anchors.get(anchor.last_id)
        if seen is not None and (seen.count, seen.head) != (anchor.count, anchor.head):
            # Two heads at one id: the trail was cut back below it and written again (SQLite reuses the ids).
            return anchors, VerifyResult(
                False, 0, anchor.last_id, "anchor", anchor=anchor, detail={"conflict": seen.line}
            )
        anchors[anchor.last_id] = anchor
    return anchors, None


def verify(batch: int = 2000, *, key: bytes | None = None, anchor_file: Path | None = None) -> VerifyResult:
    """Walk the chain in id order; stop at the first event whose link, position or hash is
    wrong; then check that every anchored head is in the chain, with its count and hash."""
    key = key if key is not None else audit_key()
    anchors, problem = read_anchors(anchor_file if anchor_file is not None else anchor_path(), key)
    if problem is not None:
        return problem
    prev, seen, last_id, unkeyed, keyed = GENESIS, 0, 0, 0, False
    checked = 0

    def broken(event, reason, **kw):
        return VerifyResult(False, seen, event.id, reason, unkeyed=unkeyed, anchors=checked, **kw)

    while True:
        rows = list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch))
        )
        if not rows:
            break
        for event in rows:
            if event.prev_hash != prev:
                return broken(event, "link")
            if event.seq is None:
                if keyed:
                    return broken(event, "unkeyed")
                unkeyed += 1
            else:
                keyed = True
                if event.seq != seen + 1:
                    return broken(event, "position", detail={"seq": event.seq})
            if not hmac.compare_digest(_digest(event, key), event.hash):
                return broken(event, "content")
            prev, last_id, seen = event.hash, event.id, seen + 1
            anchor = anchors.pop(event.id, None)
            if anchor is not None:
                if (anchor.count, anchor.head) != (seen, event.hash):
                    return broken(event, "anchor", anchor=anchor)
                checked += 1
        db.session.expunge_all()
    if anchors:  # anchored heads the chain no longer reaches: the newest traces were deleted
        anchor = max(anchors.values(), key=lambda a: a.count)
        return VerifyResult(
            False,
            seen,
            anchor.last_id,
            "truncated" if anchor.last_id > last_id else "missing",
            unkeyed=unkeyed,
            anchors=checked,
            anchor=anchor,
            last_id=last_id,
        )
    if keyed and not checked:
        return VerifyResult(False, seen, None, "no_anchor", unkeyed=unkeyed, last_id=last_id)
    return VerifyResult(True, seen, unkeyed=unkeyed, anchors=checked, last_id=last_id)
