"""Plain helpers shared by the tests (fixtures live in conftest.py files, helpers here)."""

from __future__ import annotations

import glob
import io
import os
import re
import subprocess
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from sqlalchemy import event, select, text

from blueprints.dashboard import services as dashboard
from blueprints.documents import services as documents
from blueprints.documents.models import Document
from blueprints.helpers import services as helper_spaces
from blueprints.measures.models import Measure
from core import grants, notify, sessions
from core.audit import AuditEvent
from core.db import db, make_engine
from core.identifiers import nir_key
from tests.samples import TEXT

ROOT = Path(__file__).resolve().parents[1]  # the checkout
PASSWORD = "correct horse battery staple"
RPPS = "10101010101"
HX = {"HX-Request": "true"}

# argon2id at its cheapest under test: the test app's passwords guard nothing, and a hash at
# production strength costs tens of milliseconds on every account made and every login.
CHEAP_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8, "ARGON2_PARALLELISM": 1}


def valid_nir(prefix13: str) -> str:
    return prefix13 + f"{nir_key(prefix13):02d}"


def csrf_token(client, path: str = "/connexion") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def last_code(app, email: str) -> str:
    with app.app_context():
        mail = notify.latest_to(email)
    assert mail is not None, f"no mail to {email}"
    return re.search(r"\b(\d{6})\b", mail.subject).group(1)


def forget_anchors(app) -> None:
    """The anchored heads of the audit chain go with the traces a test empties (and the anchor
    files a restore set aside)."""
    path = app.config["AUDIT_ANCHOR_FILE"]
    for name in [path, *glob.glob(glob.escape(path) + ".replaced-*")]:
        try:
            os.remove(name)
        except FileNotFoundError:
            pass


def rows(app, model, *where):
    """Rows of `model`, detached (read in their own app context)."""
    with app.app_context():
        found = list(db.session.scalars(select(model).where(*where)))
        db.session.expunge_all()
        return found


def traces(app, action=None):
    return rows(app, AuditEvent, *((AuditEvent.action == action,) if action else ()))


def events(app, action=None):
    """Audit traces in the order they were written."""
    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list(db.session.scalars(stmt))


def blob_files(app) -> list:
    root = os.path.join(app.instance_path, "blobs")
    found = []
    for dirpath, _dirs, names in os.walk(root):
        found += [os.path.join(dirpath, n) for n in names if n != ".backup.lock"]  # the store's lock file
    return found


def documents_of(app, patient_id=None) -> list:
    with app.app_context():
        stmt = select(Document)
        if patient_id:
            stmt = stmt.where(Document.patient_id == patient_id)
        return list(db.session.scalars(stmt))


def measures(app, patient_id=None) -> list:
    with app.app_context():
        stmt = select(Measure).order_by(Measure.kind, Measure.taken_at)
        if patient_id:
            stmt = stmt.where(Measure.patient_id == patient_id)
        return list(db.session.scalars(stmt))


def add_text(viewer, content=TEXT, name="ordonnance.txt", **kw):
    """Store one document through the service in the caller's request context (a prescription
    in plain text by default); nothing is committed."""
    kw.setdefault("category", "ORD_SOIN")
    kw.setdefault("act_date", date(2026, 3, 12))
    return documents.add_documents(viewer, [documents.Upload(io.BytesIO(content), name)], **kw)[0]


# --- sharing, on the holder's screens -------------------------------------------------------


def token_of(client, path: str = "/partage") -> str:
    return csrf_token(client, path)


def share_on_screen(client, **fields):
    """Post the share form; returns (response, code, link token)."""
    data = {"documents": "all", "summary": "y", "duration": "24h", "csrf_token": token_of(client), **fields}
    r = client.post("/partage/nouveau", data=data)
    html = r.get_data(as_text=True)
    groups = re.findall(r'<span class="share-code-group">([0-9A-Z]{4})</span>', html)
    token = re.search(r'name="token" value="([^"]+)"', html)
    return r, "-".join(groups), token.group(1) if token else None


def hashes(app, code: str, token: str) -> tuple[str, str]:
    with app.app_context():
        return grants.code_hash(code), grants.link_hash(token)


# --- a professional typing a code on /pro/acces -----------------------------------------------


def form_token(client) -> str:
    html = client.get("/pro/acces").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def use_code(client, code=None, token=None, rpps=RPPS, csrf=None, htmx=False, **kw):
    """Type a code (or send the link) on /pro/acces; htmx=True as the page's own form sends it."""
    data = {
        "code": code or "",
        "token": token or "",
        "given_name": kw.get("given_name", "Hélène"),
        "family_name": kw.get("family_name", "Durand"),
        "profession": kw.get("profession", "medecin"),
        "rpps": rpps,
        "csrf_token": csrf or form_token(client),
    }
    return client.post("/pro/acces", data=data, headers=HX if htmx else {})


