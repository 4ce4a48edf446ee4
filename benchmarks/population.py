"""A population for the morning peak: many holder spaces with a realistic volume, and
professionals with permanent accesses, seeded once and kept on disk between runs.

One demo space is made through the application (its documents are real encrypted blobs,
its holder and doctor have real password hashes); every other space is written through
SQLAlchemy Core in bulk, with the columns the application writes: documents reuse the demo's
blobs, measures are generated, traces are chained with the instance's audit key exactly as
core.audit chains them, and a few shares per space are made through the sharing service
(their codes are kept, so professionals can type them).

SQLite: the seeded instance folder is kept in benchmarks/out/peak/<name>/seed and copied for
each run. PostgreSQL: the seeded database is kept as <db>_seed and each run starts from a
copy (CREATE DATABASE ... TEMPLATE). A PostgreSQL in service has autovacuum on (its default):
months of data are vacuumed and every table's statistics follow its size. A server with it off
never would, and its planner would read a copied population as empty tables; so the seed is
vacuumed and analysed once, and each run analyses its copy when its people have logged in
(statistics()), as autovacuum would have by then.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

from benchmarks import instance
from benchmarks.server import ROOT

OUT = ROOT / "benchmarks" / "out" / "peak"
DOCUMENTS, MEASURES, TRACES, SHARES = 60, 5000, 200, 3
PROFESSIONALS, GRANTS_PER_PRO = 50, 20
#: A seed made by an older version is made again when what a seeded space holds changed:
#: 2, a PDF keeps its first page drawn at upload (a seed before it drew them on every view);
#: 3, a journey's preview may be a photo's (PREVIEWED).
SEED_VERSION = 3
#: The kinds whose page shows the document as an image (a PDF's pages, a photo): a journey's
#: "one preview" opens one of them. Before seed 3 the list named "image", a kind no document has,
#: and every preview was a PDF's.
PREVIEWED = ("pdf", "jpeg", "png")
HOLDER_PASSWORD = PRO_PASSWORD = "carnet-demo-2026"  # the demo's: its hash is reused for every account
# (kind, every so many hours, value, spread, value2, spread2, context): a watch, a cuff, a scale, a meter
SERIES = [
    ("heart_rate", 2, 68, 8, None, 0, None),
    ("steps", 24, 7500, 2500, None, 0, None),
    ("blood_pressure", 24, 128, 8, 81, 5, None),
    ("weight", 72, 72, 2, None, 0, None),
    ("glucose", 48, 98, 8, None, 0, "fasting"),
    ("spo2", 24, 97, 1, None, 0, None),
    ("temperature", 240, 36.8, 0.3, None, 0, None),
]


@dataclass
class Population:
    """What the load needs to know about a seeded instance."""

    instance: Path
    database_url: str
    holders: list[dict]  # email, patient_id, doc_ids (a few), chart slugs
    professionals: list[dict]  # email, grant_ids
    codes: list[dict]  # code, patient_id
    spaces: int
    seed_seconds: float
    reused: bool
    passkeys: dict | None = None  # origin, rp_id, idle_seconds, handles (e-mail -> user handle, base64url)


def _pg_admin(url: str):
    base = url.rsplit("/", 1)[0] + "/postgres"
    return create_engine(base, isolation_level="AUTOCOMMIT")


def create_database(url: str) -> None:
    """The PostgreSQL database `url` names, made empty if the server has none of that name."""
    name = url.rsplit("/", 1)[1]
    if not _pg_exists(url, name):
        with _pg_admin(url).connect() as c:
            c.execute(text(f'create database "{name}"'))


def _pg_exists(url: str, name: str) -> bool:
    with _pg_admin(url).connect() as c:
        return c.scalar(text("select 1 from pg_database where datname = :n"), {"n": name}) is not None


def autovacuum(url: str) -> bool | None:
    """Whether the PostgreSQL server at `url` runs autovacuum (None: not PostgreSQL)."""
    if not url.startswith("postgresql"):
        return None
    with _pg_admin(url).connect() as c:
        return c.scalar(text("show autovacuum")) == "on"


def _vacuumed(url: str, name: str) -> bool:
    """Whether database `name` has been vacuumed since it was written (its measures all visible)."""
    engine = create_engine(url.rsplit("/", 1)[0] + "/" + name)
    try:
        with engine.connect() as c:
            done = "select last_vacuum is not null or last_autovacuum is not null from pg_stat_user_tables"
            return bool(c.scalar(text(done + " where relname = 'measures'")))
    finally:
        engine.dispose()


def statistics(url: str, vacuum: bool = False) -> None:
    """ANALYZE (with VACUUM first if asked) the PostgreSQL database at `url`: what autovacuum
    does in service; nothing for SQLite, which Carnet leaves to its own planner."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(text("VACUUM (ANALYZE)" if vacuum else "ANALYZE"))
    finally:
        engine.dispose()


