"""Online backups: the database (SQLite's backup API, or pg_dump) plus the encrypted blobs.

Consistent whatever runs meanwhile: the backup holds the blob store's backup lock
(``BlobStore.backup_hold``) from before it copies the database until it has copied the
files, so a deletion committed meanwhile leaves its file in place until the backup ends;
and it copies exactly the files its copy of the database knows (read from that copy, or
on PostgreSQL in the very snapshot pg_dump dumps), so an upload that commits after the
database copy leaves nothing behind and one that committed before it is in the backup.

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

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from core import clock
from core.db import libpq_url
from core.storage import BlobStore

MANIFEST = "backup.json"
ANCHOR = "audit-anchor.log"
# The table that holds every blob's wrapped key (blueprints/documents/models.py): the files a
# database knows. Named here as SQL text, so that core imports no blueprint.
KNOWN_BLOBS = "SELECT blob_id FROM blob_keys ORDER BY blob_id"


class BackupError(RuntimeError):
    pass


def _blobs(instance_path: str | Path) -> Path:
    return Path(instance_path) / "blobs"


def _pg_args(url: str) -> list[str]:
    return ["--dbname", libpq_url(url)]


def _copy_durably(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)
        fout.flush()
        os.fsync(fout.fileno())
    os.chmod(dst, 0o600)


def create(
    database_url: str,
    instance_path: str | Path,
    target: str | Path,
    *,
    store: BlobStore | None = None,
    after_database=None,
    anchor_file: str | Path | None = None,
) -> dict:
    """Write a consistent copy of the audit anchors, the database and every blob it knows into
    `target` (a new folder). The manifest lists the files the database knows but the disk had
    lost (`missing`): the backup is written all the same. `after_database` is called between
    the database copy and the file copy (tests interleave work there)."""
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
    if store is None:
        store = BlobStore(_blobs(instance_path), b"\0" * 32)  # paths and lock only: no key needed
    with store.backup_hold():
        if url.get_backend_name() == "sqlite":
            db_file = "carnet.db"
            known = _sqlite_copy(url.database, target / db_file)
        else:
            db_file = "carnet.dump"
            known = _pg_dump(database_url, target / db_file)
        if after_database is not None:
            after_database()
        count, missing = _copy_blobs(store, known, target / "blobs")
    manifest = {
        "created_at": clock.utcnow().isoformat(),
        "database": db_file,
        "blobs": count,
        "engine": url.get_backend_name(),
        "audit_anchor": anchor,
        "missing": missing,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def _sqlite_copy(source: str, dest: Path) -> list[str]:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)  # consistent even while the app writes
        try:
            return [row[0] for row in dst.execute(KNOWN_BLOBS)]
        except sqlite3.OperationalError:  # no such table: a database without documents yet
            return []
    finally:
        dst.close()
        src.close()


def _pg_dump(database_url: str, dest: Path) -> list[str]:
    """pg_dump in a snapshot this connection exports, after reading the known blobs in it."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            try:
                with conn.begin_nested():
                    known = list(conn.execute(text(KNOWN_BLOBS)).scalars())
            except Exception:  # noqa: BLE001 - no such table: a database without documents yet
                known = []
            run = subprocess.run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    "--file",
                    str(dest),
                    *_pg_args(database_url),
                ],
                capture_output=True,
                text=True,
            )
            conn.rollback()
    finally:
        engine.dispose()
    if run.returncode:
        raise BackupError(run.stderr.strip())
    return known


def _copy_blobs(store: BlobStore, known: list[str], dest: Path) -> tuple[int, list[str]]:
    count, missing = 0, []
    dest_root = dest
    dest_root.mkdir(mode=0o700, exist_ok=True)
    for blob_id in known:
        src = store.path_of(blob_id)
        out = dest_root / src.relative_to(store.root)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(src, out)
        except FileNotFoundError:
            missing.append(blob_id)
        else:
            count += 1
    return count, missing


def restore(
    database_url: str, instance_path: str | Path, source: str | Path, anchor_file: str | Path | None = None
) -> dict:
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
        run = subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *_pg_args(database_url),
                str(source / manifest["database"]),
            ],
            capture_output=True,
            text=True,
        )
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
