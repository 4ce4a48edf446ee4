"""SQLAlchemy 2: typed Base, engine with SQLite pragmas, one session per app context.

SQLite: a transaction that may write starts with BEGIN IMMEDIATE, so it never has to upgrade
a read lock to a write lock (what produces "database is locked" under concurrent writers).
Requests with a safe method (GET, HEAD) read in a deferred transaction, so readers never
queue behind each other; code that writes during such a request calls write_intent() first,
which ends the read transaction and makes the next one IMMEDIATE.
PostgreSQL is used as is (READ COMMITTED) for multi-worker and multi-host deployments.
"""

from __future__ import annotations

import os
import re
import select
import sqlite3
import threading
import uuid
import weakref
from contextvars import ContextVar
from datetime import datetime
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_app_context
from flask.globals import app_ctx
from sqlalchemy import DateTime, String, TypeDecorator, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, scoped_session, sessionmaker
from werkzeug.exceptions import HTTPException

from core import clock, turns

if TYPE_CHECKING:  # core.compiled runs on this module's transactions
    from core.compiled import Fixed


class UTCDateTime(TypeDecorator):
    """Stores UTC, always hands back an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime refused: use core.clock.utcnow()")
        return value

    def process_result_value(self, value, dialect):
        return clock.aware(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


def new_id() -> str:
    """Random UUID used to address records in URLs."""
    return str(uuid.uuid4())


def uuid_pk():
    return mapped_column(String(36), primary_key=True, default=new_id)


def make_engine(url: str, busy_timeout_ms: int = 15000) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False, "isolation_level": None},
            pool_pre_ping=False,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        writers = _WRITERS[engine] = _Writers(busy_timeout_ms / 1000, _database_file(engine))

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # on the driver's connection: through SQLAlchemy's execution layer (exec_driver_sql)
            # this one word cost as much as the session's lookup (every request begins one)
            driver = conn.connection.driver_connection
            if _read_only.get():
                _begin_sqlite(driver, "BEGIN")
                return
            writers.take(conn)
            try:
                _begin_sqlite(driver, "BEGIN IMMEDIATE")
            except BaseException:
                writers.give(conn)
                raise

        @event.listens_for(engine, "commit")
        def _commit(conn):
            writers.end(conn, commit=True)

        @event.listens_for(engine, "rollback")
        def _rollback(conn):
            writers.end(conn, commit=False)

        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]  # psycopg 3 is the driver installed
    engine = create_engine(url, pool_size=5, max_overflow=5)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", _closed_by_the_server)
    return engine


def _closed_by_the_server(driver, _record, _proxy) -> None:
    """The pool's liveness check, without the round trip of its pre-ping (one or two a
    request): an idle connection has nothing to read, unless the server ended it (a restart, a
    killed backend: its last words, then the end of the stream). Raising DisconnectionError
    makes the pool discard it and give another, up to three times. A server that vanished
    without a word (a network cut) is found at the first statement, as with the pre-ping after
    its timeout."""
    if driver.closed:
        raise DisconnectionError("the connection was closed")
    try:
        socket = driver.pgconn.socket
    except Exception as exc:  # psycopg: no socket left
        raise DisconnectionError(str(exc)) from exc
    poller = select.poll()
    poller.register(socket, select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise DisconnectionError("the server ended this connection")


def _begin_sqlite(driver, word: str) -> None:
    try:
        driver.execute(word)
    except sqlite3.Error as exc:
        raise _sqlalchemys(word, exc) from exc


def _sqlalchemys(word: str, exc: sqlite3.Error) -> DBAPIError:
    """The error SQLAlchemy would have raised for a statement run on the driver (OperationalError...)."""
    return DBAPIError.instance(word, (), exc, sqlite3.Error)


class _Writers(turns.Writers):
    """The turns of one database (core.turns), taken before BEGIN IMMEDIATE and given back as
    the transaction ends, with SQLAlchemy's errors."""

    def acquire(self) -> turns.Turn:
        try:
            return super().acquire()
        except turns.Locked as exc:  # what SQLite's own timeout raises
            raise _sqlalchemys("BEGIN IMMEDIATE", sqlite3.OperationalError(str(exc))) from None

    def take(self, conn: Connection) -> None:
        conn.info["carnet_writes"] = self.acquire()

    def give(self, conn: Connection) -> None:
        turn = conn.info.pop("carnet_writes", None)
        if turn is not None:
            turn.release()

    def end(self, conn: Connection, commit: bool) -> None:
        """Commit or roll back a write transaction, then give the turn back. (SQLAlchemy's
        events come before its own COMMIT, which then finds nothing to end: given back there,
        the next writer would meet SQLite's lock still held and sleep in its poll.)"""
        if "carnet_writes" not in conn.info:
            return
        driver = conn.connection.driver_connection
        try:
            driver.commit() if commit else driver.rollback()  # nothing when SQLite ended it already
        except sqlite3.Error as exc:
            raise _sqlalchemys("COMMIT" if commit else "ROLLBACK", exc) from exc
        finally:
            self.give(conn)


