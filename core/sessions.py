"""Server-side sessions: the cookie carries only a random token; the record lives here.

Logout, "end this session" and "end all my other sessions" therefore really end a session,
even for a copied cookie. The interface also closes each request's unit of work: one commit,
after the view has run and before the response leaves.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from flask import Flask, Request, Response, current_app, g, request, session
from flask.sessions import SessionInterface, SessionMixin
from flask_login import LoginManager, UserMixin, login_user, logout_user
from sqlalchemy import JSON, Boolean, ForeignKey, String, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import CallbackDict

from core import clock
from core.compiled import Fixed
from core.db import Base, db, is_reads_first, new_id, start_request, uuid_pk, write_intent
from core.http import add_vary
from core.people import Account, Patient, Professional, ProfessionalColumns, patient_display_name

TOKEN_BYTES = 32  # 256 bits


class UserSession(Base):
    __tablename__ = "user_sessions"

    id: Mapped[str] = uuid_pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    last_active_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    authenticated_at: Mapped[datetime | None]
    fresh_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    kiosk: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    end_reason: Mapped[str | None] = mapped_column(String(20))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """Session data plus the record it was loaded from and what to do with it on save."""

    def __init__(self, data=None, record: SessionRecord | None = None, expired: str | None = None, stale: bool = False):
        def on_update(_self):
            _self.modified = True

        super().__init__(data or {}, on_update)
        self.record = record
        self.modified = False
        self.expired = expired  # "idle" | "absolute" when the previous one just timed out
        self.stale = stale  # the cookie names a session replaced at login
        self.rotate_to: str | None = None  # account id: new token at login
        self.rotate_reason = "rotated"  # why the replaced record ended
        self.end_reason: str | None = None  # set by logout


def _limits(app: Flask, record: SessionRecord) -> tuple[timedelta, timedelta]:
    cfg = app.config
    if record.kiosk:  # a public kiosk: the next person may be behind you
        return timedelta(minutes=cfg["KIOSK_IDLE_MINUTES"]), timedelta(minutes=cfg["KIOSK_SESSION_MINUTES"])
    return timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]), timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"])


def on_kiosk() -> bool:
    """This request comes from a registered public kiosk (its cookie, checked by the kiosk
    blueprint before the view): every session it starts is a kiosk session."""
    return g.get("kiosk") is not None


def at_kiosk() -> bool:
    """A kiosk's request (its cookie), or a session begun at one: what its pages may leave in
    the browser, and how long it stays idle, follow from this."""
    record = getattr(current(), "record", None)
    return bool(record is not None and record.kiosk) or on_kiosk()


def _timed(record: SessionRecord) -> bool:
    """Sessions with the idle and absolute limits of a login: accounts, and code sessions."""
    return record.account_id is not None or bool((record.data or {}).get("share_use"))


def expiry_reason(app: Flask, record: SessionRecord, now: datetime) -> str | None:
    if not _timed(record):
        return "idle" if now - record.last_active_at > timedelta(hours=12) else None
    idle, absolute = _limits(app, record)
    if now - (record.authenticated_at or record.created_at) > absolute:
        return "absolute"
    if now - record.last_active_at > idle:
        return "idle"
    return None


def end(record: SessionRecord, reason: str) -> None:
    record.set(ended_at=clock.utcnow(), end_reason=reason, data={})
    _write(record)


def _write(record: SessionRecord, alone: bool = False) -> None:
    """The record's changes, in one UPDATE, committed with the request's unit of work; with
    alone=True, in a transaction of its own when the request wrote nothing else (db.write_alone:
    a page's reader touching its session)."""
    if record.changes:
        update = _update(tuple(sorted(record.changes)))
        params = {"record_id": record.id, **record.changes}
        if not (alone and db.write_alone(update, params)):
            write_intent()
            update.run(params)
        record.changes = {}


_UPDATES: dict[tuple[str, ...], Fixed] = {}


def _update(columns: tuple[str, ...]) -> Fixed:
    """The UPDATE of these columns of one record, built once per set of columns (compiled.Fixed): a
    page read long enough after the last one writes its last activity, and SQLAlchemy's ORM
    UPDATE cost more than the write transaction it runs in."""
    found = _UPDATES.get(columns)
    if found is None:
        table = UserSession.__table__
        statement = update(table).where(table.c.id == bindparam("record_id"))
        found = _UPDATES[columns] = Fixed(statement.values({name: bindparam(name) for name in columns}))
    return found


_INSERT = Fixed(insert(UserSession.__table__).values({c.name: bindparam(c.name) for c in UserSession.__table__.c}))


def _insert(token: str, **values) -> None:
    """A new record for this token, in one INSERT built once (compiled.Fixed), committed with the
    request's unit of work: the ORM's unit of work around one new row cost a quarter of the
    login page, which makes one for every visitor (its form's token)."""
    _INSERT.run(
        {
            "id": new_id(),
            "token_hash": _hash(token),
            "account_id": None,
            "authenticated_at": None,
            "fresh_at": None,
            "ended_at": None,
            "end_reason": None,
            **values,
        }
    )


def is_passive(app: Flask, request: Request) -> bool:
    """Background polling must not keep a session alive: views say so with @passive."""
    view = app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "carnet_passive", False))


