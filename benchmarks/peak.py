"""Morning peak: many people, each visiting rarely, through the pages they really use.

A seeded population (benchmarks.population: holder spaces with documents, measures, traces
and shares; professionals with permanent accesses) is served by gunicorn with several sync
workers and no response cache. Virtual users (threads, one cookie jar each) run journeys,
each time as a person picked at random, so a person's visits are minutes apart and land on
any worker:
  holder (85 %): in (see below), home, documents list, a document, a measures page, sharing page,
    history, back home; 5 % of those journeys also upload a PDF, then see the document's page the
    browser is sent to. Each page's images are fetched as Chromium on a phone fetches them
    (PHONE): the list's first thumbnails, a PDF's first page at the width its srcset gives that
    screen, the compact chart; every request asks, as Chromium does, for a compressed answer
    (instance.PHONE_FETCH), so pages are compressed as a person's are;
  professional with a permanent access (10 %): in, home, the record, its documents, the newest
    one and what its page shows (at a desk: 1280 px at 1x), its measures;
  professional with a code (5 %): the code form, the record, its documents, end.
While a page is on screen its unread-count poll fires every 30 s (POLL_SECONDS): each page
a holder or a professional with an account reads adds floor(reading time / 30 s) polls, the
reading time drawn from an exponential of mean READING_SECONDS (25 s): 0.43 polls per page.
How people get in (LOGIN_MIX), holders and professionals alike: 60 % come back to a session
still open from an earlier visit (younger than the idle timeout; they closed the app without
logging out), 30 % log in with the passkey of their phone (Carnet offers one after the first
login: a real WebAuthn assertion, ES256, verified by py_webauthn through the app's endpoints),
10 % with password and the code mailed to them, and log out at the end (a shared computer).
Passkey and resumed visits leave their session open for a later visit. Before the run, some
people logged in earlier this morning (EARLIER) with their passkey and left their session open.
Two phases: first 3 users per worker go as fast as answers come (the peak throughput: more
would only queue); then every user runs the same journeys paced at 80 % of that peak, slowed
while the machine runs slower than it did then (Pacer), where latencies per page are read (the
report says when that pace was still the machine's limit: _pace). A bare Flask
route under the same gunicorn settings gives the ceiling in the same run, measured just before
and just after the peak phase (the ratio takes the mean of the two).
"""

from __future__ import annotations

import html
import http.client
import json
import os
import random
import re
import resource
import statistics
import threading
import time
from collections import defaultdict, deque
from datetime import date
from email import policy
from email.parser import BytesParser
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from webauthn.helpers import base64url_to_bytes

from benchmarks import instance, passkeys, population
from benchmarks.documents import _multipart
from benchmarks.passwords import PASSWORD_PROFILES
from benchmarks.report import Row, SectionResult, percentile
from benchmarks.server import CPU_HEADER, Gunicorn, database_cpu_seconds, idle_core_seconds
from core.config import DEFAULTS

TITLE = "Morning peak: journeys of many people, each visiting rarely"
WORKERS = int(os.environ.get("CARNET_BENCH_WORKERS", "4"))  # gunicorn sync workers, for both servers
P95_TARGET_MS = 150.0
RATIO_TARGET = 0.12
#: The paced phase's rate, as a share of the peak's throughput.
PACE = 0.8
#: Past this share of what the machine could serve, a paced phase's latencies are a queue's.
QUEUED = 0.95
#: Past this share of the cores idle while the peak ran, the peak waited (for the disk, a lock)
#: instead of computing: its throughput is not what the machine can serve. Runs that kept the
#: cores busy left 2 % idle; one whose database another process locked 0.8 s in every 2, 27 %.
WAITED = 0.15
PEAK_USERS = 3 * WORKERS
#: How a visit gets in: (kind, share of visits).
LOGIN_MIX = (("session still open", 0.60), ("passkey", 0.30), ("password + code", 0.10))
#: People who logged in with their passkey earlier this morning and left their session open.
EARLIER = 200
#: The phone the virtual people hold: CSS pixels across, device pixels per CSS pixel (390 x 844 at
#: 3x), and how many of the documents list's lazy thumbnails Chromium fetched on that screen.
PHONE = {"width": 390, "density": 3, "thumbnails": 6}
#: A professional reads a record at the practice's desk: a 1280 px screen at 1x, where a
#: document's preview column is 45 % of the width (templates/documents/_pdf_pages.html's sizes).
DESK_PREVIEW_PX = round(1280 * 0.45)
#: Every page of a holder's space asks for the unread-message count every POLL_SECONDS while it
#: is on screen (templates/layouts/app.html); a page is read READING_SECONDS on average
#: (exponential), so each page shown sends floor(time read / POLL_SECONDS) polls.
POLL_SECONDS = 30.0
READING_SECONDS = 25.0


class Failed(Exception):
    pass