def _pg_copy(url: str, source: str, target: str) -> None:
    engine = _pg_admin(url)
    with engine.connect() as c:
        c.execute(text(f'drop database if exists "{target}" with (force)'))
        c.execute(text(f'create database "{target}" template "{source}"'))
    engine.dispose()


def prepare(database: str, spaces: int, measures: int = MEASURES, pg_url: str | None = None) -> Population:
    """A run's instance: copied from the seeded one, seeding it first if it is not on disk."""
    name = f"{database}-{spaces}x{measures}"
    seed_dir = OUT / name / "seed"
    run_dir = OUT / name / "run"
    marker = OUT / name / "population.json"
    pg_seed = pg_run = None
    if database == "postgresql":
        pg_url = pg_url or os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/carnet_bench")
        db_base = pg_url.rsplit("/", 1)[1]
        pg_seed, pg_run = f"{db_base}_peak_{spaces}_seed", f"{db_base}_peak_{spaces}"
    reused = (
        marker.exists()
        and json.loads(marker.read_text()).get("version") == SEED_VERSION
        and seed_dir.exists()
        and (pg_seed is None or _pg_exists(pg_url, pg_seed))
    )
    seconds = 0.0
    if not reused:
        shutil.rmtree(OUT / name, ignore_errors=True)
        seed_dir.mkdir(parents=True)
        started = time.monotonic()
        url = None
        if pg_seed:
            engine = _pg_admin(pg_url)
            with engine.connect() as c:
                c.execute(text(f'drop database if exists "{pg_seed}" with (force)'))
                c.execute(text(f'create database "{pg_seed}"'))
            engine.dispose()
            url = pg_url.rsplit("/", 1)[0] + "/" + pg_seed
        info = _seed(seed_dir, url, spaces, measures)
        seconds = time.monotonic() - started
        info["seed_seconds"] = round(seconds, 1)
        info["version"] = SEED_VERSION
        marker.write_text(json.dumps(info))
    info = json.loads(marker.read_text())
    if pg_seed and not _vacuumed(pg_url, pg_seed):  # once, as autovacuum would have long before the run
        statistics(pg_url.rsplit("/", 1)[0] + "/" + pg_seed, vacuum=True)
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(seed_dir, run_dir)
    if pg_seed:
        _pg_copy(pg_url, pg_seed, pg_run)
        url = pg_url.rsplit("/", 1)[0] + "/" + pg_run
    else:
        url = f"sqlite:///{run_dir / 'carnet.db'}"
    return Population(
        run_dir,
        url,
        info["holders"],
        info["professionals"],
        info["codes"],
        spaces,
        info.get("seed_seconds", seconds),
        reused,
        _ready(run_dir, url if pg_seed else None),
    )