def passive(view):
    view.carnet_passive = True
    return view


_COLUMNS = (
    "id",
    "account_id",
    "data",
    "created_at",
    "last_active_at",
    "authenticated_at",
    "fresh_at",
    "kiosk",
    "ended_at",
    "end_reason",
)


class SessionRecord:
    """The session row as every request reads it: plain columns, and the logged-in account's
    few columns that every page needs (who, which space, language, name) as the SessionUser
    Flask-Login hands out. Loading ORM objects here cost more than the query itself, on every
    request; a page that needs the account object loads it (SessionUser.account, Viewer.account).
    A request's changes are written back by save_session in one UPDATE."""

    __slots__ = (*_COLUMNS, "user", "changes")

    def __init__(self, row):
        for name in _COLUMNS:
            setattr(self, name, getattr(row, name))
        self.user = (
            SessionUser(
                row.account_id,
                row.role,
                row.patient_id,
                row.locale,
                bool(row.active),
                patient_display_name(row.given_names, row.used_name, row.family_name)
                if row.given_names is not None
                else None,
            )
            if row.role is not None
            else None
        )
        self.changes: dict = {}

    def set(self, **values) -> None:
        for name, value in values.items():
            setattr(self, name, value)
        self.changes.update(values)


@dataclass(frozen=True)
class SessionUser(UserMixin):
    """Flask-Login's user (current_user): the account's columns read with the session record,
    so asking "who is this?" costs no query of its own."""

    id: str
    role: str
    patient_id: str | None
    locale: str | None
    active: bool
    name: str | None  # a holder's display name

    @classmethod
    def of(cls, account: Account) -> SessionUser:
        name = account.patient.display_name if account.patient is not None else None
        return cls(account.id, account.role, account.patient_id, account.locale, bool(account.active), name)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def account(self) -> Account | None:
        """The Account object, for the pages that need more than these columns."""
        return db.session.get(Account, self.id)

    @cached_property
    def professional(self) -> ProfessionalColumns | None:
        """A professional's own columns, read once a request by one compiled statement (holders
        never ask): loading the Account and its Professional cost a professional's poll twice
        a holder's."""
        if self.role != "professional":
            return None
        row = _PROFESSIONAL.first({"account_id": self.id})
        return None if row is None else ProfessionalColumns(*row)


