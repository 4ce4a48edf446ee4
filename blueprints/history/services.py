"""The access history: which traces the holder sees, page by page, as plain rows and as CSV.

Every query starts from access.scope(viewer, select(AuditEvent)), so a space only ever
shows its own traces. Pages are keyset pages (id descending, `id < cursor`), served by the
(patient_id, id) index: the cost of a page does not grow with the length of the history.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from sqlalchemy import Select, bindparam, literal, null, or_, select, union_all

from blueprints.history import actions
from core import access, audit, clock, csvout
from core.access import Viewer
from core.audit import AuditEvent
from core.compiled import Fixed
from core.db import db
from core.formatting import date_text
from core.grants import EmergencyAccess, Grant, Share
from core.i18n import gettext as _, lazy_gettext as _l
from core.people import PROFESSIONS

PAGE_SIZE = 50
EXPORT_BATCH = 1000

PERIODS = {
    "tout": _l("All time"),
    "7j": _l("Last 7 days"),
    "30j": _l("Last 30 days"),
    "12m": _l("Last 12 months"),
    "dates": _l("Between two dates"),
}
PERIOD_DAYS = {"7j": 7, "30j": 30, "12m": 365}

ACTORS = {
    "tous": _l("Everyone"),
    "moi": _l("Me"),
    "pros": _l("Health professionals"),
    "apps": _l("Applications"),
    "urgence": _l("Emergency access"),
    "aidants": _l("Helpers"),
    "inconnus": _l("Failed attempts and unknown people"),
}
ACTOR_TYPES = {"moi": "holder", "pros": "professional", "apps": "app", "urgence": "emergency", "aidants": "helper"}


@dataclass
class Filters:
    """What the holder asked for, already checked: unknown values fall back to defaults."""

    period: str = "tout"
    actor: str = "tous"
    start: date | None = None  # local dates, both included
    end: date | None = None

    @classmethod
    def from_args(cls, args) -> Filters:
        period = args.get("periode") or ""
        actor = args.get("qui") or "tous"
        start, end = _parse_date(args.get("du")), _parse_date(args.get("au"))
        if period not in PERIODS:
            period = "dates" if start or end else "tout"
        if actor not in ACTORS:
            actor = "tous"
        if period != "dates":
            start = end = None
        elif start and end and start > end:
            start, end = end, start
        return cls(period, actor, start, end)

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """[since, until) in UTC for the query."""
        now = clock.utcnow()
        if self.period in PERIOD_DAYS:
            return now - timedelta(days=PERIOD_DAYS[self.period]), None
        if self.period == "dates":
            return (
                _local_midnight(self.start) if self.start else None,
                _local_midnight(self.end + timedelta(days=1)) if self.end else None,
            )
        return None, None

    def args(self) -> dict:
        """Query-string form, to rebuild URLs (next page, CSV) with the same filters."""
        out = {"periode": self.period, "qui": self.actor}
        if self.start:
            out["du"] = self.start.isoformat()
        if self.end:
            out["au"] = self.end.isoformat()
        return out

    @property
    def is_default(self) -> bool:
        return self.period == "tout" and self.actor == "tous"


def _parse_date(value: str | None) -> date | None:
    try:
        parsed = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return parsed if 1900 <= parsed.year <= 2200 else None


def _local_zone() -> ZoneInfo:
    """The reader's zone (Europe/Paris), as zoneinfo: pytz zones misbehave with tzinfo=."""
    return ZoneInfo(str(get_timezone()))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_local_zone()).astimezone(UTC)


# The columns a page shows: plain rows load several times faster than ORM objects.
_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor_type,
    AuditEvent.account_id,
    AuditEvent.actor_name,
    AuditEvent.actor_profession,
    AuditEvent.action,
    AuditEvent.target_type,
    AuditEvent.target_label,
    AuditEvent.grant_id,
    AuditEvent.ip,
    AuditEvent.device,
    AuditEvent.kiosk,
    AuditEvent.detail,
)


def _query(viewer: Viewer, filters: Filters) -> Select:
    stmt = access.scope(viewer, select(*_COLUMNS))
    since, until = filters.bounds()
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    if filters.actor in ACTOR_TYPES:
        stmt = stmt.where(AuditEvent.actor_type == ACTOR_TYPES[filters.actor])
    elif filters.actor == "inconnus":
        stmt = stmt.where(or_(AuditEvent.actor_type == "anonymous", AuditEvent.action.in_(sorted(actions.FAILED))))
    return stmt


