"""The fixed cost every logged-in request pays (docs/performance.md, 9 onwards):
each rule that keeps it low, and that the protections it touches still hold."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

import flask.app
import flask_babel
import psycopg
import pytest
from babel import Locale
from flask import Response
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect
from psycopg.pq import TransactionStatus
from sqlalchemy import bindparam, event, exc as sa_exc, select, text, tuple_, update
from sqlalchemy.sql.compiler import SQLCompiler
from werkzeug import exceptions
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from blueprints.messaging import services as messaging
from blueprints.messaging.models import Thread
from core import access, clock, sessions
from core.compiled import Fixed
from core.db import (
    WriteWithoutIntent,
    _AppSession,
    _here,
    before_slow_work,
    db,
    end_request,
    libpq_url,
    make_engine,
    start_request,
    write_intent,
)
from core.grants import Delegation, Guardianship
from core.http import add_vary, finish
from core.people import Account, Patient
from tests.factories import make_document
from tests.helpers import HX, connections, csrf_token, statements
from tests.samples import png_bytes

SECURITY = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Permissions-Policy",
    "Cache-Control",
)


# --- 9. Flask-Login reads its user from the session record alone ---------------------------


def test_the_user_comes_from_the_record_without_the_stock_identifier(app, holder, monkeypatch):
    """The stock loader hashed the address and user agent (SHA-512) on every request for a
    session protection Carnet turns off; the record is the protection."""
    client, account = holder
    manager = app.login_manager

    def refuse():
        raise AssertionError("session identifier computed on a request")

    monkeypatch.setattr(manager, "_session_identifier_generator", refuse)
    r = client.get("/session/etat")
    assert r.status_code == 200 and r.get_json()["authenticated"] is True
    assert client.get("/").status_code == 200


def test_an_ended_record_still_logs_nobody_in(app, holder):

    client, account = holder
    with app.app_context():
        assert sessions.end_for_account(account.id) == 1
        db.session.commit()
    assert client.get("/session/etat").get_json()["authenticated"] is False
    assert client.get("/").status_code in (302, 303)


# --- 10, 30. Security headers: one list, added to the server's list on the way out -----------


def test_security_headers_never_go_through_werkzeugs_headers(app, holder, monkeypatch):
    client, _ = holder
    calls, inside = [], []
    real_set, real_add, app_call = Headers.set, Headers.add, app.wsgi_app

    def counted(real):
        def call(self, key, *args, **kwargs):
            if inside:  # the test client's own Headers, built from the server's list, do not count
                calls.append(key.lower())
            return real(self, key, *args, **kwargs)

        return call

    def the_app(environ, start_response):
        inside.append(True)
        try:
            return app_call(environ, start_response)
        finally:
            inside.clear()

    monkeypatch.setattr(Headers, "set", counted(real_set))
    monkeypatch.setattr(Headers, "add", counted(real_add))
    monkeypatch.setattr(app, "wsgi_app", the_app)
    for path, headers in (("/session/etat", {}), ("/messages/non-lus", HX)):
        calls.clear()
        r = client.get(path, headers=headers)
        assert r.status_code == 200
        assert calls and not {n.lower() for n in SECURITY} & set(calls), calls
        for name in SECURITY:
            assert len(r.headers.getlist(name)) == 1, name
        assert r.headers["Cache-Control"] == "no-store" and "hx-request" in r.headers["Vary"].lower()


def test_a_header_the_view_set_is_replaced_not_doubled():
    """A download sets nosniff and no-store itself: each still appears once, with our value."""

    view = [
        ("Content-Type", "application/pdf"),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "private"),
        ("Expires", "0"),
        ("Content-Security-Policy", "sandbox"),
        ("Vary", "Cookie"),
    ]
    out = Headers(finish(list(view), dynamic=True, strict=False))
    assert out.getlist("X-Content-Type-Options") == ["nosniff"]
    assert out.getlist("Cache-Control") == ["no-store"]
    assert out.getlist("Content-Security-Policy") == ["sandbox"]  # the view's own CSP is kept
    assert "Expires" not in out and out["X-Frame-Options"] == "DENY" and out["Content-Type"] == "application/pdf"
    assert out.getlist("Vary") == ["Cookie, HX-Request, Accept-Encoding"]
    assert "Strict-Transport-Security" not in out
    static = Headers(finish([("Cache-Control", "public, max-age=3600"), ("Expires", "x")], dynamic=False, strict=True))
    assert static.getlist("Cache-Control") == ["public, max-age=3600"] and static["Expires"] == "x"
    assert static["Vary"] == "Accept-Encoding" and static["Strict-Transport-Security"].startswith("max-age=")


def test_every_answer_leaves_with_them_error_pages_and_redirects_included(client):
    for path, status in (("/ceci-n-existe-pas", 404), ("/documents", 302), ("/connexion", 200)):
        r = client.get(path)
        assert r.status_code == status, path
        for name in SECURITY:
            assert len(r.headers.getlist(name)) == 1, (path, name)
        vary = [v.strip().lower() for v in ",".join(r.headers.getlist("Vary")).split(",")]
        assert {"accept-encoding", "hx-request"} <= set(vary) and len(vary) == len(set(vary)), (path, vary)


def test_static_files_keep_their_caching(client):
    r = client.get("/static/css/app.css")
    assert r.status_code == 200 and "no-store" not in r.headers.get("Cache-Control", "")
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "hx-request" not in r.headers.get("Vary", "").lower()


# --- 11. An answer too small to compress never enters Flask-Compress -------------------------


def test_a_small_answer_skips_the_compressor(holder, monkeypatch):
    client, _ = holder

    def refuse(self, response):
        raise AssertionError("Flask-Compress asked about a small answer")

    monkeypatch.setattr(Compress, "after_request", refuse)
    for path, headers in (("/session/etat", {}), ("/messages/non-lus", HX)):
        r = client.get(path, headers={"Accept-Encoding": "br, gzip", **headers})
        assert r.status_code == 200 and len(r.get_data()) < 500, path
        assert "Content-Encoding" not in r.headers and "accept-encoding" in r.headers["Vary"].lower()


# --- 12. SQLite's BEGIN goes to the driver's connection --------------------------------------


@pytest.mark.sqlite_only
def test_begin_is_not_a_statement_of_sqlalchemys(app, holder):

    client, _ = holder
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        assert client.get("/documents?q=compte").status_code == 200  # a search: statements of SQLAlchemy's own
    words = [s.strip().split()[0].upper() for s in seen]
    assert "SELECT" in words and "BEGIN" not in words


@pytest.mark.sqlite_only
def test_a_locked_database_still_raises_sqlalchemys_error(app, monkeypatch):
    """BEGIN IMMEDIATE refused (another writer past the busy timeout) is the OperationalError
    SQLAlchemy raised before, not the driver's bare exception."""

    path = app.config["DATABASE_URL"].split("sqlite:///", 1)[1]
    blocker = sqlite3.connect(path, timeout=0, isolation_level=None)
    engine = make_engine(app.config["DATABASE_URL"], busy_timeout_ms=50)
    monkeypatch.setitem(app.extensions, "carnet.engine", engine)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with app.app_context():
            write_intent()
            with pytest.raises(sa_exc.OperationalError, match="locked"):
                db.session.execute(text("SELECT 1"))
            db.session.rollback()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        engine.dispose()


