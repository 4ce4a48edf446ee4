"""`flask storage check [--remove-orphans] [--grace SECONDS]`: every blob intact, no leftovers."""
import click
from flask.cli import AppGroup

from core.db import db

storage = AppGroup("storage", help="The encrypted blob store.")


@storage.command("check")
@click.option("--remove-orphans", is_flag=True, help="Delete blob files no document knows, and stale temp files.")
@click.option("--grace", type=float, default=3600.0, show_default=True,
              help="Files younger than this many seconds may be uploads in flight: left alone.")
def check(remove_orphans: bool, grace: float):
    """Decrypt and hash every known blob (documents and thumbnails); report orphans."""
    from blueprints.documents import services

    report = services.check_storage(remove_orphans=remove_orphans, grace_seconds=grace)
    db.session.rollback()
    click.echo(f"{report.ok} blobs intact.")
    for label, items in (("missing", report.missing), ("corrupt", report.corrupt)):
        for blob_id in items:
            click.echo(f"{label}: {blob_id}", err=True)
    verb = "removed" if remove_orphans else "found"
    click.echo(f"{len(report.orphans)} orphan blobs {verb}, {len(report.temp_files)} stale temp files {verb}, "
               f"{len(report.recent_unknown)} recent unknown files left alone.")
    if not report.healthy:
        raise SystemExit(1)


commands = [storage]