def _database_file(engine: Engine) -> str | None:
    """The SQLite database's file (a plain path or a `file:` URI), None for one in memory: no
    other process can open it."""
    name = engine.url.database
    if not name or name == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    if name.startswith("file:"):
        name = urlsplit(name).path
    return os.path.abspath(name)


_WRITERS: weakref.WeakKeyDictionary[Engine, _Writers] = weakref.WeakKeyDictionary()


class WriteWithoutIntent(RuntimeError):
    """A write in a transaction begun read-only: on SQLite its upgrade to the write lock is
    refused at once when another connection wrote meanwhile (a 500 under load)."""


def check_write_intent(engine: Engine) -> None:
    """Under tests: a write after a read in a transaction begun read-only raises, on every engine,
    so each GET that writes is found whether or not another connection wrote at that moment. (A
    write that opens its transaction is safe: SQLite waits for the lock, then takes its snapshot.)"""

    @event.listens_for(engine, "begin")
    def _began(conn):
        conn.info["carnet_read_only"] = _read_only.get()
        conn.info["carnet_has_read"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, _cursor, statement, _params, _context, _many):
        if not (conn.info.get("carnet_read_only") and conn.in_transaction()):
            return
        if not _WRITES.match(statement):
            conn.info["carnet_has_read"] = True
        elif conn.info.get("carnet_has_read"):
            raise WriteWithoutIntent(f"write_intent() was not called before: {statement[:120]}")


_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


_read_only: ContextVar[bool] = ContextVar("carnet_read_only", default=False)


def start_request(method: str, reads_first_view: bool = False) -> None:
    """Called first thing in every request: GET/HEAD, and the views marked @reads_first, read
    in deferred transactions."""
    _read_only.set(method in ("GET", "HEAD") or reads_first_view)


def is_read_only() -> bool:
    """Whether this request (or job) reads in a transaction begun read-only: a write must call
    write_intent() first (core.compiled refuses its compiled writes otherwise)."""
    return _read_only.get()


def reads_first(view):
    """Mark a view that does slow work (a password hash) before it writes: even on POST its
    request starts in a deferred, read-only transaction, and it calls write_intent() once
    the slow work is done, so SQLite's write lock is held for milliseconds, never during the
    hash. Every write of such a view must come after write_intent() (the ORM included)."""
    view.carnet_reads_first = True
    return view


def is_reads_first(app: Flask, request) -> bool:
    """Whether the request's view is marked @reads_first (decided before the session is read,
    that is before Flask matches the URL: so it matches here, for unsafe methods only)."""
    if request.method in ("GET", "HEAD"):
        return False
    try:
        rule, _args = app.create_url_adapter(request).match(return_rule=True)
    except HTTPException:  # not found, method not allowed, redirects: Flask answers them itself
        return False
    return bool(getattr(app.view_functions.get(rule.endpoint), "carnet_reads_first", False))


def reads_in_background() -> None:
    """A background job that reads much and writes little (an export): its transactions begin
    deferred, as a GET's do, so its reads never take SQLite's write lock; it calls
    write_intent() before its final writes, and each small write starts a transaction of its own."""
    _read_only.set(True)


def end_request() -> None:
    _read_only.set(False)


def write_intent() -> None:
    """About to write during a read-only request: finish the read transaction (loaded objects
    stay usable) and let the next transaction take the write lock up front."""
    if not _read_only.get():
        return
    _read_only.set(False)
    if not db.session.registry.has():  # compiled reads alone: end them as the session would, without one
        db.end(commit=True)
        return
    session = db.session()
    pending = _has_written(session)
    if (session.in_transaction() or db.in_transaction()) and not pending:  # never split a unit of work
        session.commit()


def _has_written(session) -> bool:
    """Whether the session's unit of work holds a write: pending ORM changes, or a write already
    made (flushed, or a compiled one: core.compiled.Fixed._write). Such a transaction is never split."""
    return bool(session.new or session.dirty or session.deleted or session.info.get("carnet_wrote"))