@dataclass
class Row:
    id: int
    at: datetime
    actor: str
    actor_kind: str  # holder | professional | app | emergency | anonymous | system
    actor_kind_label: str
    profession: str
    action: str
    sentence: str
    target: str
    grant_id: str
    ip: str
    device: str
    kiosk: bool
    failed: bool
    icon: str
    access: str = ""  # the access used, in words: "code « Dr Durand »", "permanent access"...
    identity: str = ""  # verified | typed (a professional's name), "" otherwise
    identity_label: str = ""


KIND_LABELS = {
    "holder": _l("You"),
    "professional": _l("Health professional"),
    "guardian": _l("Legal guardian"),
    "helper": _l("Helper"),
    "app": _l("Application"),
    "emergency": _l("Emergency access"),
    "anonymous": _l("Unknown person"),
    "system": _l("Carnet"),
}


# What a trace's device column holds when no browser made it.
DEVICES = {"cli": _l("administration command")}
IDENTITY_LABELS = {
    "verified": _l("verified professional account"),
    "typed": _l("name given by the person, not verified"),
}


def _identity(event) -> str:
    """A professional with an account was checked when the account was made; one who typed a
    code gave a name and an RPPS that nobody checked."""
    if event.actor_type not in ("professional", "emergency"):
        return ""
    return "verified" if event.account_id else "typed"


def access_words(viewer: Viewer, grant_ids, memo: dict | None = None) -> dict[str, str]:
    """Each share, permanent access or emergency access id in words the holder knows: the
    share's own label or the day its code was made, "permanent access", "emergency access".
    Ids of this space only (the gate); an id no longer found reads as a shared access."""
    memo = {} if memo is None else memo
    wanted = {g for g in grant_ids if g and ("grant", g) not in memo}
    if wanted and viewer.patient_id is not None:
        params = {"patient_id": viewer.patient_id, "ids": sorted(wanted)}
        for found in _access_words_statement(viewer.kind).all(params):
            if found.what == "share":
                memo[("grant", found.id)] = share_words(found.label, found.created_at)
            elif found.what == "grant":
                memo[("grant", found.id)] = _("permanent access")
            else:
                memo[("grant", found.id)] = _("emergency access")
    for g in wanted:
        memo.setdefault(("grant", g), _("shared access"))
    return {g: memo[("grant", g)] for g in grant_ids if g}


@lru_cache(maxsize=8)
def _access_words_statement(kind: str) -> Fixed:
    """Shares, permanent and emergency accesses among :ids, in one statement built and compiled
    once per kind of viewer; each part is gated by access.scope() for a viewer of this kind whose patient is
    the :patient_id parameter."""
    gate = access.kind_gate(kind)
    ids = bindparam("ids", expanding=True)
    no_label, no_date = null().cast(Share.label.type), null().cast(Share.created_at.type)
    return Fixed(
        union_all(
            access.scope(gate, select(literal("share").label("what"), Share.id, Share.label, Share.created_at)).where(
                Share.id.in_(ids)
            ),
            access.scope(gate, select(literal("grant"), Grant.id, no_label, no_date)).where(Grant.id.in_(ids)),
            access.scope(gate, select(literal("emergency"), EmergencyAccess.id, no_label, no_date)).where(
                EmergencyAccess.id.in_(ids)
            ),
        )
    )


def share_words(label: str | None, created_at: datetime) -> str:
    """“code « Dr Durand »”, or “code of 2 Dec.” when the holder gave it no label."""
    if label:
        return _("code “%(label)s”", label=label)
    local = clock.aware(created_at).astimezone(_local_zone())
    return _("code of %(date)s", date=date_text(local.date(), "d MMM"))


# The detail keys a sentence may depend on (actions.py): all part of the memo key.
SENTENCE_DETAIL = ("method", "from", "count", "how", "page", "kind", "via", "section", "format", "added")