# --- 13. The statements every request runs are compiled once, run on the driver's cursor -----


def test_the_session_lookup_reads_what_sqlalchemy_read(app, holder):
    """compiled.Fixed converts each value with the column's own type (aware datetimes, JSON, booleans):
    the record is the one SQLAlchemy's execution returned."""

    client, account = holder
    token = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    params = {"token_hash": sessions._hash(token)}
    with app.app_context():
        fixed = sessions._BY_TOKEN.first(params)
        plain = db.session.connection().execute(sessions._BY_TOKEN.statement, params).first()
        assert fixed is not None and tuple(fixed) == tuple(plain)
        assert [type(v) for v in fixed] == [type(v) for v in plain]
        assert fixed.last_active_at.tzinfo is not None and isinstance(fixed.data, dict)
        assert fixed.account_id == account.id and fixed.kiosk is False and fixed.active is True
        assert sessions._BY_TOKEN.first({"token_hash": "0" * 64}) is None


def test_the_floor_and_the_poll_run_no_sqlalchemy_statement(app, holder):
    """The session's lookup (every request) and the unread count (every open page, every 30 s)
    run on the DB-API cursor, in the request's transaction."""

    client, _ = holder
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        assert client.get("/session/etat").status_code == 200
        r = client.get("/messages/non-lus", headers=HX)
        assert r.status_code == 200 and b"nav-count" in r.get_data()
    assert seen == []


def test_the_poll_counts_this_space_only(app, holder, make_holder, make_pro):
    """The compiled count keeps the gate's filter: another holder's unread threads never show."""

    client, account = holder
    other, _ = make_holder()
    pro = make_pro()
    with app.app_context():
        for patient_id, unread in ((account.patient_id, 2), (other.patient_id, 5)):
            db.session.add(
                Thread(
                    patient_id=patient_id,
                    professional_id=pro.professional_id,
                    subject="x",
                    started_by="professional",
                    holder_unread=unread,
                    search_text="x",
                )
            )
        db.session.commit()
        assert messaging.unread_count(access.Viewer("holder", patient_id=account.patient_id)) == 2
        assert messaging.unread_count(access.Viewer("holder", patient_id=other.patient_id)) == 5
    r = client.get("/messages/non-lus", headers=HX)
    assert r.status_code == 200 and b">2<" in r.get_data()


# --- 15. The header's switch: one statement compiled once, every condition kept -------------


