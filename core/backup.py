"""Online backups: the database (SQLite's backup API, or pg_dump) plus the encrypted blobs.

The master key is deliberately left out: it must be kept apart (CARNET_MASTER_KEY, or a copy
of instance/keys/ stored elsewhere), so that deleting a document's wrapped key makes it
unrecoverable in backups too. So is the audit key (CARNET_AUDIT_KEY or instance/keys/audit.key).

The audit anchor file travels with the database it anchors: it is copied first, then the
database, so every head it records is in the copy (anchors are written after their commit).
A restore puts it back with the database and keeps the replaced one beside it.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from core import clock

MANIFEST = "backup.json"
ANCHOR = "audit-anchor.log"


class BackupError(RuntimeError):
    pass


def _blobs(instance_path: str | Path) -> Path:
    return Path(instance_path) / "blobs"


def _pg_args(url: str) -> list[str]:
    u = make_url(url).set(drivername="postgresql")
    return ["--dbname", u.render_as_string(hide_password=False)]


def _copy_durably(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)
        fout.flush()
        os.fsync(fout.fileno())
    os.chmod(dst, 0o600)


def create(database_url: str, instance_path: str | Path, target: str | Path,
           anchor_file: str | Path | None = None) -> dict:
    """Write a consistent copy of the audit anchors, the database and every blob into `target`
    (a new folder)."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o700)
    anchor = None
    if anchor_file is not None and Path(anchor_file).exists():  # before the database: see above
        _copy_durably(Path(anchor_file), target / ANCHOR)
        anchor = ANCHOR
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        src = sqlite3.connect(url.database)
        dst = sqlite3.connect(target / "carnet.db")
        try:
            src.backup(dst)  # consistent even while the app writes
        finally:
            dst.close()
            src.close()
        db_file = "carnet.db"
    else:
        db_file = "carnet.dump"
        run = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target / db_file),
                              *_pg_args(database_url)], capture_output=True, text=True)
        if run.returncode:
            raise BackupError(run.stderr.strip())
    blobs = _blobs(instance_path)
    count = 0
    if blobs.exists():
        shutil.copytree(blobs, target / "blobs", ignore=shutil.ignore_patterns(".*"))
        count = sum(1 for p in (target / "blobs").rglob("*") if p.is_file())
    manifest = {"created_at": clock.utcnow().isoformat(), "database": db_file, "blobs": count,
                "engine": url.get_backend_name(), "audit_anchor": anchor}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(database_url: str, instance_path: str | Path, source: str | Path,
            anchor_file: str | Path | None = None) -> dict:
    """Put a backup back in place: database replaced, blobs replaced, audit anchors replaced by
    the backup's (the replaced file is kept beside, renamed). Run with the app stopped."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} holds no backup") from exc
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if manifest["engine"] != "sqlite":
            raise BackupError("this backup was taken from PostgreSQL")
        src = sqlite3.connect(source / manifest["database"])
        dst = sqlite3.connect(url.database)
        try:
            problems = src.execute("PRAGMA integrity_check").fetchone()[0]
            if problems != "ok":
                raise BackupError(f"backup database damaged: {problems}")
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        if manifest["engine"] != "postgresql":
            raise BackupError("this backup was taken from SQLite")
        run = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                              *_pg_args(database_url), str(source / manifest["database"])],
                             capture_output=True, text=True)
        if run.returncode:
            raise BackupError(run.stderr.strip())
    blobs = _blobs(instance_path)
    if blobs.exists():
        shutil.rmtree(blobs)
    if (source / "blobs").exists():
        shutil.copytree(source / "blobs", blobs)
    if anchor_file is not None:
        _restore_anchor(Path(anchor_file), source, manifest)
    return manifest


def _restore_anchor(anchor_file: Path, source: Path, manifest: dict) -> None:
    """The anchors of the restored database; the ones it replaces (heads the restored database
    no longer reaches) are kept as anchor.log.replaced-<time>, never deleted."""
    if anchor_file.exists():
        stamp = clock.utcnow().strftime("%Y%m%dT%H%M%S%fZ")
        os.replace(anchor_file, anchor_file.with_name(f"{anchor_file.name}.replaced-{stamp}"))
    if manifest.get("audit_anchor"):
        anchor_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _copy_durably(source / manifest["audit_anchor"], anchor_file)
    manifest["anchor_restored"] = bool(manifest.get("audit_anchor"))