class Pacer:
    """Requests leave at a steady rate shared by every user (None: as fast as answers come).

    Given the server CPU a request cost in the peak phase (`peak_cpu_us`), the rate follows the
    machine's speed: a shared machine's speed drifts within minutes (one morning's bare route ran
    at 3,372 req/s before a peak and 1,649 after it), and a pace fixed from the peak phase then
    asks a slowed machine for more than it can serve, so every page's latency becomes a queue's.
    The rate is scaled by how much dearer the answers of the last WINDOW seconds were than the
    peak's (the same journeys, so the same pages in the same shares), within LIMITS."""

    #: Seconds of answers the machine's speed is read from (a password step or an upload costs 25
    #: to 40 times a page: fewer seconds would follow their chance arrivals, not the machine).
    WINDOW = 10.0
    #: Answers a window needs before the rate follows it.
    ENOUGH = 300
    #: The rate stays between these shares of the planned one: never above it. A machine that ran
    #: faster since the peak is asked the planned load, lighter for it; asked more, it would queue
    #: at its next slowdown for as long as the window takes to see it.
    LIMITS = (0.25, 1.0)

    def __init__(self, rate: float | None, peak_cpu_us: float | None = None):
        self.planned = self.rate = rate
        self.peak_cpu_us = peak_cpu_us
        self.next = time.monotonic()
        self.lock = threading.Lock()
        self.answers: deque[tuple[float, int]] = deque()  # (when, the server's CPU in µs)
        self.window_cpu_us = 0
        self.rates: list[float] = []  # the rate each time it followed the machine

    def wait(self) -> None:
        if not self.rate:
            return
        with self.lock:
            slot = self.next = max(self.next, time.monotonic()) + 1 / self.rate
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def answered(self, cpu_us: int, now: float | None = None) -> None:
        """An answer came, with the server CPU its request took: the rate follows the window."""
        if not self.planned or not self.peak_cpu_us:
            return
        now = time.monotonic() if now is None else now
        with self.lock:
            self.answers.append((now, cpu_us))
            self.window_cpu_us += cpu_us
            while self.answers and self.answers[0][0] < now - self.WINDOW:
                self.window_cpu_us -= self.answers.popleft()[1]
            if len(self.answers) < self.ENOUGH or self.window_cpu_us <= 0:
                return
            low, high = self.LIMITS
            speed = self.peak_cpu_us * len(self.answers) / self.window_cpu_us
            self.rate = self.planned * min(high, max(low, speed))
            self.rates.append(self.rate)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.visits: dict[str, list[float]] = defaultdict(list)
        self.logins: dict[str, int] = defaultdict(int)
        self.cpu_us: dict[str, int] = defaultdict(int)  # the server's CPU, as its answers said it

    def add(self, page: str, ms: float, ok: bool, note: str = "", cpu_us: int = 0) -> None:
        with self.lock:
            self.times[page].append(ms)
            self.cpu_us[page] += cpu_us
            if not ok:
                self.errors[page] += 1
                if len(self.samples) < 10:
                    self.samples.append(f"{page}: {note}")


class User(instance.Browser):
    """One virtual user: a cookie jar, every answer timed and checked."""

    fetch_headers = instance.PHONE_FETCH

    def __init__(self, base: str, outbox: Path, stats: Stats, pacer: Pacer):
        super().__init__(base)
        self.outbox, self.stats, self.pacer = outbox, stats, pacer

    def hit(
        self, page: str, method: str, path: str, form=None, expect=(200,), body=None, headers: dict | None = None
    ) -> tuple[dict, bytes]:
        self.pacer.wait()
        t0 = time.perf_counter()
        try:
            status, hdrs, data = self.request(method, path, form, headers, body, timeout=60 if body else 30)
        except (OSError, http.client.HTTPException) as exc:
            self.stats.add(page, (time.perf_counter() - t0) * 1000, False, repr(exc))
            raise Failed(page) from exc
        ms = (time.perf_counter() - t0) * 1000
        ok = status in expect and (path in ("/connexion", "/pro/acces") or b'id="login-form"' not in data)
        cpu_us = int(hdrs.get(CPU_HEADER.lower(), 0) or 0)
        self.stats.add(page, ms, ok, f"{method} {path} -> {status} {hdrs.get('location', '')}", cpu_us)
        self.pacer.answered(cpu_us)
        if not ok:
            raise Failed(page)
        return hdrs, data

    def passkey_login(self, email: str, keys: dict) -> None:
        """What the login page's script does with the phone's passkey: options, then the assertion."""
        _, page = self.hit("login page", "GET", "/connexion")
        headers = {
            "X-CSRFToken": self.csrf(page),
            "Content-Type": "application/json",
            "Origin": f"http://{self.host}:{self.port}",
        }
        _, options = self.hit(
            "login: passkey options", "POST", "/connexion/passkey/options", body=b"{}", headers=headers
        )
        handle = keys["handles"].get(email)
        credential = passkeys.assertion(
            email, base64url_to_bytes(handle) if handle else None, json.loads(options), keys["origin"]
        )
        self.hit("login: passkey", "POST", "/connexion/passkey", body=credential.encode(), headers=headers)

    def csrf(self, page: bytes) -> str:
        return instance._csrf(page)

    def login(self, email: str, password: str) -> str:
        _, page = self.hit("login page", "GET", "/connexion")
        token = self.csrf(page)
        since = time.time_ns()
        self.hit(
            "login: password",
            "POST",
            "/connexion",
            {"csrf_token": token, "email": email, "password": password},
            expect=(302, 303),
        )
        code = self._code(email, since)
        self.hit("login: code", "POST", "/connexion/code", {"csrf_token": token, "code": code}, expect=(302, 303))
        return token

    def _code(self, email: str, since_ns: int) -> str:
        for _ in range(50):
            names = sorted(
                (
                    e.name
                    for e in os.scandir(self.outbox)
                    if e.name.endswith(".eml")
                    and not e.name.startswith(".")
                    and int(e.name.split("-", 1)[0]) >= since_ns - 10**9
                ),
                reverse=True,
            )
            for name in names:
                msg = BytesParser(policy=policy.default).parsebytes((self.outbox / name).read_bytes())
                if msg["To"] == email:
                    m = re.search(r"\b(\d{3}\s?\d{3})\b", msg.get_content())
                    if m:
                        return m.group(1).replace(" ", "")
            time.sleep(0.05)
        raise Failed(f"no code mailed to {email}")

    def logout(self, token: str) -> None:
        self.hit("log out", "POST", "/deconnexion", {"csrf_token": token}, expect=(302, 303))
        self.cookies.clear()