def _row(event, memo: dict) -> Row:
    """One trace as the holder reads it. `memo` keeps the sentences already translated in
    this page or batch: a long history repeats the same few, and gettext is not free."""
    kind = event.actor_type if event.actor_type in KIND_LABELS else "system"
    kind_label = memo.get(kind) or memo.setdefault(kind, str(KIND_LABELS[kind]))
    actor = kind_label if kind == "holder" else (event.actor_name or kind_label)
    profession = ""
    if event.actor_profession:
        key = ("profession", event.actor_profession)
        if key not in memo:
            memo[key] = str(PROFESSIONS.get(event.actor_profession, event.actor_profession))
        profession = memo[key]
    detail = event.detail if isinstance(event.detail, dict) else {}
    key = (event.action, event.target_type, event.target_label, *(str(detail.get(k)) for k in SENTENCE_DETAIL))
    if key not in memo:
        memo[key] = actions.sentence(event.action, event.target_type, event.target_label, detail)
    identity = _identity(event)
    device = event.device or ""
    if device in DEVICES:
        device = memo.get(("device", device)) or memo.setdefault(("device", device), str(DEVICES[device]))
    return Row(
        id=event.id,
        at=clock.aware(event.at),
        actor=actor,
        actor_kind=kind,
        actor_kind_label=kind_label,
        profession=profession,
        action=event.action,
        sentence=memo[key],
        target=event.target_label or "",
        grant_id=event.grant_id or "",
        ip=event.ip or "",
        device=device,
        kiosk=bool(event.kiosk),
        failed=actions.is_failure(event.action),
        icon=actions.icon(event.action, event.target_type),
        access=memo.get(("grant", event.grant_id), "") if event.grant_id else "",
        identity=identity,
        identity_label=str(IDENTITY_LABELS[identity]) if identity else "",
    )


@dataclass
class Page:
    rows: list[Row] = field(default_factory=list)
    next_cursor: int | None = None  # id to continue below; None at the end


@lru_cache(maxsize=16)
def _unfiltered_statement(kind: str, after: bool) -> Fixed:
    """A page with no filter, built and compiled once per kind of viewer (gated like
    _access_words_statement())."""
    stmt = _query(access.kind_gate(kind), Filters())
    if after:
        stmt = stmt.where(AuditEvent.id < bindparam("after"))
    return Fixed(stmt.order_by(AuditEvent.id.desc()).limit(bindparam("size")))


def page(
    viewer: Viewer, filters: Filters, after: int | None = None, size: int | None = None, memo: dict | None = None
) -> Page:
    """One page of traces, newest first, strictly older than `after` (an event id)."""
    size = size or PAGE_SIZE
    if filters.period == "tout" and filters.actor == "tous":  # the home card, the first screen
        if viewer.patient_id is None:
            return Page()
        params = {"patient_id": viewer.patient_id, "after": after, "size": size + 1}
        events = _unfiltered_statement(viewer.kind, after is not None).all(params)
    else:
        stmt = _query(viewer, filters)
        if after is not None:
            stmt = stmt.where(AuditEvent.id < after)
        events = db.session.execute(stmt.order_by(AuditEvent.id.desc()).limit(size + 1)).all()
    more = len(events) > size
    memo = {} if memo is None else memo
    access_words(viewer, {e.grant_id for e in events[:size] if e.grant_id}, memo)
    rows = [_row(e, memo) for e in events[:size]]
    return Page(rows, rows[-1].id if more and rows else None)


def latest(viewer: Viewer, count: int = 3) -> list[dict]:
    """The few most recent traces, for the home screen card."""
    return [asdict(r) for r in page(viewer, Filters(), size=count).rows]


def parse_cursor(value: str | None) -> int | None:
    try:
        cursor = int(value or "")
    except ValueError:
        return None
    return cursor if cursor > 0 else None


# CSV export --------------------------------------------------------------------------------


def csv_header() -> list[str]:
    return [
        _("Date"),
        _("Who"),
        _("Identity"),
        _("Profession"),
        _("Action"),
        _("Target"),
        _("Access used"),
        _("IP address"),
        _("Device"),
    ]


def csv_fields(row: Row, zone: ZoneInfo, kiosk_label: str) -> list[str]:
    device = " · ".join(x for x in (row.device, kiosk_label if row.kiosk else "") if x)
    return [
        row.at.astimezone(zone).isoformat(timespec="seconds"),
        row.actor,
        row.identity_label,
        row.profession,
        row.sentence,
        row.target,
        row.access,
        row.ip,
        device,
    ]


def csv_chunks(viewer: Viewer, filters: Filters) -> Iterator[str]:
    """The filtered history as CSV (core.csvout), newest first.

    Read in keyset batches, each in its own short transaction, so a long download never
    holds a database lock (SQLite transactions here begin IMMEDIATE).
    """

    def batches():
        zone, kiosk_label, memo = _local_zone(), _("public kiosk"), {}
        after = None
        while True:
            batch = page(viewer, filters, after, size=EXPORT_BATCH, memo=memo)
            db.session.rollback()  # end the read transaction before handing data out
            if len(memo) > 10_000:
                memo.clear()
            yield [csv_fields(row, zone, kiosk_label) for row in batch.rows]
            if batch.next_cursor is None:
                return
            after = batch.next_cursor

    return csvout.stream(csv_header(), batches())


def record_export(viewer: Viewer, filters: Filters) -> None:
    audit.record(viewer, audit.Action.HISTORY_EXPORTED, detail=filters.args())