def test_the_switch_keeps_every_condition_and_runs_no_sqlalchemy_statement(app, make_holder):
    """Children under 18 with a live guardianship in an open space, youngest first; people
    helped through a delegation accepted, begun, not past its end, not ended, in an open space,
    by name. Read on the driver's cursor with the patient and the day as parameters."""

    parent, _ = make_holder()
    today = clock.paris_today()
    kids = {
        name: make_holder(pending=True, given_names=name, birth_date=today - timedelta(days=days))[0]
        for name, days in (("Lou", 2000), ("Max", 400), ("Adulte", 19 * 366), ("Fin", 900), ("Ferme", 800))
    }
    helped = {
        name: make_holder(given_names=name, family_name=family)[0]
        for name, family in (("Zoé", "Bernard"), ("Paul", "Arnaud"), ("Tard", "X"), ("Passe", "X"), ("Close", "X"))
    }
    with app.test_request_context(method="POST"):
        for name, kid in kids.items():
            ended = clock.utcnow() if name == "Fin" else None
            db.session.add(
                Guardianship(patient_id=kid.patient_id, guardian_patient_id=parent.patient_id, ended_at=ended)
            )
        db.session.get(Patient, kids["Ferme"].patient_id).status = "closed"
        spans = {"Tard": (1, 30), "Passe": (-30, -1)}
        for name, account in helped.items():
            start, end = spans.get(name, (-1, 30))
            db.session.add(
                Delegation(
                    patient_id=account.patient_id,
                    helper_patient_id=parent.patient_id,
                    email="aidant@example.org",
                    scopes=["documents.read"],
                    starts_on=today + timedelta(days=start),
                    ends_on=today + timedelta(days=end),
                    status="accepted",
                )
            )
        db.session.get(Patient, helped["Close"].patient_id).status = "closed"
        db.session.commit()

        with statements(db.engine) as seen:
            rows = access.switchable(parent.patient_id)
        assert [(given, role) for _id, given, _family, role in rows] == [
            ("Lou", "ward"),
            ("Max", "ward"),
            ("Paul", "helped"),
            ("Zoé", "helped"),
        ]
        assert seen == []
        assert access.switchable(kids["Lou"].patient_id) == []


def test_fixed_in_lists_read_what_sqlalchemy_reads(app, make_holder):
    """compiled.Fixed takes IN lists as SQLAlchemy does: a fixed list is expanded once when compiled, a
    list given at each call (none, one, several ids) at that call; same rows either way."""

    ids = [make_holder(given_names=name)[0].patient_id for name in ("Ana", "Bea", "Cyd")]
    statement = (
        select(Patient.id, Patient.given_names, Patient.birth_date)
        .where(Patient.id.in_(bindparam("ids", expanding=True)), Patient.status.in_(["active", "pending"]))
        .order_by(Patient.given_names)
    )
    fixed = Fixed(statement)
    with app.test_request_context(method="POST"):
        for wanted in ([], ids[:1], ids, ids + ["nobody"]):
            plain = db.session.connection().execute(statement, {"ids": wanted}).all()
            assert [tuple(r) for r in fixed.all({"ids": wanted})] == [tuple(r) for r in plain]
        assert [r.given_names for r in fixed.all({"ids": ids})] == ["Ana", "Bea", "Cyd"]


def test_fixed_converts_every_parameter_of_a_statement_with_a_list(app, make_holder):
    """With a list given at each call, the statement's other parameters still go through their
    columns' types: a naive datetime is refused as SQLAlchemy refuses it, an aware one matches."""

    account, _ = make_holder()
    statement = select(Account.id).where(
        Account.id.in_(bindparam("ids", expanding=True)), Account.created_at >= bindparam("since")
    )
    fixed = Fixed(statement)
    with app.test_request_context(method="POST"):
        with pytest.raises(Exception, match="naive datetime refused"):
            db.session.connection().execute(statement, {"ids": [account.id], "since": datetime(2020, 1, 1)})
        db.session.rollback()
        with pytest.raises(ValueError, match="naive datetime refused"):
            fixed.all({"ids": [account.id], "since": datetime(2020, 1, 1)})
        db.session.rollback()
        hour_ago = clock.utcnow() - timedelta(hours=1)
        assert [r.id for r in fixed.all({"ids": [account.id], "since": hour_ago})] == [account.id]
        assert fixed.all({"ids": [account.id], "since": clock.utcnow() + timedelta(hours=1)}) == []


def test_fixed_expands_a_list_once_per_padded_length(app, make_holder, monkeypatch):
    """A list given at each call is expanded by SQLAlchemy once per length rounded up to a power
    of two, the last value repeated (docs/performance.md, 40): IN and NOT IN read what
    SQLAlchemy reads for every length, and the list's items go through their column's type."""
    ids = [make_holder(given_names=f"P{i}")[0].patient_id for i in range(9)]
    inside = select(Patient.given_names).where(Patient.id.in_(bindparam("ids", expanding=True)))
    outside = select(Patient.given_names).where(Patient.id.not_in(bindparam("ids", expanding=True)))
    moments = select(Account.id).where(Account.created_at.in_(bindparam("at", expanding=True)))
    expansions = []
    real = SQLCompiler.construct_expanded_state
    monkeypatch.setattr(
        SQLCompiler, "construct_expanded_state", lambda self, *a, **k: expansions.append(1) or real(self, *a, **k)
    )
    with app.test_request_context(method="POST"):
        for statement in (inside, outside):
            fixed = Fixed(statement.order_by(Patient.given_names))
            for n in range(1, 10):
                wanted = ids[:n] if n % 2 else list(reversed(ids[:n])) + ids[:1]  # duplicates too
                plain = db.session.connection().execute(statement.order_by(Patient.given_names), {"ids": wanted})
                assert [r.given_names for r in fixed.all({"ids": wanted})] == [r.given_names for r in plain], n
        expansions.clear()
        fixed = Fixed(inside)
        for n in (1, 2, 3, 4, 5, 7, 8, 3, 1):
            fixed.all({"ids": ids[:n]})
        assert len(expansions) == 4  # lengths 1, 2, 4 and 8
        fixed.all({"ids": []})  # an empty list: SQLAlchemy's own expansion, at each call
        fixed.all({"ids": []})
        assert len(expansions) == 6
        pairs = select(Patient.given_names).where(
            tuple_(Patient.id, Patient.given_names).in_(bindparam("pairs", expanding=True))
        )
        wanted = [(ids[0], "P0"), (ids[1], "nobody"), (ids[2], "P2")]
        plain = db.session.connection().execute(pairs.order_by(Patient.given_names), {"pairs": wanted}).all()
        found = Fixed(pairs.order_by(Patient.given_names)).all({"pairs": wanted})  # tuples: SQLAlchemy's own
        assert [r.given_names for r in found] == [r.given_names for r in plain] == ["P0", "P2"]
        account, _ = make_holder()
        created = db.session.get(Account, account.id).created_at
        found = Fixed(moments).all(
            {"at": [created, created + timedelta(seconds=1), clock.utcnow() + timedelta(days=1)]}
        )
        assert [r.id for r in found] == [account.id]


