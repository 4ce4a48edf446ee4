"""Fixtures: one app per test session, a clean database and outbox for every test,
factories for holders and professionals, and a login helper."""
from __future__ import annotations

import glob
import os
import re
from datetime import date

import pytest
from sqlalchemy import text

from core import clock
from core.db import Base, db

PASSWORD = "correct horse battery staple"


def _database_url(tmp_root) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("TEST_REQUIRE_DATABASE"):
        pytest.exit("TEST_REQUIRE_DATABASE is set but TEST_DATABASE_URL is not", returncode=3)
    return f"sqlite:///{tmp_root / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from app import create_app

    root = tmp_path_factory.mktemp("carnet")
    application = create_app({
        "ENV_NAME": "test", "TESTING": True, "DATABASE_URL": _database_url(root),
        "DEMO": True, "SECRET_KEY": "test-secret-key-" + "x" * 32, "CODE_PEPPER": "test-pepper-" + "y" * 32,
        "SERVER_NAME": None,
    }, instance_path=str(root / "instance"))
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


def forget_anchors(app) -> None:
    """The anchored heads of the audit chain go with the traces a test empties (and the anchor
    files a restore set aside)."""
    path = app.config["AUDIT_ANCHOR_FILE"]
    for name in [path, *glob.glob(glob.escape(path) + ".replaced-*")]:
        try:
            os.remove(name)
        except FileNotFoundError:
            pass


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def valid_nir(prefix13: str) -> str:
    from core.identifiers import nir_key

    return prefix13 + f"{nir_key(prefix13):02d}"


_counter = {"n": 0}


@pytest.fixture
def make_holder(app):
    """make_holder(**kw) → (account, activation code); active with PASSWORD unless pending=True."""
    from sqlalchemy import select

    from blueprints.auth import services
    from core.people import Account

    def factory(pending: bool = False, email: str | None = None, **kw):
        _counter["n"] += 1
        n = _counter["n"]
        with app.test_request_context():
            patient, code = services.create_pending_space(
                nir=kw.get("nir") or valid_nir(f"2870375{100000 + n:06d}"),
                email=email or f"holder{n}@example.fr",
                birth_date=kw.get("birth_date", date(1987, 3, 14)),
                given_names=kw.get("given_names", "Camille"), family_name=kw.get("family_name", f"Martin{n}"))
            account = db.session.scalar(select(Account).where(Account.patient_id == patient.id))
            if not pending:
                services.finish_activation(account, PASSWORD)
            db.session.commit()
            return account, code
    return factory


@pytest.fixture
def make_pro(app):
    from blueprints.auth import services

    def factory(**kw):
        _counter["n"] += 1
        n = _counter["n"]
        with app.test_request_context():
            account = services.create_professional(
                rpps=kw.get("rpps", f"{10000000000 + n}"), email=kw.get("email", f"pro{n}@example.fr"),
                given_name="Hélène", family_name=f"Bernard{n}", profession=kw.get("profession", "medecin"),
                specialty=None, password=PASSWORD)
            db.session.commit()
            return account
    return factory


def csrf_token(client, path: str = "/connexion") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def last_code(app, email: str) -> str:
    from core import notify

    with app.app_context():
        mail = notify.latest_to(email)
    assert mail is not None, f"no mail to {email}"
    return re.search(r"\b(\d{6})\b", mail.subject).group(1)


@pytest.fixture
def login(app):
    """login(client, account) logs in with password + one-time code; returns the client."""
    def do(client, account, password: str = PASSWORD):
        token = csrf_token(client)
        r = client.post("/connexion", data={"email": account.email, "password": password, "csrf_token": token})
        assert r.status_code in (302, 303), r.status_code
        r = client.post("/connexion/code", data={"code": last_code(app, account.email), "csrf_token": token})
        assert r.status_code in (302, 303), r.get_data(as_text=True)[:500]
        return client
    return do