# Built once, compiled once (compiled.Fixed): every request runs it, and SQLAlchemy's execution layer
# cost more than running it.
_BY_TOKEN = Fixed(
    select(
        *(UserSession.__table__.c[c] for c in _COLUMNS),
        Account.role,
        Account.patient_id,
        Account.locale,
        Account.active,
        Patient.given_names,
        Patient.used_name,
        Patient.family_name,
    )
    .select_from(UserSession.__table__)
    .outerjoin(Account.__table__, Account.id == UserSession.account_id)
    .outerjoin(Patient.__table__, Patient.id == Account.patient_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)
_PROFESSIONAL = Fixed(
    select(
        Professional.id,
        Professional.rpps,
        Professional.given_name,
        Professional.family_name,
        Professional.profession,
        Professional.specialty,
    )
    .select_from(Account.__table__)
    .join(Professional.__table__, Professional.id == Account.professional_id)
    .where(Account.id == bindparam("account_id"))
)


class DatabaseSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        start_request(request.method, is_reads_first(app, request))
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 100:
            return ServerSession()
        row = _BY_TOKEN.first({"token_hash": _hash(token)})
        if row is None:
            return ServerSession()
        record = SessionRecord(row)
        if record.ended_at is not None:
            # A request that left before its session was replaced at login must not answer
            # with a fresh anonymous cookie that would overwrite the new one.
            return ServerSession(stale=record.end_reason == "rotated")
        reason = expiry_reason(app, record, clock.utcnow())
        if reason:
            was_logged_in = _timed(record)
            write_intent()
            end(record, reason)
            return ServerSession(expired=reason if was_logged_in else None)
        return ServerSession(dict(record.data or {}), record=record)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        name = self.get_cookie_name(app)
        now = clock.utcnow()
        record = session.record
        # a passive view (a background poll) never keeps the session alive: nothing to write
        touch = (
            record is not None
            and now - record.last_active_at >= timedelta(seconds=app.config["SESSION_TOUCH_SECONDS"])
            and not is_passive(app, _request())
        )
        writes = (
            session.end_reason
            or session.rotate_to is not None
            or session.modified
            or (record is not None and (record.changes or touch))
        )
        in_place = record is not None and not session.end_reason and session.rotate_to is None
        if writes and not in_place:
            write_intent()
        if session.end_reason:
            if record is not None:
                end(record, session.end_reason)
            db.commit()
            response.delete_cookie(name, path=self.get_cookie_path(app), domain=self.get_cookie_domain(app))
            return
        token = None
        if session.rotate_to is not None:
            old_data = dict(session)
            kiosk = bool(record and record.kiosk) or on_kiosk()
            if record is not None:
                end(record, session.rotate_reason)
            token = secrets.token_urlsafe(TOKEN_BYTES)
            _insert(
                token,
                account_id=session.rotate_to or None,
                data=old_data,
                created_at=now,
                last_active_at=now,
                authenticated_at=now,
                fresh_at=now,
                ip=_ip(),
                user_agent=_ua(),
                kiosk=kiosk,
            )
        elif record is None:
            if session.modified and len(session) and not session.stale:
                token = secrets.token_urlsafe(TOKEN_BYTES)
                _insert(
                    token,
                    data=dict(session),
                    ip=_ip(),
                    user_agent=_ua(),
                    created_at=now,
                    last_active_at=now,
                    kiosk=on_kiosk(),
                )
        else:
            if session.modified:
                record.set(data=dict(session))
            if touch:
                record.set(last_active_at=now)
            _write(record, alone=True)
        db.commit()
        if token is not None:
            response.set_cookie(
                name,
                token,
                httponly=True,
                secure=self.get_cookie_secure(app),
                samesite=self.get_cookie_samesite(app),
                path="/",
            )
        if record is not None or token is not None:
            add_vary(response, "Cookie")


def _request():
    return request


def _ip() -> str | None:
    return _request().remote_addr


def _ua() -> str | None:
    return (_request().user_agent.string or "")[:300] or None


def current() -> ServerSession:
    """This request's session, the object itself: each look through Flask's `session` proxy
    resolves it anew."""
    return session._get_current_object()  # type: ignore[return-value]


def login(account: Account) -> None:
    """Log the account in: Flask-Login's user for this request, and a new token bound to the
    account (applied when saving)."""
    current().rotate_to = account.id
    login_user(SessionUser.of(account))


def start_share_session(use_id: str) -> None:
    """A professional opened a share with its code: a new session id (as at login), holding
    only the share use, so nothing from before the code carries over."""
    s = current()
    s.clear()
    s["share_use"] = use_id
    s.rotate_to = ""  # a new token, bound to no account


def load_user(user_id: str) -> SessionUser | None:
    """Flask-Login's user loader: the account this session record is logged in as, read with
    the record. None when the record is bound to another account or to none, or when the
    account is disabled."""
    s = current()
    rec = s.record
    if rec is None or rec.user is None or s.rotate_to is not None or user_id != rec.account_id:
        return None
    return rec.user if rec.user.active else None


class SessionLoginManager(LoginManager):
    """Flask-Login, reading its user from the session record only. The stock loader also hashes
    the address and user agent (SHA-512) for session protection, sends `user_accessed` and looks
    for a remember-me cookie or a request loader, on every request that asks "who is this?":
    here session protection is off (the record is the protection), no remember-me cookie is ever
    set (login_user is never asked to remember) and no request loader exists, so the user is
    exactly load_user()'s answer, as the stock loader would find it."""

    def _load_user(self):
        if self.session_protection:  # not Carnet's setting: the stock checks apply
            return super()._load_user()
        user_id = session.get("_user_id")
        user = load_user(user_id) if user_id is not None else None
        return self._update_request_context_with_user(user)


def logout_to_anonymous(reason: str) -> None:
    """End this login but keep the browser a fresh anonymous session, so a message flashed
    now still reaches the login page (a forced logout)."""
    logout_user()
    s = current()
    s.clear()
    s.rotate_to = ""
    s.rotate_reason = reason


def logout(reason: str = "logout") -> None:
    logout_user()
    s = current()
    s.clear()
    s.end_reason = reason


def mark_fresh() -> None:
    rec = current().record
    if rec is not None:
        rec.set(fresh_at=clock.utcnow())  # written when the session is saved


def is_fresh(app: Flask) -> bool:
    s = current()
    if s.rotate_to is not None:
        return True
    rec = s.record
    if rec is None or rec.fresh_at is None:
        return False
    return clock.utcnow() - rec.fresh_at <= timedelta(minutes=app.config["FRESH_AUTH_MINUTES"])


def live():
    """SQL condition for sessions still usable now: not ended, and within their idle and
    absolute limits (a device that simply went away is not "active" any more)."""
    params = live_params()
    return _live(
        params["live_authenticated"],
        params["live_kiosk_authenticated"],
        params["live_kiosk_active"],
        params["live_active"],
    )


def live_bound():
    """live() with its cut-off times as named parameters, for a statement built once and
    executed with live_params()."""
    return _live(
        bindparam("live_authenticated"),
        bindparam("live_kiosk_authenticated"),
        bindparam("live_kiosk_active"),
        bindparam("live_active"),
    )


def live_params() -> dict:
    cfg, now = current_app.config, clock.utcnow()
    return {
        "live_authenticated": now - timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"]),
        "live_kiosk_authenticated": now - timedelta(minutes=cfg["KIOSK_SESSION_MINUTES"]),
        "live_kiosk_active": now - timedelta(minutes=cfg["KIOSK_IDLE_MINUTES"]),
        "live_active": now - timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]),
    }