def before_slow_work() -> bool:
    """Slow work (rendering, parsing) comes next: end the request's transaction if it has written
    nothing yet, so no write lock (SQLite's BEGIN IMMEDIATE) is held meanwhile; loaded objects stay
    usable and the next query starts a new transaction. False when a write is pending: a unit of
    work is never split in two (the caller should have done its slow work first)."""
    session = db.session()
    if not (session.in_transaction() or db.in_transaction()):
        return True
    if _has_written(session):
        return False
    session.commit()
    return True


def _scope() -> int:
    try:
        return id(app_ctx._get_current_object())
    except RuntimeError:
        return 0


class _AppSession(Session):
    """Binds to the app context's connection (Database.connection), so several apps (tests,
    tools) can coexist and the ORM's statements share one transaction with the compiled ones
    (core.compiled.Fixed): the session joins a transaction they began and controls it as its own (commit,
    rollback and close end it, as they end one it began)."""

    def get_bind(self, mapper=None, clause=None, **kwargs):
        return db.connection()

    def commit(self) -> None:
        super().commit()
        db.end(commit=True)

    def rollback(self) -> None:
        super().rollback()
        db.end(commit=False)

    def close(self) -> None:
        super().close()
        db.end(commit=False)


@event.listens_for(_AppSession, "after_flush")
def _wrote(session, _context):
    session.info["carnet_wrote"] = True


@event.listens_for(_AppSession, "do_orm_execute")
def _executed(state):
    """An UPDATE, DELETE or INSERT run through session.execute() writes too (no flush tells)."""
    if state.is_update or state.is_delete or state.is_insert:
        state.session.info["carnet_wrote"] = True


@event.listens_for(_AppSession, "after_transaction_end")
def _transaction_end(session, transaction):
    if transaction.parent is None:
        session.info.pop("carnet_wrote", None)


class _Here:
    """What an app context holds (on flask.g): its connection, while in a transaction, and a
    read-only request's read (Database.reader()): how to end it, its driver connection and
    dialect."""

    __slots__ = ("conn", "read")

    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.read: tuple | None = None


_HERE = "_carnet_db"


def _here() -> _Here:
    """The app context's _Here: flask.g looked up once (each look through its proxy cost as
    much as a short statement), then plain attributes."""
    ctx_g = g._get_current_object()
    here = ctx_g.get(_HERE)
    if here is None:
        here = _Here()
        setattr(ctx_g, _HERE, here)
    return here


def _end_postgresql_read(pooled) -> None:
    """A PostgreSQL read is statements in autocommit: under READ COMMITTED each statement of a
    transaction sees what was committed before it began, as each does alone, so a transaction
    around reads only cost its BEGIN and ROLLBACK, two round trips a request. And the
    ROLLBACK made the driver forget the statements it had prepared (psycopg prepares one
    that a connection runs five times): without it, the compiled statements of every request
    are prepared once per connection. The connection goes back to the pool as it came out
    (transactions on), or is discarded when it cannot."""
    try:
        pooled.driver_connection.autocommit = False
    except Exception:  # a connection closed under the read: not one to give back
        pooled.invalidate()
    pooled.close()


def _end_read(here: _Here) -> None:
    read, here.read = here.read, None
    if read is not None:
        read[0]()  # rolled back: it only read


class _Mine(threading.local):
    driver: sqlite3.Connection | None = None
    pid = 0


class _SqliteReaders:
    """Each thread's own SQLite connection for read-only requests (Database.reader()): opened by
    the pool (so with its pragmas), then detached from it and kept for the thread's next reads.
    The pool's checkout and check-in around each request's read cost a tenth of the unread-count
    poll. SQLite has no server to restart nor connections to count; a forked process opens its
    own. A thread that ended leaves its connection open until another opens one, which closes
    the ended threads' (a server with a thread per request). PostgreSQL's reads keep the pool
    (pre-ping, its size)."""

    def __init__(self) -> None:
        self._mine = _Mine()
        self._lock = threading.Lock()
        self._opened: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._pid = os.getpid()

    def take(self, engine: Engine) -> sqlite3.Connection:
        mine = self._mine
        driver = mine.driver
        if driver is None or mine.pid != os.getpid():
            driver = mine.driver = self._open(engine)
            mine.pid = os.getpid()
        return driver

    def _open(self, engine: Engine) -> sqlite3.Connection:
        pooled = engine.raw_connection()
        driver = pooled.driver_connection
        pooled.detach()
        with self._lock:
            if self._pid != os.getpid():  # a forked process: the parent's are let go, never used
                self._opened, self._pid = [], os.getpid()
            ended = [c for t, c in self._opened if not t.is_alive()]
            self._opened = [(t, c) for t, c in self._opened if t.is_alive()]
            self._opened.append((threading.current_thread(), driver))
        for conn in ended:
            _close_quietly(conn)
        return driver

    def end(self) -> None:
        """End the thread's read; a connection that cannot is closed and not used again."""
        try:
            self._mine.driver.rollback()
        except Exception:
            self.forget()
            raise

    def forget(self) -> None:
        mine = self._mine
        driver, mine.driver = mine.driver, None
        if driver is not None:
            with self._lock:
                self._opened = [(t, c) for t, c in self._opened if c is not driver]
            _close_quietly(driver)

    @property
    def driver(self) -> sqlite3.Connection | None:
        """This thread's connection, if it has one."""
        return self._mine.driver


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:
        pass


