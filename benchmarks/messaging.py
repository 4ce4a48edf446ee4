"""Messaging: the inbox of a holder with 2,000 conversations, and what the navigation's
unread-count poll costs against a bare Flask route.

    .venv/bin/python -m benchmarks.run messaging              # about 1 min; part of `make bench`
    .venv/bin/python -m benchmarks.run --runs 1 --seconds 5 messaging   # quick look

A throwaway instance (Alembic + demo seed) whose demo holder gets 2,000 threads with the demo
doctor (one message each, one in ten unread), bulk-inserted with SQLAlchemy Core; served by
`gunicorn --workers 2` (sync), logged in through the real password + code flow.
1. GET /messages (first page of the inbox) and GET /messages?q=... as its search fragment:
   median and p95 over sequential requests.
2. GET /messages/non-lus, the poll every page sends every 30 s (passive: it never extends the
   session), at saturation against the bare Flask route (benchmarks/bare.py) under the same
   gunicorn settings, runs interleaved: requests/s and server CPU per request. The poll must
   cost less than twice the bare route: CPU per request ratio < 2 and throughput ratio > 0.5.
   No response cache: every poll reads the count from the database. The logged-in floor
   (GET /session/etat: the session's lookup and nothing else) is measured beside it.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from benchmarks import instance
from benchmarks.foundation import _measure, _median
from benchmarks.report import Row, SectionResult
from benchmarks.server import Gunicorn

TITLE = "Messaging: inbox with 2,000 conversations, unread-count poll against a bare route"
THREADS = 2_000
WORKERS = 2
PAGE_REQUESTS = 60
COST_TARGET = 2.0  # the poll's cost, in bare routes
SUBJECTS = [
    "Résultats de votre bilan sanguin",
    "Compte rendu de l'échographie",
    "Renouvellement d'ordonnance",
    "Question sur le traitement",
    "Rappel de vaccination",
    "Résultats de la radio du genou",
    "Suivi de tension",
    "Certificat pour le sport",
]


def _seed_threads(path) -> None:
    """THREADS conversations between the demo holder and the demo doctor, one message each."""
    from app import create_app
    from blueprints.demo.seed import HOLDER_EMAIL, PRO_EMAIL
    from blueprints.messaging.models import Message, Thread
    from core.db import db
    from core.people import Account

    app = create_app({"DEMO": True, **instance.IN_PROCESS}, instance_path=str(path))
    rnd = random.Random(14)
    with app.app_context():
        patient_id = db.session.scalar(select(Account.patient_id).where(Account.email == HOLDER_EMAIL))
        pro_id = db.session.scalar(select(Account.professional_id).where(Account.email == PRO_EMAIL))
        start = datetime.now(UTC) - timedelta(days=3 * 365)
        threads, messages = [], []
        for n in range(THREADS):
            at = start + timedelta(minutes=n * 790 + rnd.randint(0, 600))
            tid = str(uuid.uuid4())
            subject = f"{rnd.choice(SUBJECTS)} ({n})"
            unread = 1 if n % 10 == 0 else 0
            from_pro = n % 3 != 0
            body = f"Bonjour, voici les éléments demandés, message numéro {n}. Cordialement."
            threads.append(
                {
                    "id": tid,
                    "patient_id": patient_id,
                    "professional_id": pro_id,
                    "subject": subject,
                    "started_by": "professional" if from_pro else "holder",
                    "created_at": at,
                    "last_message_at": at,
                    "last_holder_message_at": None if from_pro else at,
                    "holder_unread": unread if from_pro else 0,
                    "pro_unread": 0 if from_pro else unread,
                    "holder_archived": False,
                    "pro_archived": False,
                    "search_text": f"{subject} camille martin helene bernard {body}".lower(),
                }
            )
            messages.append(
                {
                    "id": str(uuid.uuid4()),
                    "thread_id": tid,
                    "patient_id": patient_id,
                    "sender": "professional" if from_pro else "holder",
                    "body": body,
                    "created_at": at,
                    "read_at": None if unread else at,
                }
            )
        db.session.execute(insert(Thread), threads)
        db.session.execute(insert(Message), messages)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _timed(browser, path: str, headers: dict | None = None) -> list[float]:
    times = []
    for _ in range(PAGE_REQUESTS):
        t0 = time.perf_counter()
        status, _, body = browser.request("GET", path, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    return times


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def run(opts) -> SectionResult:
    from blueprints.demo.seed import HOLDER_EMAIL, PASSWORD

    load_before = os.getloadavg()[0]
    path, _name = instance.prepare()
    gen = opts.generator
    notes: list[str] = []
    try:
        _seed_threads(path)
        env = instance.server_env(path)
        log = path / "gunicorn.log"
        with (
            Gunicorn("benchmarks.wsgi:app", WORKERS, env, log, ready_path="/connexion") as carnet,
            Gunicorn("benchmarks.bare:app", WORKERS, env, log) as bare,
        ):
            browser = instance.login(carnet.base, path, HOLDER_EMAIL, PASSWORD)
            cookie = {"Cookie": f"{instance.COOKIE}={browser.cookies[instance.COOKIE]}"}
            status, _, page = browser.request("GET", "/messages")
            if status != 200 or b"msg-row" not in page:
                raise RuntimeError(f"inbox check failed: {status}")
            status, _, count = browser.request("GET", "/messages/non-lus", headers={"HX-Request": "true"})
            if status != 200 or b'<span aria-hidden="true">' not in count:
                raise RuntimeError(f"poll check failed: {status}")
            inbox_ms = _timed(browser, "/messages")
            search_ms = _timed(browser, "/messages?q=echographie", {"HX-Request": "true"})

            poll_url, bare_url = carnet.base + "/messages/non-lus", bare.base + "/"
            poll_headers = {**cookie, "HX-Request": "true"}
            gen.run(poll_url, opts.warmup, poll_headers)
            gen.run(bare_url, opts.warmup, {})
            floor_url = carnet.base + "/session/etat"
            poll_runs, bare_runs, floor_runs = [], [], []
            for _ in range(opts.runs):  # interleaved, so drift on the machine hits both alike
                poll_runs.append(_measure(gen, carnet, poll_url, poll_headers, opts.seconds))
                bare_runs.append(_measure(gen, bare, bare_url, {}, opts.seconds))
                floor_runs.append(_measure(gen, carnet, floor_url, cookie, opts.seconds / 2))
            status, _, _ = browser.request("GET", "/messages")
            if status != 200:
                raise RuntimeError("the holder was logged out by the load")
            load_after = os.getloadavg()[0]
    finally:
        if not opts.keep:
            shutil.rmtree(path, ignore_errors=True)
        else:
            notes.append(f"instance kept in {path}")

    poll_rps, bare_rps = _median(poll_runs, "rps"), _median(bare_runs, "rps")
    rps_ratio = statistics.median(p["rps"] / b["rps"] for p, b in zip(poll_runs, bare_runs) if b["rps"])
    poll_cpu, bare_cpu = (
        _median(poll_runs, "server_cpu_ms_per_request"),
        _median(bare_runs, "server_cpu_ms_per_request"),
    )
    cost = poll_cpu / bare_cpu if poll_cpu and bare_cpu else 1 / rps_ratio
    failures = sum(r["not_200"] for r in poll_runs + bare_runs + floor_runs)
    floor_cpu = _median(floor_runs, "server_cpu_ms_per_request")
    floor_cost = floor_cpu / bare_cpu if floor_cpu and bare_cpu else None
    inbox_median = statistics.median(inbox_ms)
    rows = [
        Row(
            f"inbox, {THREADS:,} conversations (GET /messages)",
            inbox_median,
            "ms",
            "{:.1f}",
            detail=f"p95 {_p95(inbox_ms):.1f} ms, {PAGE_REQUESTS} sequential requests",
        ),
        Row(
            "inbox search fragment (?q=echographie)",
            statistics.median(search_ms),
            "ms",
            "{:.1f}",
            detail=f"p95 {_p95(search_ms):.1f} ms",
        ),
        Row(
            "unread-count poll (GET /messages/non-lus)",
            poll_rps,
            "req/s",
            "{:.0f}",
            detail="runs " + ", ".join(f"{r['rps']:.0f}" for r in poll_runs),
        ),
        Row(
            "bare Flask constant route",
            bare_rps,
            "req/s",
            "{:.0f}",
            detail="runs " + ", ".join(f"{r['rps']:.0f}" for r in bare_runs),
        ),
        Row(
            "poll cost, in bare routes",
            cost,
            "x",
            "{:.2f}",
            target=f"< {COST_TARGET:.0f}",
            ok=cost < COST_TARGET and rps_ratio > 1 / COST_TARGET,
            detail=f"server CPU {poll_cpu} ms vs {bare_cpu} ms per request; throughput ratio {rps_ratio:.2f}",
        ),
        Row(
            "logged-in floor (GET /session/etat), in bare routes",
            floor_cost or 0,
            "x",
            "{:.2f}",
            detail=f"server CPU {floor_cpu} ms per request: the session's lookup, no page; the poll costs "
            + (f"{poll_cpu / floor_cpu:.2f}" if poll_cpu and floor_cpu else "?")
            + " floors",
        ),
    ]
    if failures:
        rows.append(Row("answers other than 200 under load", failures, "", "{:.0f}", ok=False))
    lines = [
        f"load: {gen.describe}, {opts.runs} runs x {opts.seconds:.0f} s each after {opts.warmup:.0f} s warm-up, "
        f"medians; gunicorn --workers {WORKERS} (sync), SQLite in a temporary instance",
        f"machine: {os.cpu_count()} cores, load average {load_before:.1f} before, {load_after:.1f} after",
        *notes,
    ]
    data = {
        "threads": THREADS,
        "generator": gen.describe,
        "inbox_ms": {"median": inbox_median, "p95": _p95(inbox_ms)},
        "search_ms": {"median": statistics.median(search_ms), "p95": _p95(search_ms)},
        "poll": {"median_rps": poll_rps, "median_server_cpu_ms_per_request": poll_cpu, "runs": poll_runs},
        "logged_in_floor": {"median_server_cpu_ms_per_request": floor_cpu, "runs": floor_runs},
        "bare_flask": {"median_rps": bare_rps, "median_server_cpu_ms_per_request": bare_cpu, "runs": bare_runs},
        "cost_in_bare_routes": round(cost, 3),
        "throughput_ratio": round(rps_ratio, 3),
        "cost_target": COST_TARGET,
        "non_200_under_load": failures,
    }
    return SectionResult("messaging", TITLE, rows, lines, data)