def _live(authenticated_after, kiosk_authenticated_after, kiosk_active_after, active_after):
    return and_(
        UserSession.ended_at.is_(None),
        UserSession.authenticated_at > authenticated_after,
        or_(
            and_(
                UserSession.kiosk.is_(True),
                UserSession.last_active_at > kiosk_active_after,
                UserSession.authenticated_at > kiosk_authenticated_after,
            ),
            and_(UserSession.kiosk.is_(False), UserSession.last_active_at > active_after),
        ),
    )


def active_for(account_id: str) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.account_id == account_id, live())
            .order_by(UserSession.last_active_at.desc())
        )
    )


def end_for_account(
    account_id: str, session_id: str | None = None, keep: str | None = None, reason: str = "ended"
) -> int:
    """End one session of the account, or all of them but `keep`. Returns how many."""
    q = update(UserSession).where(UserSession.account_id == account_id, UserSession.ended_at.is_(None))
    if session_id is not None:
        q = q.where(UserSession.id == session_id)
    if keep is not None:
        q = q.where(UserSession.id != keep)
    q = q.values(ended_at=clock.utcnow(), end_reason=reason, data={})
    return db.session.execute(q, execution_options={"synchronize_session": False}).rowcount or 0


def idle_remaining(app: Flask) -> int | None:
    """Seconds before the idle timeout ends this session (None when not logged in)."""
    rec = current().record
    if rec is None or not _timed(rec):
        return None
    idle, _absolute = _limits(app, rec)
    left = idle - (clock.utcnow() - rec.last_active_at)
    return max(0, int(left.total_seconds()))
