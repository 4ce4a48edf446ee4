"""A throwaway Carnet instance: temporary folder, database migrated with Alembic, demo
seeded; and a real login through the password + one-time-code flow."""

from __future__ import annotations

import gzip
import html
import http.client
import os
import re
import subprocess
import sys
import tempfile
from email import policy
from email.parser import BytesParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import brotli
from sqlalchemy import select

from benchmarks.server import ROOT

COOKIE = "carnet_session"
UA = "Mozilla/5.0 (Linux; Android 14) carnet-bench"
#: What Chromium on a phone sends with each request besides its cookies: it takes compressed
#: answers, and the request comes from the site's own page (Fetch Metadata). Carnet compresses
#: pages on every such answer (core.compression): a benchmark of pages asks as the phone does.
PHONE_FETCH = {"Accept-Encoding": "gzip, deflate, br, zstd", "Sec-Fetch-Site": "same-origin"}


def prepare(parent: Path | None = None) -> tuple[Path, str]:
    """Create an instance folder with a migrated, seeded database.

    Returns its path and the demo holder's full name (what their dashboard must show)."""
    path = Path(tempfile.mkdtemp(prefix="carnet-bench-", dir=parent))
    from app import create_app

    app = create_app({"DEMO": True}, instance_path=str(path))  # also writes the instance secrets
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        CARNET_SECRET_KEY=app.config["SECRET_KEY"],
        CARNET_CODE_PEPPER=app.config["CODE_PEPPER"],
    )
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True
    )
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


def read_body(resp: http.client.HTTPResponse) -> bytes:
    """The answer's body as the page's script sees it: decoded as its Content-Encoding says."""
    data = resp.read()
    encoding = (resp.getheader("Content-Encoding") or "").strip().lower()
    if encoding == "br":
        return brotli.decompress(data)
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding:
        raise http.client.HTTPException(f"an encoding this client did not ask for: {encoding}")
    return data


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

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        source = (self.source, 0) if self.source else None
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout, source_address=source)

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
        conn = self.connection(timeout)
        hdrs = {"User-Agent": UA, **self.fetch_headers, **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = read_body(resp)
        for raw in resp.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(raw).items():
                if morsel.value and "1970" not in morsel["expires"]:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        headers_out = {k.lower(): v for k, v in resp.getheaders()}
        conn.close()
        return resp.status, headers_out, data


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