# --- 22. The floor's leftovers: Vary as text, the locale parsed once, coroutines asked once ---


def test_vary_names_each_header_once_whatever_the_case():

    r = Response("x")
    add_vary(r, "Cookie")
    add_vary(r, "HX-Request")
    add_vary(r, "cookie")
    add_vary(r, "Accept-Encoding")
    add_vary(r, "hx-request")
    assert r.headers.getlist("Vary") == ["Cookie, HX-Request, Accept-Encoding"]
    r.headers["Vary"] = "Origin"  # a view's own Vary is kept
    add_vary(r, "Cookie")
    assert r.headers["Vary"] == "Origin, Cookie"


def test_a_logged_in_answer_varies_on_its_cookie_htmx_and_encoding_once_each(holder):
    client, _ = holder
    for path, headers in (("/", {}), ("/messages/non-lus", HX), ("/session/etat", {})):
        r = client.get(path, headers={"Accept-Encoding": "br", **headers})
        assert r.status_code == 200, path
        names = [v.strip().lower() for v in ",".join(r.headers.getlist("Vary")).split(",")]
        assert sorted(names) == ["accept-encoding", "cookie", "hx-request"], (path, names)


def test_the_locale_is_parsed_once_per_process_and_follows_the_person(app, holder):
    """The selector hands Flask-Babel a Locale parsed at start-up (a code is parsed again on
    every request); the language chosen still wins."""

    client, _ = holder
    parsed = []
    real = Locale.parse

    def counted(identifier, *args, **kwargs):
        parsed.append(identifier)
        return real(identifier, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Locale, "parse", staticmethod(counted))
        assert "Accueil" in client.get("/").get_data(as_text=True)
        assert not [p for p in parsed if isinstance(p, str)], parsed
    token = csrf_token(client, "/")
    assert client.post("/langue/en", data={"csrf_token": token}).status_code == 303
    assert "Home" in client.get("/").get_data(as_text=True)
    with app.test_request_context("/"):
        assert str(flask_babel.get_locale()) == "fr"


def test_flask_asks_once_per_function_whether_it_is_a_coroutine(app, holder, monkeypatch):

    client, _ = holder
    client.get("/session/etat")
    asked = []
    real = flask.app.iscoroutinefunction
    monkeypatch.setattr(flask.app, "iscoroutinefunction", lambda f: asked.append(f) or real(f))
    for _ in range(3):
        assert client.get("/session/etat").status_code == 200
    assert asked == []

    async def not_carnet():  # still handed to Flask's own check (which wants flask[async])
        return 7

    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(not_carnet)


# --- 26. A read of compiled statements alone makes no ORM session ----------------------------


def test_the_floor_and_the_poll_make_no_orm_session_and_give_the_connection_back(app, holder):
    """The session's lookup and the unread count begin their transaction on the app context's
    connection; nothing builds the ORM session, its transaction or its commit, and the
    connection is back in the pool when the answer leaves."""

    client, _ = holder
    began = []

    def watch(session, transaction):
        began.append(transaction)

    event.listen(_AppSession, "after_transaction_create", watch)
    try:
        assert client.get("/session/etat").status_code == 200
        r = client.get("/messages/non-lus", headers=HX)
        assert r.status_code == 200 and b"nav-count" in r.get_data()
    finally:
        event.remove(_AppSession, "after_transaction_create", watch)
    assert began == []
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
    assert client.get("/").status_code == 200  # a page that needs the ORM still has it


def test_compiled_and_orm_statements_share_one_transaction_ended_by_the_session(app, holder):
    """The ORM session joins the transaction a compiled statement began and ends it as its own:
    `db.session.rollback()` (used to end a read before slow work) ends it too."""

    client, account = holder
    token = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    params = {"token_hash": sessions._hash(token)}
    with app.app_context():
        assert sessions._BY_TOKEN.first(params).account_id == account.id
        conn = db.connection()
        assert db.in_transaction() and not db.session.registry.has()
        assert db.session.scalar(select(Account.email).where(Account.id == account.id))
        assert db.session.connection() is conn  # one connection, one transaction
        db.session.rollback()
        assert not db.in_transaction() and conn.closed
        assert sessions._BY_TOKEN.first(params) is not None and db.in_transaction()
        db.session.commit()  # the session never joined this one: it ends it all the same
        assert not db.in_transaction()