def strip_variable(html: str) -> str:
    """A refusal page without what legitimately differs: the CSRF token and the values typed."""
    html = re.sub(r'("X-CSRFToken": ")[^"]+', r"\1", html)
    html = re.sub(r'(name="csrf_token" type="hidden" value=")[^"]*', r"\1", html)
    return re.sub(r'(<input[^>]*?) value="[^"]*"', r"\1", html)


def sqlite_plan(statement, params: dict) -> list[str]:
    """SQLite's query plan of a statement with these parameters, one step per line (call inside
    an app or request context): how a per-visit read finds its rows, asserted by the index tests."""
    compiled = statement.compile(db.engine)
    values = compiled.construct_params(params)
    for name, bind in compiled.binds.items():
        proc = bind.type.dialect_impl(db.engine.dialect).bind_processor(db.engine.dialect)
        if proc is not None and name in values:
            values[name] = proc(values[name])
    raw = db.session.connection().connection.driver_connection
    return [
        row[3]
        for row in raw.execute("EXPLAIN QUERY PLAN " + compiled.string, [values[n] for n in compiled.positiontup])
    ]


def home_figures_plan() -> list[str]:
    """SQLite's plan of the home's figures statement for a holder (call inside a request
    context): the index tests of its parts read it."""
    params = {
        "account_id": "a",
        "patient_id": "p",
        "year_start": date(2026, 1, 1),
        **sessions.live_params(),
        **helper_spaces.waiting_params(),
    }
    return sqlite_plan(dashboard._figures_statement("holder").statement, params)


@contextmanager
def _seen(target, name: str, pick):
    """What pick() takes of each `name` event of `target` inside the block."""
    seen: list = []

    def on(*args):
        seen.append(pick(*args))

    event.listen(target, name, on)
    try:
        yield seen
    finally:
        event.remove(target, name, on)


def statements(engine):
    """The SQL statements run on `engine` inside the block, as SQLAlchemy hands them to the
    driver (compiled.Fixed's compiled ones go to the driver's cursor directly: they are not seen)."""
    return _seen(engine, "before_cursor_execute", lambda _conn, _cursor, statement, *_args: statement)


def connections(engine):
    """The Connections of SQLAlchemy made on `engine` inside the block (out of its pool)."""
    return _seen(engine, "engine_connect", lambda conn: conn)


def loads(model):
    """The ids of the `model` objects the ORM loads inside the block."""
    return _seen(model, "load", lambda target, _context: target.id)


# --------------------------------------------------------------------------- following links

LINK = re.compile(r'(?:href|hx-get)="(/[^"#]*)"|src="(/[^"#]*\.svg[^"#]*)"')
SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d{2}-\d{2}\S*|\d+")


def walk(client, start: list[str], *, skip: tuple[str, ...] = (), limit: int = 120, per_shape: int | None = None):
    """Every page of this site reachable from `start` by links, htmx gets, charts and redirects,
    breadth first: yields (url, answer). A URL holding one of `skip` is not followed; with
    `per_shape`, at most that many URLs of one shape (the same but for ids, dates and numbers)."""
    queue = [u for u in start if not any(s in u for s in skip)]
    seen, shapes, asked = set(queue), {}, 0
    while queue and asked < limit:
        url = queue.pop(0)
        r = client.get(url)
        asked += 1
        yield url, r
        if 300 <= r.status_code < 400:
            found = [r.headers["Location"]]
        elif r.status_code == 200 and r.mimetype == "text/html":
            found = [a or b for a, b in LINK.findall(r.get_data(as_text=True))]
        else:
            found = []
        for href in found:
            path = urlsplit(urljoin(url, href.replace("&amp;", "&")))._replace(scheme="", netloc="").geturl()
            shape = SHAPE.sub("#", path)
            if path in seen or any(s in path for s in skip) or shapes.get(shape, 0) >= (per_shape or limit):
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            seen.add(path)
            queue.append(path)


def writers_engine(path, busy_timeout_ms: int = 5000):
    """Carnet's engine on a SQLite file holding one table `t (n)`: the writers' tests."""
    engine = make_engine(f"sqlite:///{path}", busy_timeout_ms=busy_timeout_ms)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
    return engine


def written_rows(engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.scalars(text("SELECT n FROM t")))


@contextmanager
def processes():
    """start(argv, **popen) → a Popen of argv run in the checkout, with text pipes where asked;
    every process still running when the block ends is killed, and each is waited for."""
    started: list[subprocess.Popen] = []

    def start(argv: list[str], **popen) -> subprocess.Popen:
        proc = subprocess.Popen(argv, cwd=ROOT, text=True, **popen)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