class Sessions:
    """Sessions people left open at the end of a visit (cookies and when last used), per e-mail."""

    def __init__(self, idle_seconds: float):
        self.idle = idle_seconds - 60  # a margin: never count on a session about to expire
        self.open: dict[str, tuple[dict, float]] = {}
        self.codes: dict[str, list[float]] = defaultdict(list)  # when each person was mailed a login code
        self.lock = threading.Lock()

    def may_mail_a_code(self, email: str) -> bool:
        """Whether Carnet would mail this person another login code this hour (it sends at most
        OTP_SENDS_PER_ACCOUNT_HOUR): fifty professionals come back every few seconds of the run."""
        with self.lock:
            recent = [t for t in self.codes[email] if time.monotonic() - t < 3600]
            self.codes[email] = recent
        return len(recent) < DEFAULTS["OTP_SENDS_PER_ACCOUNT_HOUR"]

    def mailed(self, email: str) -> None:
        with self.lock:
            self.codes[email].append(time.monotonic())

    def alive(self, email: str) -> dict | None:
        with self.lock:
            cookies, last = self.open.pop(email, (None, 0.0))
        return cookies if cookies and time.monotonic() - last < self.idle else None

    def keep(self, email: str, cookies: dict) -> None:
        with self.lock:
            self.open[email] = (dict(cookies), time.monotonic())

    def has(self, email: str) -> bool:
        with self.lock:
            entry = self.open.get(email)
        return entry is not None and time.monotonic() - entry[1] < self.idle


def _get_in(u: User, email: str, password: str, how: str, sessions: Sessions, keys: dict) -> str:
    """Into the space as this visit does (LOGIN_MIX); returns how, as it happened."""
    if how == "session still open":
        cookies = sessions.alive(email)
        if cookies is not None:
            u.cookies.update(cookies)
            u.stats.logins[how] += 1
            return how
        how = "passkey"  # no session left open: the phone's passkey
    if how == "password + code" and not sessions.may_mail_a_code(email):
        how = "passkey"  # told codes are paused for the hour, the person uses their passkey
    if how == "passkey":
        u.passkey_login(email, keys)
    else:
        sessions.mailed(email)
        u.login(email, password)
    u.stats.logins[how] += 1
    return how


def _leave(u: User, email: str, how: str, token: str, sessions: Sessions) -> None:
    """A password visit logs out (a shared computer); the others close the app, session open."""
    if how == "password + code":
        u.logout(token)
    else:
        sessions.keep(email, u.cookies)