def test_a_write_after_a_compiled_read_takes_the_write_lock_first(app, holder):
    """write_intent() ends the read transaction a compiled statement began, so the write opens its
    own (BEGIN IMMEDIATE on SQLite; the tests' CHECK_WRITE_INTENT raises for a write in a read)."""

    client, account = holder
    token = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    with app.test_request_context(method="GET"):
        assert sessions._BY_TOKEN.first({"token_hash": sessions._hash(token)}) is not None
        assert db.in_transaction()
        write_intent()
        assert not db.in_transaction()
        db.session.execute(update(Account).where(Account.id == account.id).values(locale="en"))
        db.session.commit()
    with app.app_context():
        assert db.session.get(Account, account.id).locale == "en"


def _live(account):
    """The account's live session record, as the ORM loads it (inside a context)."""
    return db.session.scalars(
        select(sessions.UserSession).where(
            sessions.UserSession.account_id == account.id, sessions.UserSession.ended_at.is_(None)
        )
    ).one()


def _record(app, account):
    with app.app_context():
        return db.session.execute(
            select(sessions.UserSession.last_active_at, sessions.UserSession.data).where(
                sessions.UserSession.account_id == account.id, sessions.UserSession.ended_at.is_(None)
            )
        ).one()


def test_a_touch_is_one_compiled_update_committed_with_the_request(app, holder):
    """A page read after the touch window writes its last activity through a compiled UPDATE
    (no SQLAlchemy statement, no ORM UPDATE), committed with the request; a value written so reads
    back through the ORM as the ORM wrote it."""
    client, account = holder
    clock.freeze(clock.utcnow())
    clock.advance(timedelta(seconds=app.config["SESSION_TOUCH_SECONDS"] + 1))
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        assert client.get("/historique").status_code == 200
    assert not [s for s in seen if "user_sessions" in s and s.lstrip().upper().startswith("UPDATE")]
    assert _record(app, account).last_active_at == clock.utcnow()


def test_a_new_session_record_is_one_compiled_insert_committed_with_the_request(app, client):
    """The login page makes a record for its visitor (its form's token) through a compiled
    INSERT, not the ORM's unit of work (docs/performance.md, 83); the row reads back through the
    ORM as the ORM wrote it: the cookie's token hashed, the data, where it came from, its times."""
    clock.freeze(clock.utcnow())
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        answer = client.get("/connexion", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14)"})
    assert answer.status_code == 200
    assert not [s for s in seen if "user_sessions" in s and s.lstrip().upper().startswith("INSERT")]
    token = client.get_cookie("carnet_session").value
    assert "Cookie" in answer.headers["Vary"]
    with app.app_context():
        record = db.session.scalars(
            select(sessions.UserSession).where(sessions.UserSession.token_hash == sessions._hash(token))
        ).one()
        assert record.account_id is None and record.ended_at is None and record.kiosk is False
        assert "csrf_token" in record.data and record.user_agent == "Mozilla/5.0 (Linux; Android 14)"
        assert record.created_at == record.last_active_at == clock.utcnow() and len(record.id) == 36


def test_a_readers_touch_is_written_alone_on_its_reading_connection(app, holder):
    """A page that only read writes its session's last activity in a transaction of its own, on
    the connection it read with (docs/performance.md, 85): no Connection of SQLAlchemy is made, the
    value reads back, and on SQLite that connection commits as durably as the pool's
    (synchronous=FULL, SECURITY.md)."""
    client, account = holder
    clock.freeze(clock.utcnow())
    clock.advance(timedelta(seconds=app.config["SESSION_TOUCH_SECONDS"] + 1))
    with app.app_context():
        engine = db.engine
    with connections(engine) as made, statements(engine) as seen:
        assert client.get("/historique").status_code == 200
    assert made == [] and not [s for s in seen if "user_sessions" in s]
    assert _record(app, account).last_active_at == clock.utcnow()
    assert engine.pool.checkedout() == 0
    if engine.dialect.name == "sqlite":
        readers = app.extensions["carnet.sqlite_readers"]
        assert readers.driver.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_write_alone_is_refused_where_the_request_has_written(app, holder):
    """With an ORM change pending, or outside a read, nothing is written alone: the caller writes
    with the request's unit of work."""
    client, account = holder
    client.get("/")
    with app.test_request_context(method="GET"):
        start_request("GET")
        record = _live(account)
        record_id, record.user_agent = record.id, "pending"
        update = sessions._update(("last_active_at",))
        assert db.write_alone(update, {"record_id": record_id, "last_active_at": clock.utcnow()}) is False
        db.session.rollback()
        end_request()
    with app.test_request_context(method="POST"):
        start_request("POST")
        assert db.write_alone(update, {"record_id": record_id, "last_active_at": clock.utcnow()}) is False
        end_request()