class Database:
    """The app-context-scoped session; each app keeps its own engine (bound in create_app()).

    An app context has one connection while it is in a transaction (`connection()`): the
    compiled statements (core.compiled.Fixed) begin one on it without making an ORM session, and the ORM
    session, when the request needs one, binds to it. A request that reads through compiled
    statements alone (the session's lookup, a poll) so never builds the ORM session, its
    transaction and its commit (a sixth of such a request). `commit()` ends the request's work,
    whichever began it; the connection goes back to the pool when its transaction ends."""

    def __init__(self) -> None:
        self._factory = sessionmaker(class_=_AppSession, expire_on_commit=False, join_transaction_mode="control_fully")
        self.session: Session = scoped_session(self._factory, scopefunc=_scope)  # type: ignore[assignment]

    @property
    def engine(self) -> Engine:
        return current_app.extensions["carnet.engine"]

    def connection(self) -> Connection:
        """The app context's connection, checked out of the pool at its first use (a read on
        the driver's connection ends first: see reader())."""
        here = _here()
        conn = here.conn
        if conn is None or conn.closed:
            _end_read(here)
            conn = here.conn = current_app.extensions["carnet.engine"].connect()
        return conn

    def reader(self) -> tuple:
        """The driver's connection and the dialect a compiled statement runs with: the app
        context's connection when it is in a transaction (begun here, outside a read-only
        request). In a read-only request (GET, HEAD, @reads_first; a background reader) with
        no such transaction, a driver connection reading on its own: on SQLite the thread's
        (_SqliteReaders), in a read transaction; on PostgreSQL one of the pool, in autocommit
        (_end_postgresql_read). SQLAlchemy's Connection
        around it (checkout, begin, commit, check-in, their events) cost fifteen times the
        driver's BEGIN and rollback, on every request. That read ends (rolled back) as soon as
        the request asks for the app context's connection (the ORM, a write), which then
        begins its own transaction."""
        here = _here()
        conn = here.conn
        if conn is not None and not conn.closed and conn.in_transaction():
            conn.info["carnet_has_read"] = True  # check_write_intent() does not see this read
            return conn.connection.driver_connection, conn.dialect
        if here.read is not None:
            return here.read[1:]
        if not _read_only.get():
            conn = self.connection()
            conn.begin()
            conn.info["carnet_has_read"] = True
            return conn.connection.driver_connection, conn.dialect
        extensions = current_app.extensions
        engine = extensions["carnet.engine"]
        readers = extensions.get("carnet.sqlite_readers")
        if readers is None:
            pooled = engine.raw_connection()
            driver = pooled.driver_connection
            try:
                driver.autocommit = True  # see _end_postgresql_read
            except Exception:
                _end_postgresql_read(pooled)  # never left checked out
                raise
            here.read = (partial(_end_postgresql_read, pooled), driver, engine.dialect)
            return driver, engine.dialect
        driver = readers.take(engine)
        try:
            _begin_sqlite(driver, "BEGIN")
        except Exception:
            readers.forget()
            raise
        here.read = (readers.end, driver, engine.dialect)
        return driver, engine.dialect

    def in_transaction(self) -> bool:
        """Whether the app context is in a transaction: its connection's (begun by the ORM
        session or by a compiled statement), or a compiled statements' read (reader())."""
        if not has_app_context():
            return False
        here = _here()
        conn = here.conn
        return (conn is not None and not conn.closed and conn.in_transaction()) or here.read is not None

    def end(self, commit: bool) -> None:
        """End the connection's transaction, if the ORM session has left one (begun by compiled
        statements alone), or the compiled statements' read, and give the connection back to
        the pool."""
        if not has_app_context():
            return
        here = _here()
        _end_read(here)
        conn, here.conn = here.conn, None
        if conn is None or conn.closed:
            return
        try:
            if conn.in_transaction():
                conn.commit() if commit else conn.rollback()
        finally:
            conn.close()

    def commit(self) -> None:
        """Commit the app context's work: the ORM session's if one was made, else the transaction
        the compiled statements began (a read: nothing builds a session to end it)."""
        if self.session.registry.has():
            self.session.commit()
        else:
            self.end(commit=True)

    def write_alone(self, statement: Fixed, params: dict) -> bool:
        """Run a compiled UPDATE in a transaction of its own on the connection this request reads
        with, when the request is a read that has written nothing and holds no connection of the
        pool: a session's last activity after a page. The ORM's commit of the read, then
        SQLAlchemy's Connection, pool and events around one UPDATE, cost a page more than its
        other statements. SQLite: the read ends, the process's turn and the write lock are taken
        (BEGIN IMMEDIATE) and the UPDATE is committed (synchronous=FULL, as every connection).
        PostgreSQL: the reading connection is in autocommit, the UPDATE is its own transaction.
        False, with nothing done, in any other case: the caller writes with the request's unit of
        work."""
        if not (has_app_context() and _read_only.get()):
            return False
        here = _here()
        conn = here.conn
        if conn is not None and not conn.closed and conn.in_transaction():
            return False
        if self.session.registry.has():
            session = self.session()
            if _has_written(session):
                return False
        engine = current_app.extensions["carnet.engine"]
        readers = current_app.extensions.get("carnet.sqlite_readers")
        if readers is None:
            statement._execute_on(*self.reader(), params)[0].close()
            return True
        _end_read(here)
        driver = readers.take(engine)
        turn = _WRITERS[engine].acquire()
        try:
            _begin_sqlite(driver, "BEGIN IMMEDIATE")
            try:
                statement._execute_on(driver, engine.dialect, params)[0].close()
                driver.commit()
            except BaseException:
                driver.rollback()
                raise
        except sqlite3.Error as exc:
            raise _sqlalchemys("UPDATE", exc) from exc
        finally:
            turn.release()
        return True

    @staticmethod
    def serves(app: Flask) -> bool:
        """`app` has Carnet's database (gunicorn.conf.py may also serve another app)."""
        return "carnet.engine" in app.extensions

    def init_app(self, app: Flask) -> None:
        engine = app.extensions["carnet.engine"] = make_engine(
            app.config["DATABASE_URL"], app.config["SQLITE_BUSY_TIMEOUT_MS"]
        )
        if engine.dialect.name == "sqlite":
            app.extensions["carnet.sqlite_readers"] = _SqliteReaders()
        if app.config.get("CHECK_WRITE_INTENT"):
            check_write_intent(app.extensions["carnet.engine"])

        @app.teardown_appcontext
        def _remove(exc):
            if self.session.registry.has():  # asked once: a read of compiled statements made none
                if exc is not None:
                    self.session.rollback()
                self.session.remove()
            self.end(commit=False)
            end_request()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_all(self) -> None:
        import_models()
        Base.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        import_models()
        Base.metadata.drop_all(self.engine)


