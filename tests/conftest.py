"""Fixtures: one app per test session, a clean database and outbox for every test, the
factories of tests/factories.py bound to the app, logging in for real and without the screens.
Plain helpers live in tests/helpers.py."""

from __future__ import annotations

import io
import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from flask import session
from sqlalchemy import create_engine, make_url, text, update

from blueprints.auth.routes import complete_login
from core import access, clock, sessions
from core.db import Base, db
from core.people import Account
from core.sessions import UserSession
from tests import factories
from tests.helpers import CHEAP_ARGON2, HX, PASSWORD, csrf_token, forget_anchors, last_code


def _database_url(tmp_root) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("TEST_REQUIRE_DATABASE"):
        pytest.exit("TEST_REQUIRE_DATABASE is set but TEST_DATABASE_URL is not", returncode=3)
    return f"sqlite:///{tmp_root / 'test.db'}"


def _own_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database, <name>_<worker>, made
    on first use (tables are emptied between tests: workers cannot share one)."""
    base = make_url(url)
    mine = base.set(database=f"{base.database}_{worker}")
    engine = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": mine.database}):
                conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    finally:
        engine.dispose()
    return mine.render_as_string(hide_password=False)


def pytest_configure(config):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("TEST_DATABASE_URL")
    if worker and url and url.startswith("postgresql"):
        # also seen by the subprocesses some tests start (migrations, fault injection)
        os.environ["TEST_DATABASE_URL"] = _own_database(url, worker)


def pytest_collection_modifyitems(config, items):
    """The pass against another database (TEST_DATABASE_URL) runs what can reach it: tests of the
    app fixture, or marked `database`; the others ran the same in the SQLite pass. Tests about
    SQLite itself (`sqlite_only`) are not run there, nor tests about PostgreSQL itself
    (`postgresql_only`) in the SQLite pass: deselected and counted, never skipped."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    kept, dropped = [], []
    for item in items:
        runs = url.startswith("postgresql") or item.get_closest_marker("postgresql_only") is None
        if url:
            runs = runs and ("app" in item.fixturenames or item.get_closest_marker("database") is not None)
            runs = runs and item.get_closest_marker("sqlite_only") is None
        (kept if runs else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from app import create_app

    root = tmp_path_factory.mktemp("carnet")
    application = create_app(
        {
            "ENV_NAME": "test",
            "TESTING": True,
            "DATABASE_URL": _database_url(root),
            "DEMO": True,
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "CODE_PEPPER": "test-pepper-" + "y" * 32,
            "SERVER_NAME": None,
            "CHECK_WRITE_INTENT": True,
            **CHEAP_ARGON2,
        },
        instance_path=str(root / "instance"),
    )
    with application.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            # A fresh schema: whatever an earlier run (of another version) left there goes.
            with engine.begin() as conn:  # and it fails loudly if the server is not there
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(request):
    """Empty every table, the outbox, the audit anchor file and the test clock before each test
    that uses the app."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    clock.reset()
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(t.name for t in Base.metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())
    forget_anchors(app)
    outbox = os.path.join(app.instance_path, "outbox")
    if os.path.isdir(outbox):
        for name in os.listdir(outbox):
            os.remove(os.path.join(outbox, name))
    yield
    clock.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def held_clock(app):
    """The clock held at 3 December 2026, 9:00 in Paris (8:00 UTC), for a test whose data are
    dated (a 2026 statement, a printed age): it must pass in any year. Ask for it before the
    fixtures that log in, so their sessions live on it."""
    at = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    clock.freeze(at)
    return at


@pytest.fixture
def ctx(app):
    with app.test_request_context(method="POST"):
        yield


@pytest.fixture
def fresh_store(app):
    """The blob store emptied for this test (the app lives for the whole session)."""
    shutil.rmtree(os.path.join(app.instance_path, "blobs"), ignore_errors=True)
    app.extensions.pop("carnet.blobs", None)


@pytest.fixture
def holder_space(app, make_holder, fresh_store):
    """(viewer, account) of a fresh holder in a request context, the blob store empty: for the
    services that store and read files (imports of measures and of statements)."""
    account, _ = make_holder()
    with app.test_request_context(method="POST"):
        yield access.viewer_for(db.session.merge(account)), account


@pytest.fixture
def importer(app, client, make_holder, login_as, fresh_store):
    """(client logged in as a fresh holder, account), the blob store empty; the imports'
    background threads off (measures and statements run as the same jobs): tests run them."""
    app.config["MEASURES_IMPORT_THREADS"] = False
    account, _ = make_holder()
    login_as(client, account)
    yield client, account
    app.config.pop("MEASURES_IMPORT_THREADS", None)


# --- data, through the real services (tests/factories.py) -----------------------------------


@pytest.fixture
def make_holder(app):
    """make_holder(**kw) → (account, activation code); active with PASSWORD unless pending=True."""
    return lambda **kw: factories.make_holder(app, **kw)


@pytest.fixture
def make_pro(app):
    return lambda **kw: factories.make_pro(app, **kw)


@pytest.fixture
def make_document(app):
    """make_document(holder account or patient id, content=TEXT, name=..., hidden=False, **kw) → Document."""
    return lambda holder, *args, **kw: factories.make_document(app, holder, *args, **kw)


@pytest.fixture
def make_measure(app):
    """make_measure(holder account or patient id, kind="weight", value=72.4, ...) → Measure."""
    return lambda holder, *args, **kw: factories.make_measure(app, holder, *args, **kw)


@pytest.fixture
def make_share(app):
    """make_share(holder account or patient id, scope=..., can_deposit=False, hours=2)
    → (share id, code, link token)."""
    return lambda holder, *args, **kw: factories.make_share(app, holder, *args, **kw)


@pytest.fixture
def make_app(app):
    """make_app(name=..., purposes=(...), confidential=False) → (referenced App, secret or None)."""
    return lambda **kw: factories.make_app(app, **kw)


@pytest.fixture
def make_app_token(app):
    """make_app_token(holder, referenced app, purposes=None, scope=None) → a live raw access token."""
    return lambda holder, the_app, **kw: factories.make_app_token(app, holder, the_app, **kw)


# --- logging in -------------------------------------------------------------------------------


@pytest.fixture
def login(app):
    """login(client, account) logs in with password + one-time code, through the screens; returns
    the client. For tests whose subject is logging in: the others use login_as."""

    def do(client, account, password: str = PASSWORD):
        token = csrf_token(client)
        r = client.post("/connexion", data={"email": account.email, "password": password, "csrf_token": token})
        assert r.status_code in (302, 303), r.status_code
        r = client.post("/connexion/code", data={"code": last_code(app, account.email), "csrf_token": token})
        assert r.status_code in (302, 303), r.get_data(as_text=True)[:500]
        return client

    return do


def _login_as(client, account, fresh: bool = True):
    """The session a login leaves, written directly: the login route's own complete_login()
    (new session record, flask-login state, last login, trace), saved by the app's session
    interface; the client then carries its cookie. fresh=False: the login is older than
    FRESH_AUTH_MINUTES, so a step-up confirmation is asked before sensitive changes."""
    app = client.application
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context("/connexion/code", method="POST"):
        complete_login(db.session.get(Account, account.id), "password+otp")
        response = app.response_class()
        app.session_interface.save_session(app, session, response)
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "="))
        token = cookie.split(";", 1)[0].split("=", 1)[1]
        if not fresh:
            stale = clock.utcnow() - timedelta(minutes=app.config["FRESH_AUTH_MINUTES"] + 1)
            db.session.execute(
                update(UserSession).where(UserSession.token_hash == sessions._hash(token)).values(fresh_at=stale)
            )
            db.session.commit()
    client.set_cookie(name, token)
    return client


@pytest.fixture
def login_as(app):
    """login_as(client, account, fresh=True) → the client, logged in as the account without the
    login screens (see _login_as)."""
    return _login_as


# --- a logged-in holder, and uploads ----------------------------------------------------------


@pytest.fixture
def holder(client, make_holder, login_as):
    """(client logged in as a fresh holder, account)."""
    account, _ = make_holder()
    login_as(client, account)
    return client, account


@pytest.fixture
def upload():
    """upload(client, [(bytes, name)], category=..., htmx=False, ...) → the response of /documents/ajouter."""

    def do(
        client,
        files,
        *,
        category="ORD_SOIN",
        title="",
        act_date="2026-03-12",
        note="",
        htmx=False,
        field="files",
        token=None,
    ):
        token = token if token is not None else csrf_token(client, "/documents")
        data = {
            "category": category,
            "title": title,
            "act_date": act_date,
            "note": note,
            "csrf_token": token,
            field: [(io.BytesIO(content), name) for content, name in files],
        }
        return client.post(
            "/documents/ajouter", data=data, content_type="multipart/form-data", headers=HX if htmx else {}
        )

    return do
