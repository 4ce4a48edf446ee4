"""A throwaway Carnet instance: temporary folder, database migrated with Alembic, demo
seeded; and a real login through the password + one-time-code flow."""

from __future__ import annotations

import gzip
import html
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
from datetime import date
from email import policy
from email.parser import BytesParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import brotli
from sqlalchemy import select

from benchmarks.server import ROOT

COOKIE = "carnet_session"
#: The settings of an app made in a benchmark's own process: it serves nobody, so it starts no
#: watch over imports a dead worker left (a thread polling the database every few seconds, in
#: the process being measured, and still polling once the section removed its folder).
IN_PROCESS = {"MEASURES_IMPORT_WATCH_SECONDS": 0}
UA = "Mozilla/5.0 (Linux; Android 14) carnet-bench"
#: What Chromium on a phone sends with each request besides its cookies: it takes compressed
#: answers, and the request comes from the site's own page (Fetch Metadata). Carnet compresses
#: pages on every such answer (core.compression): a benchmark of pages asks as the phone does.
PHONE_FETCH = {"Accept-Encoding": "gzip, deflate, br, zstd", "Sec-Fetch-Site": "same-origin"}


def pending_space(prefix: str = "2870375100001", email: str = "bench@example.fr", family_name: str = "Martin"):
    """One holder's space as an activation letter opens it (their NIR made of `prefix` and its
    key), in the app context the caller is in: for the sections that measure one person's
    space. Returns the patient. (The app's modules are imported when a section needs them, as
    in prepare().)"""
    from blueprints.auth import services as auth
    from core.identifiers import nir_key

    patient, _code = auth.create_pending_space(
        nir=prefix + f"{nir_key(prefix):02d}",
        email=email,
        birth_date=date(1987, 3, 14),
        given_names="Camille",
        family_name=family_name,
    )
    return patient


def migrate(app) -> None:
    """The app's database brought to the newest schema by Alembic, as `make run` does: with the
    app's own database and secrets, whatever CARNET_ settings this shell has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        CARNET_SECRET_KEY=app.config["SECRET_KEY"],
        CARNET_CODE_PEPPER=app.config["CODE_PEPPER"],
    )
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True
    )


def child_app(folder: str):
    """The app of a section's child process, on a fresh SQLite database in `folder` whose tables
    are made from the models; a measures import runs in the thread that starts it, not in one of
    the app's. (The app is imported when called: the child measures what importing it costs.)"""
    from app import create_app
    from core.db import db

    settings = {
        "DATABASE_URL": f"sqlite:///{folder}/bench.db",
        "SECRET_KEY": "b" * 40,
        "CODE_PEPPER": "p" * 40,
        "MEASURES_IMPORT_THREADS": False,
    }
    app = create_app({**IN_PROCESS, **settings}, instance_path=folder)
    with app.app_context():
        db.create_all()
    return app


def prepare(parent: Path | None = None) -> tuple[Path, str]:
    """Create an instance folder with a migrated, seeded database.

    Returns its path and the demo holder's full name (what their dashboard must show)."""
    path = Path(tempfile.mkdtemp(prefix="carnet-bench-", dir=parent))
    from app import create_app

    app = create_app({"DEMO": True}, instance_path=str(path))  # also writes the instance secrets
    migrate(app)
    from blueprints.demo.seed import HOLDER_EMAIL, seed
    from core.db import db
    from core.people import Account

    with app.app_context():
        seed()
        patient = db.session.scalar(select(Account).where(Account.email == HOLDER_EMAIL)).patient
        name = f"{patient.given_names} {patient.family_name}"
        db.session.remove()
        db.engine.dispose()
    return path, name


