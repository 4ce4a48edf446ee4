"""Instructions per request of a logged-in route, counted by callgrind: unlike the clock on a
shared machine, the count repeats to within 0.1 % whatever the load, so a change to the
request's floor is compared before and after on it first (docs/performance.md, 9 onwards).

    .venv/bin/python -m benchmarks.instructions                      # etat, poll and home, demo space
    .venv/bin/python -m benchmarks.instructions --threads poll home  # + 2,000 conversations
    .venv/bin/python -m benchmarks.instructions --instance DIR etat  # an instance kept from before
    .venv/bin/python -m benchmarks.instructions documents measures chart history sharing  # holder pages
    .venv/bin/python -m benchmarks.instructions --instance benchmarks/out/peak/sqlite-1000x5000/seed \
        --holder holder17@bench.example documents measures  # a space of the morning peak's population

Needs valgrind (Debian: `apt-get install valgrind`). The WSGI app is called directly (no server,
no socket), as the demo holder with a session record written for the run; each route is warmed
up, then callgrind's instrumentation is switched on (`callgrind_control -i on`) around N
requests only: start-up is not counted. Same instance for the two checkouts compared.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from app import create_app
from benchmarks import instance as bench_instance
from benchmarks.messaging import _seed_threads
from blueprints.demo.seed import HOLDER_EMAIL
from blueprints.documents.models import Document
from core import clock
from core.db import db
from core.grants import Grant
from core.people import Account
from core.sessions import UserSession, _hash

ROUTES = {
    "etat": ("/session/etat", {}),
    "poll": ("/messages/non-lus", {"HX-Request": "true"}),
    "home": ("/", {}),
    "documents": ("/documents", {}),
    "measures": ("/constantes/poids", {}),
    "chart": ("/constantes/poids/graphique.svg", {}),
    "heart": ("/constantes/frequence-cardiaque", {}),  # the peak's most measured kind: 700 in 3 months
    "pressure": ("/constantes/tension", {}),
    # the charts of the peak's four kinds (population.SERIES): light series, read measure by measure
    "heart-chart": ("/constantes/frequence-cardiaque/graphique.svg", {}),
    "pressure-chart": ("/constantes/tension/graphique.svg", {}),
    "steps-chart": ("/constantes/pas/graphique.svg", {}),
    "history": ("/historique", {}),
    # the space's newest document with a preview image: its page (which writes a trace), its image
    "document": ("/documents/{doc}", {}),
    "preview": ("/documents/{doc}/vignette", {}),
    "page-image": ("/documents/{pdf}/pages/1", {}),  # the newest PDF's first page, as its page shows it
    # a professional's pages (--holder pro0@bench.example): their home is "home"; a record is
    # opened through their oldest live permanent access, and each of its pages writes a trace
    "pro-record": ("/pro/dossier/{grant}", {}),
    "pro-documents": ("/pro/dossier/{grant}/documents", {}),
    "pro-measures": ("/pro/dossier/{grant}/mesures", {}),
    "pro-document": ("/pro/dossier/{grant}/documents/{record_doc}", {}),  # the record's newest visible one
    "sharing": ("/partage", {}),
    "add-form": ("/documents/ajouter", {}),  # a form and the layout around it: a page's floor
}
DEFAULT = ["etat", "poll", "home"]
WARMUP = 30


def prepared(instance: str, route: str, email: str = ""):
    """One request of `route` on the WSGI app of `instance`, called directly as the holder (or
    `email`) with a session record written for the run: a function that answers it and raises
    unless the answer is 200. Shared with benchmarks.cold and benchmarks.statements."""
    os.environ["CARNET_DEMO"] = "1"  # read by create_app
    app = create_app(bench_instance.IN_PROCESS, instance_path=instance)
    token = secrets.token_urlsafe(32)
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == (email or HOLDER_EMAIL)))
        now = clock.utcnow()
        db.session.add(
            UserSession(
                token_hash=_hash(token),
                account_id=account.id,
                data={"_user_id": account.id, "_fresh": True},
                created_at=now,
                last_active_at=now,
                authenticated_at=now,
                fresh_at=now,
            )
        )
        db.session.commit()
        newest = db.session.scalar(
            select(Document.id)
            .where(Document.patient_id == account.patient_id, Document.thumb_blob_id.is_not(None))
            .order_by(Document.created_at.desc())
        )
        pdf = db.session.scalar(
            select(Document.id)
            .where(Document.patient_id == account.patient_id, Document.kind == "pdf", Document.first_page.is_not(None))
            .order_by(Document.created_at.desc())
        )
        grant = db.session.scalar(
            select(Grant.id)
            .where(Grant.professional_id == getattr(account.professional, "id", None), Grant.ended_at.is_(None))
            .order_by(Grant.created_at, Grant.id)
        )
        record_doc = db.session.scalar(
            select(Document.id)
            .join(Grant, Grant.patient_id == Document.patient_id)
            .where(Grant.id == grant, Document.hidden.is_(False))
            .order_by(Document.created_at.desc())
        )
        db.session.remove()
    path, headers = ROUTES[route]
    path = path.format(doc=newest, pdf=pdf, grant=grant, record_doc=record_doc)
    builder = EnvironBuilder(
        path=path,
        base_url="http://localhost:8000",
        headers={"Cookie": f"carnet_session={token}", "Accept-Encoding": "br, gzip", **headers},
    )
    environ = builder.get_environ()

    def call() -> None:
        status = []
        answer = app({**environ, "wsgi.input": io.BytesIO(b"")}, lambda s, h, e=None: status.append(s))
        b"".join(answer)
        if hasattr(answer, "close"):  # optional in WSGI: an image answered as a plain list has none
            answer.close()
        if not status[0].startswith("200"):
            raise SystemExit(f"{path} answered {status[0]}")

    return call


def _child(instance: str, route: str, n: int, email: str) -> None:
    """Runs under valgrind: N requests of the route, instrumentation on around them only."""
    call = prepared(instance, route, email)
    for _ in range(WARMUP):
        call()
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    for _ in range(n):
        call()
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)


def count(instance: str, route: str, n: int, email: str = "") -> int:
    """Instructions per request of `route`, N requests under callgrind."""
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null"]
    cmd += [sys.executable, "-m", "benchmarks.instructions", "--child", instance, route, str(n), email]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parent.parent)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"callgrind failed for {route}: {done.stderr[-2000:]}")
    return int(found.group(1)) // n


def parser(prog: str, doc: str, default: list[str]) -> argparse.ArgumentParser:
    """The arguments of the tools that call the app in process (this one, benchmarks.cold, benchmarks.statements):
    routes, an instance, a holder."""
    p = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    p.add_argument("routes", nargs="*", help=f"of {', '.join(ROUTES)} (default: {' '.join(default)})")
    p.add_argument("--instance", help="an instance folder prepared before (default: a new demo instance)")
    p.add_argument("--holder", default="", help="the holder's e-mail (default: the demo holder)")
    p.set_defaults(default_routes=default)
    return p


def chosen(p: argparse.ArgumentParser, opts, threads: bool = False) -> tuple[str, list[str]]:
    """The instance (a new demo one unless given; with `threads`, the messaging benchmark's
    conversations added) and the routes asked for."""
    unknown = [r for r in opts.routes if r not in ROUTES]  # not choices=: argparse refuses nargs="*" given none
    if unknown:
        p.error(f"unknown routes {unknown}: choose from {', '.join(ROUTES)}")
    instance = opts.instance
    if instance is None:
        folder, _ = bench_instance.prepare()
        if threads:
            _seed_threads(folder)
        instance = str(folder)
        print(f"instance: {instance} (kept: pass it with --instance to compare another checkout)")
    return instance, opts.routes or opts.default_routes


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        _child(args[1], args[2], int(args[3]), args[4])
        return 0
    p = parser("python -m benchmarks.instructions", __doc__, DEFAULT)
    p.add_argument(
        "--threads", action="store_true", help="a new instance gets the messaging benchmark's 2,000 conversations"
    )
    p.add_argument("--requests", type=int, default=100, help="requests counted per route (default 100; pages: a third)")
    opts = p.parse_args(args)
    instance, routes = chosen(p, opts, threads=opts.threads)
    for route in routes:
        n = opts.requests if route in ("etat", "poll") else max(10, opts.requests // 3)
        print(
            f"{route:5} {ROUTES[route][0]:20} {count(instance, route, n, opts.holder):>12,} instructions per request (n={n})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