def test_a_compiled_update_writes_a_json_column_as_the_orm_does(app, holder):
    client, account = holder
    client.get("/")
    with app.test_request_context(method="POST"):
        start_request("POST")
        record_id = _live(account).id
        data = {"_user_id": account.id, "note": "é ✓", "n": [1, 2]}
        assert sessions._update(("data",)).run({"record_id": record_id, "data": data}) == 1
        db.commit()
        end_request()
    assert _record(app, account).data == data


def test_a_compiled_write_is_refused_in_a_read(app, holder):
    """A GET's transaction is a read, rolled back at its end: a write there would be lost
    (and on SQLite refused under load), so the compiled UPDATE says so at once."""
    client, account = holder
    with app.test_request_context(method="GET"):
        start_request("GET")
        with pytest.raises(WriteWithoutIntent):
            sessions._update(("last_active_at",)).run({"record_id": "x", "last_active_at": clock.utcnow()})
        end_request()


def test_a_compiled_write_comes_after_the_orms_pending_changes(app, holder):
    """As the ORM's own UPDATE did (autoflush), pending changes are written first: the compiled
    UPDATE, run last, is the value that stays."""
    client, account = holder
    client.get("/")
    later = clock.utcnow() + timedelta(minutes=5)
    with app.test_request_context(method="POST"):
        start_request("POST")
        record = _live(account)
        record.last_active_at = later - timedelta(minutes=1)
        record.user_agent = "changed by the ORM"
        sessions._update(("last_active_at",)).run({"record_id": record.id, "last_active_at": later})
        db.commit()
        end_request()
    assert _record(app, account).last_active_at == later
    with app.app_context():
        assert (
            db.session.scalar(
                select(sessions.UserSession.user_agent).where(sessions.UserSession.account_id == account.id)
            )
            == "changed by the ORM"
        )


def test_a_compiled_write_is_part_of_the_sessions_unit_of_work(app, holder):
    """After a compiled write (a trace, a session's activity), slow work never commits the
    transaction half done: before_slow_work() says so and leaves it open, as after an ORM write."""
    client, account = holder
    client.get("/")
    later = clock.utcnow() + timedelta(minutes=5)
    with app.test_request_context(method="POST"):
        start_request("POST")
        record_id = _live(account).id
        sessions._update(("last_active_at",)).run({"record_id": record_id, "last_active_at": later})
        assert before_slow_work() is False and db.in_transaction()
        db.session.rollback()
        end_request()
    assert _record(app, account).last_active_at != later


def test_write_intent_after_compiled_reads_alone_makes_no_orm_session(app, holder):
    client, account = holder
    token = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    with app.test_request_context(method="GET"):
        start_request("GET")
        assert sessions._BY_TOKEN.first({"token_hash": sessions._hash(token)}) is not None
        write_intent()
        assert not db.in_transaction() and not db.session.registry.has()
        end_request()


# --- 30. The hooks of every request ask only what they need ------------------------------------


def test_flask_wtf_is_asked_on_the_methods_it_protects_only(app, holder, monkeypatch):
    """Its own hook looked up the view's exemptions on every GET; a POST is still checked, and
    refused without its token."""

    client, _ = holder
    asked = []
    real = CSRFProtect.protect
    monkeypatch.setattr(CSRFProtect, "protect", lambda self, **kw: asked.append(kw) or real(self, **kw))
    for path, headers in (("/", {}), ("/messages/non-lus", HX), ("/session/etat", {})):
        assert client.get(path, headers=headers).status_code == 200
    assert asked == [] and app.config["WTF_CSRF_CHECK_DEFAULT"] is False
    r = client.post("/deconnexion")
    assert r.status_code == 400 and asked == [{"apply_exemptions": True}]


# --- 31. A read-only request's compiled reads run on a pooled driver connection -------------------


def test_the_floor_and_the_poll_make_no_sqlalchemy_connection(app, holder):
    """GET /session/etat and the poll read through compiled statements on a connection of the
    pool itself: no Connection of SQLAlchemy (its checkout, begin, commit and check-in) is made,
    and the pool has it back when the answer leaves."""

    client, _ = holder
    with app.app_context():
        engine = db.engine
    with connections(engine) as made:
        assert client.get("/session/etat").get_json()["authenticated"] is True
        assert b"nav-count" in client.get("/messages/non-lus", headers=HX).get_data()
        assert made == []
        assert client.get("/compte").status_code == 200  # a page that needs the ORM still has it
        assert made
    assert engine.pool.checkedout() == 0


def test_the_orm_ends_the_read_and_begins_its_own_transaction(app, holder):

    client, account = holder
    params = {"token_hash": sessions._hash(client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)}
    with app.test_request_context(method="GET"):
        start_request("GET")
        engine = db.engine
        assert sessions._BY_TOKEN.first(params).account_id == account.id
        assert _here().read is not None and _here().conn is None and db.in_transaction()
        # SQLite reads on the thread's own connection, out of the pool; PostgreSQL on the pool's
        assert engine.pool.checkedout() == (0 if db.is_sqlite else 1)
        assert db.session.scalar(select(Account.email).where(Account.id == account.id))
        assert _here().read is None and db.session.connection() is _here().conn
        assert engine.pool.checkedout() == 1  # the read's connection went back first
        assert sessions._BY_TOKEN.first(params) is not None  # now on the ORM's transaction
        assert _here().read is None
        db.session.rollback()
        assert not db.in_transaction() and engine.pool.checkedout() == 0
        assert sessions._BY_TOKEN.first(params) is not None and _here().read is not None
        db.commit()
        assert not db.in_transaction() and engine.pool.checkedout() == 0


