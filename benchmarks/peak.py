"""Morning peak: many people, each visiting rarely, through the pages they really use.

A seeded population (benchmarks.population: holder spaces with documents, measures, traces
and shares; professionals with permanent accesses) is served by gunicorn with several sync
workers and no response cache. Virtual users (threads, one cookie jar each) run journeys,
each time as a person picked at random, so a person's visits are minutes apart and land on
any worker:
  holder (85 %): log in (password + one-time code from the outbox), home, documents list,
    a document and its preview, a measures page and its chart, sharing page, history, back home, log out;
    5 % of those journeys also upload a PDF;
  professional with a permanent access (10 %): log in, home, the record, its documents, its
    measures, log out;
  professional with a code (5 %): the code form, the record, its documents, end.
Two phases: first 3 users per worker go as fast as answers come (the peak throughput: more
would only queue); then every user runs the same journeys paced at 80 % of that peak, where
latencies per page are read. A bare Flask
route under the same gunicorn settings gives the ceiling in the same run.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import statistics
import threading
import time
from collections import defaultdict
from datetime import date
from email import policy
from email.parser import BytesParser
from itertools import pairwise
from pathlib import Path

from benchmarks import instance, population
from benchmarks.documents import _multipart
from benchmarks.report import Row, SectionResult
from benchmarks.server import Gunicorn

TITLE = "Morning peak: journeys of many people, each visiting rarely"
WORKERS = 4
P95_TARGET_MS = 150.0
RATIO_TARGET = 0.12
PEAK_USERS = 3 * WORKERS
UA = "Mozilla/5.0 (Linux; Android 14) carnet-bench"


class Failed(Exception):
    pass


class Pacer:
    """Requests leave at a steady rate shared by every user (None: as fast as answers come)."""

    def __init__(self, rate: float | None):
        self.rate = rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.rate:
            return
        with self.lock:
            slot = self.next = max(self.next, time.monotonic()) + 1 / self.rate
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.visits: dict[str, list[float]] = defaultdict(list)

    def add(self, page: str, ms: float, ok: bool, note: str = "") -> None:
        with self.lock:
            self.times[page].append(ms)
            if not ok:
                self.errors[page] += 1
                if len(self.samples) < 10:
                    self.samples.append(f"{page}: {note}")


class User(instance.Browser):
    """One virtual user: a cookie jar, every answer timed and checked."""

    def __init__(self, base: str, outbox: Path, stats: Stats, pacer: Pacer):
        super().__init__(base)
        self.outbox, self.stats, self.pacer = outbox, stats, pacer

    def hit(
        self, page: str, method: str, path: str, form=None, expect=(200,), body=None, headers: dict | None = None
    ) -> tuple[dict, bytes]:
        self.pacer.wait()
        t0 = time.perf_counter()
        try:
            if body is not None:
                status, hdrs, data = self._raw(method, path, body, headers or {})
            else:
                status, hdrs, data = self.request(method, path, form, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.stats.add(page, (time.perf_counter() - t0) * 1000, False, repr(exc))
            raise Failed(page) from exc
        ms = (time.perf_counter() - t0) * 1000
        ok = status in expect and (path in ("/connexion", "/pro/acces") or b'id="login-form"' not in data)
        self.stats.add(page, ms, ok, f"{method} {path} -> {status} {hdrs.get('location', '')}")
        if not ok:
            raise Failed(page)
        return hdrs, data

    def _raw(self, method, path, body, headers):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {
            "User-Agent": UA,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Content-Length": str(len(body)),
            **headers,
        }
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

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


def _holder_journey(u: User, person: dict, upload: bytes | None, rng: random.Random) -> None:
    token = u.login(person["email"], population.HOLDER_PASSWORD)
    u.stats.visits[person["email"]].append(time.monotonic())
    u.hit("home", "GET", "/")
    u.hit("documents list", "GET", "/documents")
    doc = rng.choice(person["doc_ids"])
    u.hit("document page", "GET", f"/documents/{doc}")
    u.hit("document preview", "GET", f"/documents/{doc}/vignette")  # the preview it shows: decrypted blob
    slug = rng.choice(person["charts"])
    u.hit("measures page", "GET", f"/constantes/{slug}")
    u.hit("measures chart", "GET", f"/constantes/{slug}/graphique.svg")
    u.hit("sharing page", "GET", "/partage")
    u.hit("history", "GET", "/historique")
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
        u.hit(
            "upload",
            "POST",
            "/documents/ajouter",
            body=body,
            expect=(302, 303),
            headers={"Content-Type": ctype, "Origin": f"http://{u.host}:{u.port}"},
        )
    u.hit("home", "GET", "/")
    u.logout(token)


def _pro_journey(u: User, pro: dict, rng: random.Random) -> None:
    token = u.login(pro["email"], population.PRO_PASSWORD)
    u.hit("pro home", "GET", "/")
    grant = rng.choice(pro["grant_ids"])
    u.hit("pro record (grant)", "GET", f"/pro/dossier/{grant}")
    u.hit("pro documents", "GET", f"/pro/dossier/{grant}/documents")
    u.hit("pro measures", "GET", f"/pro/dossier/{grant}/mesures")
    u.logout(token)


def _code_journey(u: User, share: dict, n: int) -> None:
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


def _drive(
    base: str, pop: population.Population, users: int, seconds: float, rate: float | None, upload: bytes, seed: int
) -> tuple[Stats, float]:
    stats, pacer = Stats(), Pacer(rate)
    stop = time.monotonic() + seconds
    codes = list(pop.codes)
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
            person = None
            if group:
                with code_lock:
                    if free[group]:
                        person = free[group].pop(rng.randrange(len(free[group])))
                if person is None:
                    time.sleep(0.05)
                    continue
            try:
                if group == "holders":
                    _holder_journey(u, person, upload if rng.random() < 0.05 else None, rng)
                elif group == "pros":
                    _pro_journey(u, person, rng)
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


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))] if values else 0.0


def _pdf() -> bytes:
    """A real small PDF, as a phone scan app sends it."""
    folder = population.OUT / "assets"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "compte-rendu.pdf"
    if not path.exists():
        from benchmarks.documents import make_pdf

        make_pdf(path, 1_500_000, seed=11, scan=(1240, 1754))
    return path.read_bytes()


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
    for database in databases:
        pop = population.prepare(database, spaces)
        env = instance.server_env(pop.instance)
        # every virtual person comes from 127.0.0.1: the per-connection login limit would count
        # them all as one connection (the per-account limits stay as shipped)
        env["CARNET_FAILED_LOGINS_PER_IP_HOUR"] = "1000000"
        if database == "postgresql":
            env["DATABASE_URL"] = pop.database_url
        log = pop.instance / "gunicorn.log"
        with (
            Gunicorn("benchmarks.wsgi:app", WORKERS, env, log, ready_path="/connexion") as carnet,
            Gunicorn("benchmarks.bare:app", WORKERS, env, log) as bare,
        ):
            _drive(carnet.base, pop, min(users, 20), min(10.0, opts.warmup * 2), None, upload, 0)  # warm-up
            # the peak: enough journeys in flight to keep every worker busy (more only queue up)
            peak_stats, peak_elapsed = _drive(carnet.base, pop, min(users, PEAK_USERS), seconds, None, upload, 1)
            peak_cpu0 = carnet.cpu_seconds()
            peak_rps = sum(len(v) for v in peak_stats.times.values()) / peak_elapsed
            bare_r = opts.generator.run(bare.base + "/", seconds / 2, {})
            steady_stats, steady_elapsed = _drive(carnet.base, pop, users, seconds, 0.8 * peak_rps, upload, 2)
            peak_cpu1 = carnet.cpu_seconds()
        steady_n = sum(len(v) for v in steady_stats.times.values())
        ratio = peak_rps / bare_r.rps if bare_r.rps else 0.0
        errors = sum(peak_stats.errors.values()) + sum(steady_stats.errors.values())
        label = "SQLite" if database == "sqlite" else "PostgreSQL"
        pages = {}
        for page, times in sorted(steady_stats.times.items()):
            pages[page] = {
                "n": len(times),
                "p50_ms": round(_pct(times, 50), 1),
                "p95_ms": round(_pct(times, 95), 1),
                "p99_ms": round(_pct(times, 99), 1),
                "errors": steady_stats.errors.get(page, 0),
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
            Row(f"{label}: bare Flask route", bare_r.rps, "req/s", "{:.0f}", detail=f"gunicorn --workers {WORKERS}"),
            Row(f"{label}: ratio to bare", ratio, "", "{:.3f}", target=f">= {RATIO_TARGET}", ok=ratio >= RATIO_TARGET),
            Row(
                f"{label}: worst page p95 at 80 % of peak",
                worst["p95_ms"],
                "ms",
                "{:.0f}",
                target=f"<= {P95_TARGET_MS:.0f} ms",
                ok=worst["p95_ms"] <= P95_TARGET_MS,
                detail=f"{users} users, {steady_n / steady_elapsed:.1f} req/s paced at {0.8 * peak_rps:.1f}",
            ),
            Row(f"{label}: errors", errors, "", "{:.0f}", target="0", ok=errors == 0),
        ]
        lines += [
            f"{label}: {spaces} holder spaces x ({population.DOCUMENTS} documents, {population.MEASURES} "
            f"measures, {population.TRACES} traces, {population.SHARES} shares), "
            f"{population.PROFESSIONALS} professionals; seed "
            + (f"reused from {pop.instance.parent}" if pop.reused else f"made in {pop.seed_seconds:.0f} s"),
            "  server CPU per request over both phases: "
            + (
                f"{(peak_cpu1 - peak_cpu0) * 1000 / max(1, steady_n):.1f} ms (paced phase)"
                if peak_cpu0 is not None and peak_cpu1 is not None
                else "n/a"
            ),
            f"  same person's visits: median {statistics.median(gaps):.0f} s apart"
            if gaps
            else "  no person visited twice",
            f"  {'page':28} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6}   (paced at 80 % of peak, ms)",
        ]
        for page, p in pages.items():
            lines.append(
                f"  {page:28} {p['n']:>6} {p['p50_ms']:>7.1f} {p['p95_ms']:>7.1f} {p['p99_ms']:>7.1f} {p['errors']:>6}"
            )
        samples = peak_stats.samples + steady_stats.samples
        if samples:
            lines.append("  first errors: " + "; ".join(samples[:5]))
        data["databases"][database] = {
            "peak_rps": round(peak_rps, 2),
            "bare_rps": round(bare_r.rps, 1),
            "ratio": round(ratio, 4),
            "steady_rps": round(steady_n / steady_elapsed, 2),
            "pages_at_80_percent": pages,
            "errors": errors,
            "error_samples": samples[:20],
            "seed_reused": pop.reused,
            "seed_seconds": pop.seed_seconds,
            "peak_pages": {
                page: {"n": len(t), "p50_ms": round(_pct(t, 50), 1), "p95_ms": round(_pct(t, 95), 1)}
                for page, t in sorted(peak_stats.times.items())
            },
        }
        lines.append("")
    lines.append(
        f"gunicorn --workers {WORKERS} (sync), no response cache; client: {users} threads on the same "
        f"machine ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}): compare ratios, not req/s"
    )
    return SectionResult("peak", TITLE, rows, lines, data)