def _ready(folder: Path, url: str | None) -> dict:
    """The run's copy brought to the current schema (a seed made before a migration is reused),
    and a passkey registered for every account, as the app stores one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_") and k != "DATABASE_URL"}
    code = f"from benchmarks import population as p; p._ready_here({str(folder)!r}, {url!r})"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    return json.loads((folder / "passkeys.json").read_text())


def _ready_here(folder: str, url: str | None) -> None:
    """Runs in a fresh interpreter (the app binds one database per process)."""
    from webauthn.helpers import bytes_to_base64url

    # imported here, as in _seed_here: this runs in its own interpreter, bound to the run's database
    from app import create_app
    from benchmarks import passkeys
    from core import clock
    from core.db import db, new_id
    from core.people import Account, Credential

    app = create_app({"DATABASE_URL": url} if url else {}, instance_path=folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        CARNET_SECRET_KEY=app.config["SECRET_KEY"],
        CARNET_CODE_PEPPER=app.config["CODE_PEPPER"],
    )
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    with app.app_context():
        accounts = db.session.execute(select(Account.id, Account.email, Account.user_handle)).all()
        have = set(db.session.scalars(select(Credential.account_id)))
        rows = [
            {
                "id": new_id(),
                "account_id": aid,
                "credential_id": passkeys.credential_id(email),
                "public_key": passkeys.cose_public_key(passkeys.private_key(email)),
                "sign_count": 0,
                "transports": ["internal", "hybrid"],
                "name": "Téléphone",
                "backed_up": True,
                "created_at": clock.utcnow(),
            }
            for aid, email, _handle in accounts
            if aid not in have
        ]
        if rows:
            db.session.execute(insert(Credential), rows)
        db.session.commit()
        info = {
            "origin": app.config["WEBAUTHN_ORIGIN"],
            "rp_id": app.config["WEBAUTHN_RP_ID"],
            "idle_seconds": app.config["SESSION_IDLE_MINUTES"] * 60,
            "handles": {email: bytes_to_base64url(handle) for _aid, email, handle in accounts if handle},
        }
        db.session.remove()
    (Path(folder) / "passkeys.json").write_text(json.dumps(info))


def _seed(folder: Path, url: str | None, spaces: int, measures: int) -> dict:
    """Migrate, seed the demo through the application, then write the rest in bulk."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_") and k != "DATABASE_URL"}
    code = (
        "import sys; from benchmarks import population as p; "
        f"p._seed_here({str(folder)!r}, {url!r}, {spaces}, {measures})"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    return json.loads((folder / "population.json").read_text())


def _seed_here(folder: str, url: str | None, spaces: int, measures: int) -> None:
    """Runs in a fresh interpreter (the app binds one database per process)."""
    from app import create_app

    overrides = {"DEMO": True}
    if url:
        overrides["DATABASE_URL"] = url
    app = create_app(overrides, instance_path=folder)
    instance.migrate(app)
    from blueprints.demo.seed import seed

    with app.app_context():
        seed()
        info = _bulk(spaces, measures)
    (Path(folder) / "population.json").write_text(json.dumps(info))


def _bulk(spaces: int, n_measures: int) -> dict:
    from blueprints.documents.models import BlobKey, Document
    from blueprints.measures import kinds
    from blueprints.measures.models import Measure
    from blueprints.sharing import services as sharing
    from core import audit, clock
    from core.access import Viewer
    from core.db import db, new_id
    from core.grants import Grant
    from core.people import Account, Patient, Professional

    rng = random.Random(2026)
    holder = db.session.scalar(select(Account).where(Account.role == "holder"))
    doctor = db.session.scalar(select(Account).where(Account.role == "professional"))
    template_docs = [d for d in db.session.scalars(select(Document).where(Document.patient_id == holder.patient_id))]
    doc_cols = [c.name for c in Document.__table__.columns]
    pat = db.session.get(Patient, holder.patient_id)
    pat_cols = [c.name for c in Patient.__table__.columns]
    acc_cols = [c.name for c in Account.__table__.columns]
    now = clock.utcnow()
    now_ts = int(now.timestamp())
    key = audit.audit_key()
    last = db.session.execute(
        select(audit.AuditEvent.hash, audit.AuditEvent.seq).order_by(audit.AuditEvent.id.desc()).limit(1)
    ).one()
    chain = {"prev": last.hash, "seq": last.seq or 1}
    conn = db.session.connection()
    holders, pros, codes = [], [], []
    entered = {k for k, v in kinds.KINDS.items() if v.entered}
    series = [s for s in SERIES if s[0] in entered]
    actions = ["login", "document_opened", "measure_added", "document_added", "profile_updated", "login"]

    def trace_rows(patient_id: str, account_id: str, count: int) -> list[dict]:
        rows = []
        for i in range(count):
            at = now - timedelta(minutes=(count - i) * 97)
            event = audit.AuditEvent(
                at=at,
                patient_id=patient_id,
                account_id=account_id,
                actor_type="holder",
                actor_id=account_id,
                actor_name=None,
                action=actions[i % len(actions)],
                target_type=None,
                target_id=None,
                target_label=None,
                grant_id=None,
                ip="127.0.0.1",
                device="Android · Chrome",
                kiosk=False,
                detail={},
                prev_hash=chain["prev"],
                seq=chain["seq"] + 1,
            )
            event.hash = audit._digest(event, key)
            chain["prev"], chain["seq"] = event.hash, event.seq
            rows.append({c.name: getattr(event, c.key) for c in audit.AuditEvent.__table__.columns if c.name != "id"})
        return rows

    for i in range(spaces):
        pid, aid = new_id(), new_id()
        prow = {c: getattr(pat, c) for c in pat_cols}
        prow.update(
            id=pid,
            nir=f"1{i:012d}{i % 97:02d}",
            given_names=f"Personne {i}",
            family_name=f"Banc{i}",
            email=f"holder{i}@bench.example",
        )
        conn.execute(insert(Patient), [prow])
        arow = {c: getattr(holder, c) for c in acc_cols}
        arow.update(id=aid, email=f"holder{i}@bench.example", patient_id=pid, user_handle=os.urandom(32))
        conn.execute(insert(Account), [arow])
        docs = []
        for j in range(DOCUMENTS):
            t = template_docs[j % len(template_docs)]
            row = {c: getattr(t, c) for c in doc_cols}
            row.update(
                id=new_id(),
                patient_id=pid,
                title=f"{t.title} ({j})",
                act_date=date.today() - timedelta(days=j * 23 + rng.randint(0, 20)),
            )
            docs.append(row)
        conn.execute(insert(Document), docs)
        ms = []
        per = max(1, n_measures // len(series))
        for kind_key, hours, mean, spread, mean2, spread2, context in series:
            kind = kinds.get(kind_key)
            for k in range(per):
                value = round(rng.gauss(mean, spread), kind.decimals)
                value = min(max(value, kind.low), kind.high)
                value2 = round(rng.gauss(mean2, spread2)) if mean2 else None
                ms.append(
                    {
                        "id": new_id(),
                        "patient_id": pid,
                        "kind": kind_key,
                        "taken_at": now_ts - k * hours * 3600 - rng.randint(0, 1800),
                        "utc_offset": 60,
                        "value": value,
                        "value2": value2,
                        "context": context,
                        "source": "apple",
                        "source_name": "Apple Watch",
                        "import_id": None,
                        "dedup": kinds.dedup_key(kind, value, value2, context),
                        "created_at": now,
                    }
                )
        conn.execute(insert(Measure), ms)
        conn.execute(insert(audit.AuditEvent), trace_rows(pid, aid, TRACES))
        holders.append(
            {
                "email": arow["email"],
                "patient_id": pid,
                "account_id": aid,
                "doc_ids": [d["id"] for d in docs[:5] if d["kind"] in PREVIEWED] or [docs[0]["id"]],
                "charts": [kinds.get(s[0]).slug for s in series[:4]],
            }
        )
        if (i + 1) % 50 == 0:
            db.session.commit()
            conn = db.session.connection()
    # blob keys stay with the demo space: documents of other spaces point at the same blobs
    assert db.session.scalar(select(BlobKey.blob_id).limit(1)) is not None
    pro_row = db.session.get(Professional, doctor.professional_id)
    pro_cols = [c.name for c in Professional.__table__.columns]
    for p in range(PROFESSIONALS):
        prid, aid = new_id(), new_id()
        row = {c: getattr(pro_row, c) for c in pro_cols}
        row.update(id=prid, rpps=f"2{p:010d}", given_name=f"Soignant{p}", family_name="Banc")
        conn.execute(insert(Professional), [row])
        arow = {c: getattr(doctor, c) for c in acc_cols}
        arow.update(id=aid, email=f"pro{p}@bench.example", professional_id=prid, user_handle=os.urandom(32))
        conn.execute(insert(Account), [arow])
        grants = [
            {
                "id": new_id(),
                "patient_id": holders[(p * GRANTS_PER_PRO + g) % spaces]["patient_id"],
                "professional_id": prid,
                "created_at": now,
                "ended_at": None,
            }
            for g in range(GRANTS_PER_PRO)
        ]
        conn.execute(insert(Grant), grants)
        pros.append({"email": arow["email"], "grant_ids": [g["id"] for g in grants]})
    db.session.commit()
    scope = {"documents": "all", "categories": [], "summary": True, "measures": True}
    for h in holders:
        viewer = Viewer("holder", patient_id=h["patient_id"], account_id=h["account_id"])
        for s in range(SHARES):
            created = sharing.create(viewer, scope, "30j", None, False, f"Dr Banc {s}")
            codes.append({"code": created.code, "patient_id": h["patient_id"]})
        db.session.commit()
    return {"holders": holders, "professionals": pros, "codes": codes}