def test_a_request_that_writes_reads_on_sqlalchemys_connection(app, holder):
    """A POST begins its transaction for writing from its first read (BEGIN IMMEDIATE on
    SQLite): its compiled reads run on the app context's connection, as the ORM's do."""

    client, _ = holder
    params = {"token_hash": sessions._hash(client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)}
    with app.test_request_context(method="POST"):
        start_request("POST")
        try:
            assert sessions._BY_TOKEN.first(params) is not None
            assert _here().read is None and _here().conn.in_transaction()
            db.commit()
        finally:
            end_request()


# --- 33. SQLite: a thread reads on its own connection, out of the pool -------------------------


def _readers(app):
    return app.extensions["carnet.sqlite_readers"]


@pytest.mark.sqlite_only
def test_a_thread_reads_on_its_own_connection_request_after_request(app, holder):
    """Read-only requests of one thread run on one SQLite connection kept for it, left out of any
    transaction between requests (a read that stayed open would hold back the WAL's checkpoint and
    hide the next request's writes from it); another thread has its own, closed once that thread
    has ended and another opens one."""

    client, _ = holder
    assert client.get("/session/etat").get_json()["authenticated"] is True
    mine = _readers(app).driver
    assert mine is not None and not mine.in_transaction
    assert b"nav-count" in client.get("/messages/non-lus", headers=HX).get_data()
    assert _readers(app).driver is mine and not mine.in_transaction

    theirs = []

    def other():
        client.get("/session/etat")
        theirs.append(_readers(app).driver)

    for _ in range(2):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    first, second = theirs
    assert first is not None and second not in (None, first, mine)
    assert _readers(app).driver is mine
    # a server with a thread per request: the second thread's connection closed the first's
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")
    assert second.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.sqlite_only
def test_a_kept_connection_that_fails_is_replaced(app, holder):
    """A connection that can no longer begin (closed under it) answers the request with the
    database's error once, is closed and forgotten; the thread's next request opens another."""
    client, _ = holder
    client.get("/session/etat")
    broken = _readers(app).driver
    broken.close()
    with pytest.raises(sa_exc.DBAPIError):
        client.get("/session/etat")
    assert _readers(app).driver is None
    assert client.get("/session/etat").get_json()["authenticated"] is True
    assert _readers(app).driver not in (None, broken)


@pytest.mark.sqlite_only
def test_a_forked_process_opens_its_own_connection(app, holder, monkeypatch):
    """A connection is never shared with a forked process (gunicorn's --preload): a new process
    id opens a new one, with the pool's pragmas (WAL, foreign keys)."""

    client, _ = holder
    client.get("/session/etat")
    parent = _readers(app).driver
    pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: pid + 1)
    assert client.get("/session/etat").get_json()["authenticated"] is True
    child = _readers(app).driver
    assert child is not parent
    assert child.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert child.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# --- 34. No HTTP exception is built on the way of an ordinary answer ---------------------------


@contextmanager
def _key_errors(monkeypatch, built: list):
    """Inside the block, each BadRequestKeyError werkzeug builds (a missing name looked up) is
    added to `built`: counted inside the application only (the test client builds its own)."""
    real = exceptions.BadRequestKeyError.__init__

    def counted(self, *args, **kwargs):
        built.append(args)
        real(self, *args, **kwargs)

    with monkeypatch.context() as mp:
        mp.setattr(exceptions.BadRequestKeyError, "__init__", counted)
        yield


def test_the_floor_and_the_poll_build_no_http_exception(app, holder, monkeypatch):
    """werkzeug answers a look-up of a missing name (a cookie, a header) by building an HTTP
    exception: the kiosk's cookie is asked with `in` first, and an answer given no headers is
    told its type (app.Answer) rather than searching its empty headers. Counted inside the
    application only (the test client builds its own)."""
    client, _ = holder
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    built = []
    for path, headers in (("/session/etat", {}), ("/messages/non-lus", HX)):
        environ = EnvironBuilder(
            path=path, base_url="http://localhost", headers={"Cookie": f"carnet_session={cookie}", **headers}
        ).get_environ()
        status = []
        with _key_errors(monkeypatch, built):
            body = b"".join(app(environ, lambda s, h, e=None, seen=status: seen.append((s, dict(h)))))
        assert status[0][0] == "200 OK" and body, path
    assert status[0][1]["Content-Type"] == "text/html; charset=utf-8" and b"nav-count" in body
    assert built == []


