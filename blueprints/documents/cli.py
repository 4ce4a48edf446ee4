"""`flask storage check [--remove-orphans] [--grace SECONDS]`: every blob intact, no leftovers.
`flask storage first-pages [--limit N]`: PDFs stored before first pages were drawn at upload."""

import click
from flask.cli import AppGroup

from blueprints.documents import previews
from core import blobs
from core.db import db

storage = AppGroup("storage", help="The encrypted blob store.")


def _age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d}"
    return f"{seconds // 86400} days"


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


@storage.command("check")
@click.option(
    "--remove-orphans",
    is_flag=True,
    help="Delete blob files no document knows, and interrupted writes (older than the grace).",
)
@click.option(
    "--grace",
    type=float,
    default=None,
    help="Seconds an upload may still be in flight: younger unknown files are reported, not removed "
    "(default: twice REQUEST_TIMEOUT_SECONDS, gunicorn's timeout).",
)
def check(remove_orphans: bool, grace: float | None):
    """Decrypt and hash every known blob (documents, thumbnails, imports); report every leftover with its age."""
    report = blobs.check(remove_orphans=remove_orphans, grace_seconds=grace)
    db.session.rollback()
    click.echo(f"{report.ok} blobs intact.")
    for label, items in (("missing", report.missing), ("corrupt", report.corrupt)):
        for blob_id in items:
            click.echo(f"{label}: {blob_id}", err=True)
    removed = set(report.removed_orphans) | set(report.removed_temp_files)
    lines = [("orphan blob", k, str(k)) for k in report.orphans]
    lines += [("temp file", k, str(k)) for k in report.temp_files]
    lines += [("recent unknown blob (maybe an upload in flight)", k, str(k)) for k in report.recent_unknown]
    lines += [("recent temp file (maybe a write in flight)", k, str(k)) for k in report.recent_temp_files]
    for label, key, name in lines:
        state = ", removed" if key in removed else ""
        click.echo(f"{label}: {name} (age {_age(report.ages.get(key, 0))}, {_mb(report.sizes.get(key, 0))}{state})")
    verb = "removed" if remove_orphans else "found"
    temp_bytes = sum(report.sizes.get(t, 0) for t in report.temp_files + report.recent_temp_files)
    click.echo(
        f"{len(report.orphans)} orphan blobs {verb}, {len(report.temp_files)} stale temp files {verb}, "
        f"{len(report.recent_unknown)} recent unknown files and {len(report.recent_temp_files)} recent temp "
        f"files left alone (younger than {_age(report.grace_seconds)}); temp files hold {_mb(temp_bytes)}."
    )
    if not report.healthy:
        raise SystemExit(1)


@storage.command("first-pages")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many documents (oldest first).")
def first_pages(limit: int | None):
    """Draw and store the first page of PDFs, and photos at the page's widths, stored before
    uploads drew them: their page then reads the drawing instead of drawing the page on every
    view, or sending the whole photo. Safe to run while Carnet serves, and again."""
    drawn, left = previews.draw_first_pages(limit)
    click.echo(
        f"{drawn} first pages and photos drawn and stored; {left} left as they are "
        "(password, unreadable or missing file)."
    )


commands = [storage]