def import_models() -> None:
    """Import every module that declares tables, so metadata is complete (Alembic, tests). Lazy:
    those modules import this one (core.db -> core.audit/... and blueprints/*/models -> core.db)."""
    import core.audit  # noqa: F401
    import core.blobs  # noqa: F401
    import core.grants  # noqa: F401
    import core.notify  # noqa: F401
    import core.people  # noqa: F401
    import core.sessions  # noqa: F401
    import core.throttle  # noqa: F401

    root = Path(__file__).resolve().parent.parent / "blueprints"
    for models in sorted(root.glob("*/models.py")):
        import_module(f"blueprints.{models.parent.name}.models")


db = Database()


def flush_pending() -> None:
    """Write the ORM's pending changes, as its own execute() does first (autoflush): a compiled
    statement (core.compiled.Fixed) that must see what this request added or changed calls it first."""
    if db.session.registry.has():
        session = db.session()
        if session.new or session.dirty or session.deleted:
            session.flush()


def libpq_url(url: str) -> str:
    """The address libpq and its tools (psycopg, pg_dump, psql) read, from an SQLAlchemy URL of
    PostgreSQL (`postgresql+psycopg://...`): the same URL without its driver, password kept."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def insert_for(model):
    """INSERT in the engine's own dialect, for ON CONFLICT clauses (SQLite and PostgreSQL)."""
    return (sqlite if db.is_sqlite else postgresql).insert(model.__table__ if hasattr(model, "__table__") else model)