def test_an_image_a_phone_asks_for_builds_no_http_exception(app, holder, monkeypatch):
    """Whether an answer may be compressed is read first from its type, then from the environ:
    `"Range" in request.headers` built a BadRequestKeyError for every thumbnail a phone asked
    for. Pages are still compressed, images still not."""
    client, account = holder
    doc = make_document(app, account, png_bytes(size=(900, 700)), "radio.png", category="RADIO_SC")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    built = []
    phone = {"Cookie": f"carnet_session={cookie}", "Accept-Encoding": "gzip, br", "Sec-Fetch-Site": "same-origin"}
    answers = {}
    for path in (f"/documents/{doc.id}/vignette", "/documents"):
        environ = EnvironBuilder(path=path, base_url="http://localhost", headers=phone).get_environ()
        status = []
        built.clear()
        with _key_errors(monkeypatch, built):
            body = b"".join(app(environ, lambda s, h, e=None, seen=status: seen.append((s, dict(h)))))
        assert status[0][0] == "200 OK" and len(body) > app.config["COMPRESS_MIN_SIZE"], path
        answers[path] = status[0][1], list(built)
    thumbnail, page = answers[f"/documents/{doc.id}/vignette"], answers["/documents"]
    assert thumbnail[0]["Content-Type"] == "image/jpeg" and "Content-Encoding" not in thumbnail[0]
    assert thumbnail[1] == []
    assert page[0]["Content-Encoding"] == "br"


def test_an_answer_keeps_the_type_it_is_given(app):
    assert app.response_class("x").content_type == "text/html; charset=utf-8"
    assert app.response_class("x", headers={"Content-Type": "text/csv"}).content_type == "text/csv"
    assert app.response_class("{}", mimetype="application/json").content_type == "application/json"
    assert app.response_class("x", content_type="text/plain").content_type == "text/plain"


def test_fixed_tuples_are_all_rows_values_as_plain_tuples(app, holder):
    """tuples() reads what all() reads, converted alike (aware datetimes, JSON, booleans), as tuples."""
    client, _account = holder
    token = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    params = {"token_hash": sessions._hash(token)}
    with app.app_context():
        plain = db.session.connection().execute(sessions._BY_TOKEN.statement, params).all()
        rows = sessions._BY_TOKEN.tuples(params)
        assert rows == [tuple(r) for r in sessions._BY_TOKEN.all(params)] == [tuple(r) for r in plain]
        assert len(rows) == 1 and type(rows[0]) is tuple
        assert [type(v) for v in rows[0]] == [type(v) for v in plain[0]]
        assert sessions._BY_TOKEN.tuples({"token_hash": "0" * 64}) == []


# --- PostgreSQL: a read-only request reads in autocommit ----------------------------------------


@pytest.mark.postgresql_only
def test_a_postgresql_read_opens_no_transaction_and_leaves_the_pool_as_it_found_it(app, holder):
    """The compiled reads of a GET run in autocommit: no BEGIN nor ROLLBACK goes to the server
    (under READ COMMITTED each statement saw its own snapshot anyway). The connection goes back
    to the pool with transactions on: SQLAlchemy's next Connection on it writes in a transaction."""
    client, account = holder
    params = {"token_hash": sessions._hash(client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)}
    with app.test_request_context(method="GET"):
        start_request("GET")
        try:
            assert sessions._BY_TOKEN.first(params).account_id == account.id
            driver = _here().read[1]
            assert driver.autocommit and driver.info.transaction_status == TransactionStatus.IDLE
            db.end(commit=False)
            assert not driver.autocommit and db.engine.pool.checkedout() == 0
        finally:
            end_request()
    with app.app_context(), db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        assert conn.connection.driver_connection.info.transaction_status == TransactionStatus.INTRANS
        conn.rollback()


@pytest.mark.postgresql_only
def test_a_postgresql_connection_keeps_its_prepared_statements_from_request_to_request(app, holder):
    """psycopg prepares a statement a connection has run five times; a ROLLBACK makes it forget
    them all. With no transaction around reads, the session's lookup is prepared once, then
    read prepared on every later request."""
    client, _ = holder
    for _ in range(30):  # the pool gives its connections in turn: each of its five at least six times
        assert client.get("/session/etat").get_json()["authenticated"] is True
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
        with db.engine.connect() as conn:
            prepared = conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
            conn.rollback()
    assert any("user_sessions" in s and "token_hash" in s for s in prepared), prepared


@pytest.mark.postgresql_only
def test_a_connection_the_server_ended_is_replaced_before_anyone_reads_on_it(app, holder):
    """A restarted server (or a killed backend) leaves the pool's idle connections dead. Each is
    found at checkout (the server's last words wait on its socket) and replaced, without a round
    trip: no request sees an error."""
    client, _ = holder
    for _ in range(3):
        assert client.get("/session/etat").get_json()["authenticated"] is True
    with app.app_context():
        url = libpq_url(app.config["DATABASE_URL"])
        pooled = db.engine.pool.checkedin()
    assert pooled >= 1
    with psycopg.connect(url, autocommit=True) as admin:
        others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ended = admin.execute(f"SELECT count(pg_terminate_backend(pid)) {others}").fetchone()[0]
        assert ended >= pooled
        for _ in range(1000):  # until the backends are gone (their last words sent)
            if not admin.execute(f"SELECT count(*) {others}").fetchone()[0]:
                break
            admin.execute("SELECT pg_sleep(0.01)")
    assert client.get("/session/etat").get_json()["authenticated"] is True
    assert client.get("/").status_code == 200
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1
        db.session.rollback()
