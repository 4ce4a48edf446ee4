"""A professional's home with their appointments across patients: what the agenda section
costs on a busy practice.

    .venv/bin/python -m benchmarks.run practice              # about 1 min; part of `make bench`

A throwaway instance (Alembic + demo seed) whose demo doctor gets PATIENTS more patients with
a permanent access each; served by `gunicorn --workers 2` (sync), the doctor logged in through
the real password + code flow. GET / (the professional's home), PAGE_REQUESTS sequential
requests, median and p95: first with no appointment, then after APPOINTMENTS appointments
with those patients are added (two years around today: proposed, asked for another time,
confirmed, declined, cancelled; a tenth of the grants ended, whose appointments are not shown).
The difference is the agenda section's cost; the same instance, the same server, one after
the other. No response cache.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from benchmarks import instance
from benchmarks.messaging import _p95
from benchmarks.report import Row, SectionResult
from benchmarks.server import Gunicorn

TITLE = "Professional's home: appointments across 300 patients"
PATIENTS = 300
APPOINTMENTS = 3_000
WORKERS = 2
PAGE_REQUESTS = 60
STATUSES = ["confirmed"] * 6 + ["proposed", "countered", "declined", "cancelled"]


def _app(path):
    from app import create_app

    return create_app({"DEMO": True, **instance.IN_PROCESS}, instance_path=str(path))


def _seed_patients(path) -> list[tuple[str, bool]]:
    """PATIENTS spaces granting the demo doctor a permanent access (one in ten since ended)."""
    from blueprints.demo.seed import PRO_EMAIL
    from core.db import db
    from core.grants import Grant
    from core.people import Account, Patient

    app = _app(path)
    now = datetime.now(UTC)
    with app.app_context():
        pro_id = db.session.scalar(select(Account.professional_id).where(Account.email == PRO_EMAIL))
        patients, grants, out = [], [], []
        for n in range(PATIENTS):
            pid = str(uuid.uuid4())
            patients.append(
                {
                    "id": pid,
                    "nir": f"1{n:014d}",
                    "birth_date": date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
                    "given_names": f"Prénom{n}",
                    "family_name": f"Nom{n}",
                    "email": f"patient{n}@example.fr",
                    "status": "active",
                    "created_at": now,
                }
            )
            ended = n % 10 == 0
            grants.append(
                {
                    "id": str(uuid.uuid4()),
                    "patient_id": pid,
                    "professional_id": pro_id,
                    "created_at": now - timedelta(days=400),
                    "ended_at": now - timedelta(days=1) if ended else None,
                }
            )
            out.append((pid, ended))
        db.session.execute(insert(Patient), patients)
        db.session.execute(insert(Grant), grants)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return out


def _seed_appointments(path, patients: list[tuple[str, bool]]) -> int:
    """APPOINTMENTS appointments of the demo doctor with those patients; returns how many the
    home may show (coming, still granted)."""
    from blueprints.agenda.models import Appointment
    from blueprints.demo.seed import PRO_EMAIL
    from core.db import db
    from core.people import Account

    app = _app(path)
    rnd = random.Random(14)
    now = datetime.now(UTC)
    with app.app_context():
        pro_id = db.session.scalar(select(Account.professional_id).where(Account.email == PRO_EMAIL))
        rows, shown = [], 0
        for n in range(APPOINTMENTS):
            pid, ended = patients[n % PATIENTS]
            at = now + timedelta(minutes=rnd.randint(-365 * 24 * 60, 365 * 24 * 60))
            status = rnd.choice(STATUSES)
            asked = at + timedelta(days=1) if status == "countered" else None
            shown += not ended and status in ("proposed", "confirmed", "countered") and at > now
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "patient_id": pid,
                    "professional_id": pro_id,
                    "with_name": "Dr Hélène Bernard",
                    "starts_at": at,
                    "duration_minutes": 20,
                    "reason": "Suivi",
                    "status": status,
                    "proposed_by": "professional",
                    "counter_starts_at": asked,
                    "sequence": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        db.session.execute(insert(Appointment), rows)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return shown


def _timed(browser, path: str, needle: bytes) -> list[float]:
    times = []
    for _ in range(PAGE_REQUESTS):
        t0 = time.perf_counter()
        status, _, body = browser.request("GET", path)
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200 or needle not in body:
            raise RuntimeError(f"GET {path} answered {status} without {needle!r}")
    return times


def run(opts) -> SectionResult:
    from blueprints.demo.seed import PASSWORD, PRO_EMAIL

    load_before = os.getloadavg()[0]
    path, _name = instance.prepare()
    notes: list[str] = []
    try:
        patients = _seed_patients(path)
        env = instance.server_env(path)
        with Gunicorn("benchmarks.wsgi:app", WORKERS, env, path / "gunicorn.log", ready_path="/connexion") as carnet:
            browser = instance.login(carnet.base, path, PRO_EMAIL, PASSWORD)
            _timed(browser, "/", b"pro-agenda")  # warm-up
            empty_ms = _timed(browser, "/", b"pro-agenda")
            shown = _seed_appointments(path, patients)
            _timed(browser, "/", b"agenda-row")  # warm-up
            full_ms = _timed(browser, "/", b"agenda-row")
            load_after = os.getloadavg()[0]
    finally:
        if not opts.keep:
            shutil.rmtree(path, ignore_errors=True)
        else:
            notes.append(f"instance kept in {path}")
    empty, full = statistics.median(empty_ms), statistics.median(full_ms)
    rows = [
        Row(
            f"home, {PATIENTS} patients, no appointment (GET /)",
            empty,
            "ms",
            detail=f"p95 {_p95(empty_ms):.1f} ms, {PAGE_REQUESTS} sequential requests",
        ),
        Row(
            f"home, {PATIENTS} patients, {APPOINTMENTS:,} appointments (GET /)",
            full,
            "ms",
            detail=f"p95 {_p95(full_ms):.1f} ms; {shown} coming with a live access, the first 30 listed",
        ),
        Row("the agenda section's cost", full - empty, "ms", detail="difference of the medians"),
    ]
    lines = [
        f"gunicorn --workers {WORKERS} (sync), SQLite in a temporary instance; sequential requests from one client",
        f"machine: {os.cpu_count()} cores, load average {load_before:.1f} before, {load_after:.1f} after",
        *notes,
    ]
    data = {
        "patients": PATIENTS,
        "appointments": APPOINTMENTS,
        "shown_candidates": shown,
        "empty_ms": {"median": empty, "p95": _p95(empty_ms)},
        "full_ms": {"median": full, "p95": _p95(full_ms)},
    }
    return SectionResult("practice", TITLE, rows, lines, data)