def _read(u: User, rng: random.Random) -> None:
    """The person reads the page just shown: its unread-count poll fires while it is on screen."""
    for _ in range(int(rng.expovariate(1 / READING_SECONDS) // POLL_SECONDS)):
        u.hit("unread-count poll", "GET", "/messages/non-lus", headers={"HX-Request": "true"})


def _attr(tag: str, name: str) -> str:
    found = re.search(rf'\s{name}="([^"]*)"', tag)
    return html.unescape(found.group(1)) if found else ""


def _thumbnails(page: bytes) -> list[str]:
    """The documents list's thumbnails a phone fetches: the first screens' (lazy below)."""
    tags = re.findall(r'<img class="doc-thumb"[^>]*>', page.decode())
    return [_attr(t, "src") for t in tags[: PHONE["thumbnails"]]]


def _picked(srcset: str, need: int) -> str:
    """The candidate a browser takes from a `w` srcset for a slot of `need` device pixels: the
    narrowest at least that wide, else the widest."""
    candidates = sorted((int(w.rstrip("w")), url) for url, w in (c.split() for c in srcset.split(",")))
    return next((url for w, url in candidates if w >= need), candidates[-1][1])


def _document_image(page: bytes, need: int = PHONE["width"] * PHONE["density"]) -> str | None:
    """What a document's page shows first: a PDF's first page, or the image itself (a text is
    shown in the page)."""
    text = page.decode()
    tag = re.search(r'<img class="pdf-page-image"[^>]*>', text) or re.search(r'<img class="doc-image"[^>]*>', text)
    if tag is None:
        return None
    srcset = _attr(tag.group(0), "srcset")
    return _picked(srcset, need) if srcset else _attr(tag.group(0), "src")


def _chart(page: bytes) -> str:
    """The measures chart a phone draws: the picture's narrow-screen source."""
    tag = re.search(r'<source media="\(max-width: (\d+)px\)" srcset="([^"]*)"', page.decode())
    if tag is None or PHONE["width"] > int(tag.group(1)):
        raise Failed("no chart for a phone on the measures page")
    return html.unescape(tag.group(2))


def _holder_journey(
    u: User, person: dict, upload: bytes | None, rng: random.Random, how: str, sessions: Sessions, keys: dict
) -> None:
    how = _get_in(u, person["email"], population.HOLDER_PASSWORD, how, sessions, keys)
    u.stats.visits[person["email"]].append(time.monotonic())
    _, page = u.hit("home", "GET", "/")
    token = u.csrf(page)
    _read(u, rng)
    _, page = u.hit("documents list", "GET", "/documents")
    for src in _thumbnails(page):
        u.hit("thumbnail", "GET", src)
    _read(u, rng)
    doc = rng.choice(person["doc_ids"])
    _, page = u.hit("document page", "GET", f"/documents/{doc}")
    shown = _document_image(page)
    if shown:
        u.hit("document page image", "GET", shown)
    _read(u, rng)
    slug = rng.choice(person["charts"])
    _, page = u.hit("measures page", "GET", f"/constantes/{slug}")
    u.hit("measures chart", "GET", _chart(page))
    _read(u, rng)
    u.hit("sharing page", "GET", "/partage")
    _read(u, rng)
    u.hit("history", "GET", "/historique")
    _read(u, rng)
    if upload is not None:
        _, page = u.hit("upload form", "GET", "/documents/ajouter")
        fields = {
            "csrf_token": u.csrf(page),
            "category": "RADIO_SC",
            "act_date": date.today().isoformat(),
            "title": "Compte rendu",
            "note": "",
        }
        body, ctype = _multipart(fields, "files", "compte-rendu.pdf", "application/pdf", upload)
        hdrs, _ = u.hit(
            "upload",
            "POST",
            "/documents/ajouter",
            body=body,
            expect=(302, 303),
            headers={"Content-Type": ctype, "Origin": f"http://{u.host}:{u.port}"},
        )
        _, page = u.hit("document page", "GET", urlsplit(hdrs["location"]).path)  # where the browser is sent
        shown = _document_image(page)
        if shown:
            u.hit("document page image", "GET", shown)
    u.hit("home", "GET", "/")
    _leave(u, person["email"], how, token, sessions)


def _pro_journey(u: User, pro: dict, rng: random.Random, how: str, sessions: Sessions, keys: dict) -> None:
    how = _get_in(u, pro["email"], population.PRO_PASSWORD, how, sessions, keys)
    _, page = u.hit("pro home", "GET", "/")
    _read(u, rng)
    grant = rng.choice(pro["grant_ids"])
    u.hit("pro record (grant)", "GET", f"/pro/dossier/{grant}")
    _read(u, rng)
    _, page = u.hit("pro documents", "GET", f"/pro/dossier/{grant}/documents")
    _read(u, rng)
    newest = re.search(rf'href="(/pro/dossier/{grant}/documents/[^"/?]+)"', page.decode())
    if newest:  # the newest document of the record, and what its page shows first
        _, page = u.hit("pro document page", "GET", newest.group(1))
        shown = _document_image(page, DESK_PREVIEW_PX)
        if shown:
            u.hit("pro document page image", "GET", shown)
        _read(u, rng)
    u.hit("pro measures", "GET", f"/pro/dossier/{grant}/mesures")
    _read(u, rng)
    _leave(u, pro["email"], how, u.csrf(page), sessions)


def _earlier(base: str, pop: population.Population, sessions: Sessions, count: int, threads: int) -> int:
    """Earlier this morning: `count` people logged in with their passkey and left their session open."""
    stats = Stats()
    people = [p["email"] for p in pop.holders] + [p["email"] for p in pop.professionals]
    chosen = random.Random(7).sample(people, min(count, len(people)))
    lock = threading.Lock()

    def loop() -> None:
        while True:
            with lock:
                if not chosen:
                    return
                email = chosen.pop()
            u = User(base, pop.instance / "outbox", stats, Pacer(None))
            try:
                u.passkey_login(email, pop.passkeys)
            except Failed:
                continue
            sessions.keep(email, u.cookies)

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    if stats.errors:
        raise RuntimeError("passkey logins refused before the run: " + "; ".join(stats.samples[:3]))
    return len(sessions.open)


def _code_journey(u: User, share: dict, n: int) -> None:
    # each professional types the code from their own practice's network: the app caps code
    # attempts per address (core.grants.IP_LIMIT), one address for all of them would look like an attack
    u.source = f"127.{1 + n // 62500}.{n // 250 % 250}.{2 + n % 250}"
    _, page = u.hit("pro code form", "GET", "/pro/acces")
    token = u.csrf(page)
    hdrs, _ = u.hit(
        "pro code: open",
        "POST",
        "/pro/acces",
        {
            "csrf_token": token,
            "given_name": "Jeanne",
            "family_name": f"Banc{n}",
            "profession": "infirmier",
            "rpps": "10003436335",
            "code": share["code"],
        },
        expect=(200, 302, 303),
    )
    record = hdrs.get("location") or hdrs.get("hx-redirect") or ""
    if "/pro/dossier/" not in record:
        u.stats.add("pro code: open", 0, False, f"no record after the code: {record!r}")
        raise Failed("code")
    path = "/" + record.split("/", 3)[3] if record.startswith("http") else record
    _, page = u.hit("pro record (code)", "GET", path)
    u.hit("pro documents", "GET", path + "/documents")
    # the code opened a new session: its pages carry the token that session expects
    u.hit("pro code: end", "POST", "/pro/terminer", {"csrf_token": u.csrf(page)}, expect=(302, 303))
    u.cookies.clear()


def _how(rng: random.Random) -> str:
    roll = rng.random()
    for how, share in LOGIN_MIX:
        if roll < share:
            return how
        roll -= share
    return LOGIN_MIX[-1][0]


def _drive(
    base: str,
    pop: population.Population,
    users: int,
    seconds: float,
    pacer: Pacer,
    upload: bytes,
    seed: int,
    sessions: Sessions,
) -> tuple[Stats, float]:
    stats = Stats()
    stop = time.monotonic() + seconds
    codes = pop.codes  # shared by every phase: a code opened once stays used (one share, one opening)
    free = {"holders": list(pop.holders), "pros": list(pop.professionals)}  # a person runs one visit at a time
    code_lock = threading.Lock()
    counter = [0]

    def loop(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        time.sleep(i * min(seconds / 3, 20.0) / users)  # people arrive over time, not all at 8:00:00
        while time.monotonic() < stop:
            u = User(base, pop.instance / "outbox", stats, pacer)
            roll = rng.random()
            group = "holders" if roll < 0.85 else "pros" if roll < 0.95 else None
            how = _how(rng)
            person = None
            if group:
                with code_lock:
                    pool = free[group]
                    if how == "session still open":  # someone who left a session open
                        alive = [k for k, p in enumerate(pool) if sessions.has(p["email"])]
                        if alive:
                            person = pool.pop(rng.choice(alive))
                    if person is None and pool:
                        person = pool.pop(rng.randrange(len(pool)))
                if person is None:
                    time.sleep(0.05)
                    continue
            try:
                if group == "holders":
                    up = upload if rng.random() < 0.05 else None
                    _holder_journey(u, person, up, rng, how, sessions, pop.passkeys)
                elif group == "pros":
                    _pro_journey(u, person, rng, how, sessions, pop.passkeys)
                else:
                    with code_lock:  # each code once: a share is opened by one professional
                        share = codes.pop() if codes else None
                        counter[0] += 1
                    if share is not None:
                        _code_journey(u, share, counter[0])
            except Failed:
                pass
            finally:
                if person is not None:
                    with code_lock:
                        free[group].append(person)

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(users)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    return stats, time.monotonic() - started


def _own_cpu() -> float:
    """CPU seconds this process (the load generator, all its threads) has used so far: it
    shares the machine with the server, so the report says how much it took."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cores(after: float | None, before: float | None, elapsed: float) -> str:
    return "n/a" if after is None or before is None else f"{(after - before) / elapsed:.2f}"


def _idle(idle_seconds: float, elapsed: float, cores: int) -> tuple[float, str]:
    """The share of the cores idle while the peak ran, and what the report says of it."""
    share = idle_seconds / max(elapsed * cores, 1e-9)
    text = f"; the cores idle {share:.0%} of the time"
    if share >= WAITED:
        text += " (the peak waited, for the disk or a lock, instead of computing: its throughput is not the machine's)"
    return share, text


def _database_share(after: float | None, before: float | None, elapsed: float, rps: float) -> str:
    """What the PostgreSQL server on the same cores used in a phase: cores, and ms a request."""
    if after is None or before is None:
        return ""
    used = after - before
    return f", PostgreSQL's own processes {used / elapsed:.2f} ({used * 1000 / max(rps * elapsed, 1):.2f} ms a request)"


def _pace(peak_ms: float | None, paced_ms: float | None, share: float = PACE) -> tuple[float | None, str]:
    """How near the paced phase ran to what the machine could serve while it ran, from the server
    CPU a request costs in each phase and the paced phase's throughput as a `share` of the peak's.
    Both phases run the same journeys, and the peak keeps the cores busy, so a request's CPU
    follows the machine's speed: a paced phase whose requests cost a quarter more than the peak's
    at the planned share ran at the machine's limit, and its latencies are a queue's (the Pacer
    follows the machine to keep this from happening; this says whether it did)."""
    if not peak_ms or not paced_ms:
        return None, "n/a"
    load = share * paced_ms / peak_ms
    text = (
        f"{peak_ms:.1f} ms in the peak phase, {paced_ms:.1f} ms paced: the pace was {load:.0%} of what "
        "the machine could serve meanwhile"
    )
    if load >= QUEUED:
        text += " (the machine slowed: the paced phase's latencies are a queue's, not its pages')"
    return load, text


def _pdf() -> bytes:
    """A real small PDF, as a phone scan app sends it."""
    folder = population.OUT / "assets"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "compte-rendu.pdf"
    if not path.exists():
        from benchmarks.documents import make_pdf

        make_pdf(path, 1_500_000, seed=11, scan=(1240, 1754))
    return path.read_bytes()


def rehash_passwords(url: str, profile: dict) -> int:
    """Every account's password hash made anew at `profile` in a run's copy of the population
    (every account shares the demo's password): how many were."""
    hasher = PasswordHasher(
        time_cost=profile["ARGON2_TIME_COST"],
        memory_cost=profile["ARGON2_MEMORY_KIB"],
        parallelism=profile["ARGON2_PARALLELISM"],
    )
    engine = create_engine(url)
    try:
        with engine.begin() as c:
            done = c.execute(
                text("UPDATE accounts SET password_hash = :hashed WHERE password_hash IS NOT NULL"),
                {"hashed": hasher.hash(population.HOLDER_PASSWORD)},
            )
            return done.rowcount
    finally:
        engine.dispose()


def password_settings(profile: dict) -> dict[str, str]:
    """The server's environment for a password profile: the settings it reads as CARNET_<key>."""
    return {f"CARNET_{key}": str(value) for key, value in profile.items()}


def _profile_text(profile: dict) -> str:
    return f"m={profile['ARGON2_MEMORY_KIB']:,} KiB, t={profile['ARGON2_TIME_COST']}, p={profile['ARGON2_PARALLELISM']}"


def run(opts) -> SectionResult:
    spaces = getattr(opts, "spaces", None) or 1000
    users = getattr(opts, "users", None) or 200
    databases = getattr(opts, "databases", None) or ["sqlite", "postgresql"]
    seconds = max(opts.seconds, 20.0)
    rows, lines, data = (
        [],
        [],
        {
            "spaces": spaces,
            "users": users,
            "workers": WORKERS,
            "seconds": seconds,
            "load_generator": opts.generator.describe,
            "databases": {},
        },
    )
    upload = _pdf()
    profile_name = getattr(opts, "password_profile", None) or "shipped"
    profile = PASSWORD_PROFILES[profile_name]
    data["password_profile"] = {"name": profile_name, **profile}
    for database in databases:
        pop = population.prepare(database, spaces)
        vacuuming = population.autovacuum(pop.database_url)
        env = instance.server_env(pop.instance)
        if profile_name != "shipped":
            rehash_passwords(pop.database_url, profile)
            env.update(password_settings(profile))
        # every virtual person comes from 127.0.0.1: the per-connection login limit would count
        # them all as one connection (the per-account limits stay as shipped)
        env["CARNET_FAILED_LOGINS_PER_IP_HOUR"] = "1000000"
        if database == "postgresql":
            env["DATABASE_URL"] = pop.database_url
        log = pop.instance / "gunicorn.log"
        with (
            Gunicorn("benchmarks.wsgi:timed", WORKERS, env, log, ready_path="/connexion") as carnet,
            Gunicorn("benchmarks.bare:app", WORKERS, env, log) as bare,
        ):
            sessions = Sessions(pop.passkeys["idle_seconds"])
            earlier = _earlier(carnet.base, pop, sessions, EARLIER, PEAK_USERS)
            _drive(
                carnet.base, pop, min(users, 20), min(10.0, opts.warmup * 2), Pacer(None), upload, 0, sessions
            )  # warm-up
            population.statistics(pop.database_url)  # as autovacuum would have after the morning's logins
            # the bare route just before and just after the peak: the machine's speed drifts within
            # minutes (the same run's password step has cost 139 to 233 ms), the mean of the two
            # brackets the peak where one slice after it measured another machine
            bare_before = opts.generator.run(bare.base + "/", seconds / 4, {})
            # the peak: enough journeys in flight to keep every worker busy (more only queue up)
            client0, workers0, drawing0 = _own_cpu(), carnet.cpu_seconds(), carnet.children_cpu_seconds()
            idle0 = idle_core_seconds()
            server0 = database_cpu_seconds() if database == "postgresql" else None
            peak_stats, peak_elapsed = _drive(
                carnet.base, pop, min(users, PEAK_USERS), seconds, Pacer(None), upload, 1, sessions
            )
            peak_cpu0, drawing1 = carnet.cpu_seconds(), carnet.children_cpu_seconds()
            idle_share, idle_text = _idle(idle_core_seconds() - idle0, peak_elapsed, os.cpu_count() or 1)
            server1 = database_cpu_seconds() if database == "postgresql" else None
            client_cpu = _own_cpu() - client0
            peak_n = sum(len(v) for v in peak_stats.times.values())
            peak_rps = peak_n / peak_elapsed
            bare_after = opts.generator.run(bare.base + "/", seconds / 4, {})
            client1 = _own_cpu()
            # paced at PACE of the peak, following the machine's speed from the server CPU of the
            # answers (Pacer): the peak phase's CPU a request, as its answers said it
            pacer = Pacer(PACE * peak_rps, sum(peak_stats.cpu_us.values()) / max(1, peak_n))
            steady_stats, steady_elapsed = _drive(carnet.base, pop, users, seconds, pacer, upload, 2, sessions)
            peak_cpu1, steady_client_cpu = carnet.cpu_seconds(), _own_cpu() - client1
            server2 = database_cpu_seconds() if database == "postgresql" else None
        steady_n = sum(len(v) for v in steady_stats.times.values())
        cpu_ms = {
            "peak": None if peak_cpu0 is None or workers0 is None else (peak_cpu0 - workers0) * 1000 / max(1, peak_n),
            "paced": None
            if peak_cpu1 is None or peak_cpu0 is None
            else (peak_cpu1 - peak_cpu0) * 1000 / max(1, steady_n),
        }
        paced_load, pace_text = _pace(cpu_ms["peak"], cpu_ms["paced"], steady_n / steady_elapsed / max(peak_rps, 1e-9))
        bare_rps = (bare_before.rps + bare_after.rps) / 2
        ratio = peak_rps / bare_rps if bare_rps else 0.0
        errors = sum(peak_stats.errors.values()) + sum(steady_stats.errors.values())
        label = "SQLite" if database == "sqlite" else "PostgreSQL"
        pages = {}
        for page, times in sorted(steady_stats.times.items()):
            pages[page] = {
                "n": len(times),
                "p50_ms": round(percentile(times, 50), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "p99_ms": round(percentile(times, 99), 1),
                "errors": steady_stats.errors.get(page, 0),
                "cpu_ms": round(steady_stats.cpu_us[page] / 1000 / len(times), 2),
                "cpu_share": round(steady_stats.cpu_us[page] / max(1, sum(steady_stats.cpu_us.values())), 4),
            }
        worst = max(pages.values(), key=lambda p: p["p95_ms"]) if pages else {"p95_ms": 0}
        gaps = [
            b - a for v in list(peak_stats.visits.values()) + list(steady_stats.visits.values()) for a, b in pairwise(v)
        ]
        rows += [
            Row(
                f"{label}: peak throughput",
                peak_rps,
                "req/s",
                "{:.1f}",
                detail=f"{min(users, PEAK_USERS)} users, as fast as answers come, {peak_elapsed:.0f} s",
            ),
            Row(
                f"{label}: bare Flask route",
                bare_rps,
                "req/s",
                "{:.0f}",
                detail=f"gunicorn --workers {WORKERS}; {bare_before.rps:.0f} just before the peak, "
                f"{bare_after.rps:.0f} just after",
            ),
            Row(
                f"{label}: ratio to bare",
                ratio,
                "",
                "{:.3f}",
                target=f">= {RATIO_TARGET}",
                ok=ratio >= RATIO_TARGET,
                detail=f"the peak waited with {idle_share:.0%} of the cores idle: not a figure"
                if idle_share >= WAITED
                else "",
            ),
            Row(
                f"{label}: worst page p95 at 80 % of peak",
                worst["p95_ms"],
                "ms",
                "{:.0f}",
                target=f"<= {P95_TARGET_MS:.0f} ms",
                ok=worst["p95_ms"] <= P95_TARGET_MS,
                detail=f"{users} users, {steady_n / steady_elapsed:.1f} req/s paced at {PACE * peak_rps:.1f}"
                + (
                    f", following the machine between {min(pacer.rates):.1f} and {max(pacer.rates):.1f}"
                    if pacer.rates
                    else ""
                ),
            ),
            Row(f"{label}: errors", errors, "", "{:.0f}", target="0", ok=errors == 0),
        ]
        vacuum_line = (
            []
            if vacuuming is None
            else [
                f"  PostgreSQL's autovacuum: {'on' if vacuuming else 'off on this server'}; the seed vacuumed and "
                "analysed once, the run's copy analysed after the morning's logins"
            ]
        )
        lines += [
            f"{label}: {spaces} holder spaces x ({population.DOCUMENTS} documents, {population.MEASURES} "
            f"measures, {population.TRACES} traces, {population.SHARES} shares), "
            f"{population.PROFESSIONALS} professionals; seed "
            + (f"reused from {pop.instance.parent}" if pop.reused else f"made in {pop.seed_seconds:.0f} s"),
            f"  server CPU per request: {pace_text}",
            f"  peak phase: the workers used {_cores(peak_cpu0, workers0, peak_elapsed)} of "
            f"{os.cpu_count()} cores (of which their children drawing PDF pages "
            f"{_cores(drawing1, drawing0, peak_elapsed)}), this load generator {client_cpu / peak_elapsed:.2f}"
            + _database_share(server1, server0, peak_elapsed, peak_rps)
            + idle_text,
            f"  paced phase: the workers used {_cores(peak_cpu1, peak_cpu0, steady_elapsed)} of {os.cpu_count()} "
            f"cores, this load generator ({users} users) {steady_client_cpu / steady_elapsed:.2f}"
            + _database_share(server2, server1, steady_elapsed, steady_n / steady_elapsed),
            f"  password hashes: argon2id {_profile_text(profile)}"
            + (
                " (as shipped)" if profile_name == "shipped" else f" ({profile_name}: a what-if, not what Carnet ships)"
            ),
            "  getting in (planned "
            + ", ".join(f"{how} {share:.0%}" for how, share in LOGIN_MIX)
            + f"; {earlier} sessions left open earlier this morning): "
            + ", ".join(f"{how} {peak_stats.logins[how] + steady_stats.logins[how]}" for how, _share in LOGIN_MIX),
            *vacuum_line,
            f"  same person's visits: median {statistics.median(gaps):.0f} s apart"
            if gaps
            else "  no person visited twice",
            f"  {'page':28} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6} {'cpu':>7} {'share':>6}"
            "   (paced at 80 % of peak, ms; cpu: the server's per request, share: of all pages')",
        ]
        for page, p in pages.items():
            lines.append(
                f"  {page:28} {p['n']:>6} {p['p50_ms']:>7.1f} {p['p95_ms']:>7.1f} {p['p99_ms']:>7.1f} {p['errors']:>6}"
                f" {p['cpu_ms']:>7.2f} {p['cpu_share']:>6.1%}"
            )
        samples = peak_stats.samples + steady_stats.samples
        if samples:
            lines.append("  first errors: " + "; ".join(samples[:5]))
        data["databases"][database] = {
            "peak_rps": round(peak_rps, 2),
            "bare_rps": round(bare_rps, 1),
            "bare_rps_before_after": [round(bare_before.rps, 1), round(bare_after.rps, 1)],
            "ratio": round(ratio, 4),
            "steady_rps": round(steady_n / steady_elapsed, 2),
            "paced_rate_followed": [round(min(pacer.rates), 1), round(max(pacer.rates), 1)] if pacer.rates else None,
            "peak_phase_idle_share": round(idle_share, 3),
            "server_cpu_ms_per_request": {k: None if v is None else round(v, 2) for k, v in cpu_ms.items()},
            "paced_load": None if paced_load is None else round(paced_load, 3),
            "pages_at_80_percent": pages,
            "errors": errors,
            "error_samples": samples[:20],
            "peak_client_cpu_seconds": round(client_cpu, 2),
            "paced_client_cpu_seconds": round(steady_client_cpu, 2),
            "seed_reused": pop.reused,
            "seed_seconds": pop.seed_seconds,
            "login_mix_planned": dict(LOGIN_MIX),
            "logins": {how: peak_stats.logins[how] + steady_stats.logins[how] for how, _share in LOGIN_MIX},
            "sessions_left_open_before": earlier,
            "postgresql_autovacuum": vacuuming,
            "postgresql_cores": None
            if server0 is None or server1 is None or server2 is None
            else {
                "peak": round((server1 - server0) / peak_elapsed, 3),
                "paced": round((server2 - server1) / steady_elapsed, 3),
            },
            "peak_pages": {
                page: {"n": len(t), "p50_ms": round(percentile(t, 50), 1), "p95_ms": round(percentile(t, 95), 1)}
                for page, t in sorted(peak_stats.times.items())
            },
        }
        lines.append("")
    lines.append(
        f"gunicorn --workers {WORKERS} (sync), no response cache; client: {users} threads on the same "
        f"machine ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}): compare ratios, not req/s"
    )
    return SectionResult("peak", TITLE, rows, lines, data)