def server_env(path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_") and k != "DATABASE_URL"}
    env.update(BENCH_INSTANCE=str(path), CARNET_DEMO="1")
    return env


def decoded(data: bytes, encoding: str) -> bytes:
    """A body as the page's script sees it: decoded as its Content-Encoding says."""
    encoding = encoding.strip().lower()
    if encoding == "br":
        return brotli.decompress(data)
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding:
        raise http.client.HTTPException(f"an encoding this client did not ask for: {encoding}")
    return data


class _Wire:
    """One HTTP/1.1 exchange on a connection of its own, read with as little of the load
    generator's CPU as it takes: the generator shares the server's cores, and `http.client`
    parses each answer's headers with the e-mail package (a third of what it spent per request)."""

    def __init__(self, sock: socket.socket):
        self.sock, self.buf = sock, bytearray()

    def _more(self) -> bool:
        chunk = self.sock.recv(262144)
        self.buf += chunk
        return bool(chunk)

    def until(self, mark: bytes, start: int = 0) -> int:
        while (at := self.buf.find(mark, start)) < 0:
            if not self._more():
                raise http.client.RemoteDisconnected("the server closed the connection mid-answer")
        return at

    def take(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._more():
                raise http.client.IncompleteRead(bytes(self.buf), n - len(self.buf))
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def rest(self) -> bytes:
        while self._more():
            pass
        return bytes(self.buf)

    def chunked(self) -> bytes:
        out = bytearray()
        while True:
            size = int(self.take(self.until(b"\r\n") + 2).split(b";", 1)[0], 16)
            if size == 0:  # trailers, if any, end the answer: the connection is not used again
                return bytes(out)
            out += self.take(size + 2)[:-2]


def exchange(address, source, timeout: float, method: str, head: bytes, body: bytes | None):
    """(status, [(name, value)...], raw body) of one request sent as `head` (and `body`)."""
    with socket.create_connection(address, timeout, source) as sock:
        sock.sendall(head + body if body else head)
        wire = _Wire(sock)
        end = wire.until(b"\r\n\r\n")
        lines = wire.take(end + 4)[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = [(name, value.strip()) for name, _, value in (line.partition(":") for line in lines[1:])]
        fields = {name.lower(): value for name, value in headers}
        if method == "HEAD" or status in (204, 304) or status < 200:
            data = b""
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            data = wire.chunked()
        elif "content-length" in fields:
            data = wire.take(int(fields["content-length"]))
        else:
            data = wire.rest()
    return status, headers, data


class Browser:
    """Just enough of a browser: one cookie jar, GET and form POST, no redirect following.
    `fetch_headers` are sent with every request: what a browser says of itself besides its
    user agent (none here; the morning peak's phone adds Chromium's)."""

    fetch_headers: dict[str, str] = {}

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.source: str | None = None  # another loopback address (127.x.y.z): another person's network

    def request(
        self,
        method: str,
        path: str,
        form: dict | None = None,
        headers: dict | None = None,
        body: bytes | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict, bytes]:
        """One request: a form sent urlencoded, or a body sent as it is (its Content-Type in
        `headers`); the answer's cookies kept, its body decoded."""
        hdrs = {"User-Agent": UA, **self.fetch_headers, **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        # what http.client sends besides: the host, identity unless told, the body's length
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if "Accept-Encoding" not in hdrs:
            lines.append("Accept-Encoding: identity")
        lines += [f"{name}: {value}" for name, value in hdrs.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        source = (self.source, 0) if self.source else None
        status, raw_headers, raw = exchange((self.host, self.port), source, timeout, method, head, body)
        headers_out = {name.lower(): value for name, value in raw_headers}
        data = decoded(raw, headers_out.get("content-encoding", ""))
        for name, value in raw_headers:
            if name.lower() != "set-cookie":
                continue
            for cookie, morsel in SimpleCookie(value).items():
                if morsel.value and "1970" not in morsel["expires"]:
                    self.cookies[cookie] = morsel.value
                else:
                    self.cookies.pop(cookie, None)
        return status, headers_out, data


def _csrf(page: bytes) -> str:
    text = page.decode()
    m = re.search(r"hx-headers='([^']*)'", text)
    if not m:
        raise RuntimeError("no hx-headers with a CSRF token on the login page")
    return re.search(r'"X-CSRFToken":\s*"([^"]+)"', html.unescape(m.group(1))).group(1)


def _newest_code(instance: Path) -> str:
    mails = sorted((instance / "outbox").glob("*.eml"))
    if not mails:
        raise RuntimeError("no mail in the outbox after the password step")
    msg = BytesParser(policy=policy.default).parsebytes(mails[-1].read_bytes())
    m = re.search(r"\b(\d{3}\s?\d{3})\b", msg.get_content())
    if not m:
        raise RuntimeError("no 6-digit code in the newest mail")
    return m.group(1).replace(" ", "")


def login(base: str, instance: Path, email: str, password: str) -> Browser:
    """Log in as a person would: login page, password, code from the outbox. Returns the browser."""
    b = Browser(base)
    status, _, page = b.request("GET", "/connexion")
    if status != 200:
        raise RuntimeError(f"GET /connexion answered {status}")
    token = _csrf(page)
    status, hdrs, _ = b.request("POST", "/connexion", {"csrf_token": token, "email": email, "password": password})
    if status not in (302, 303) or not hdrs.get("location", "").endswith("/connexion/code"):
        raise RuntimeError(f"password step answered {status} {hdrs.get('location')}")
    status, hdrs, _ = b.request("POST", "/connexion/code", {"csrf_token": token, "code": _newest_code(instance)})
    if status not in (302, 303):
        raise RuntimeError(f"code step answered {status}")
    return b
