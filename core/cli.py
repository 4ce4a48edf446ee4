"""Commands every deployment needs: audit verification, session clean-up, backups, the share
code figures an operator watches."""
import click
from flask import Flask
from flask.cli import AppGroup

from core import audit, sessions, throttle
from core.db import db

audit_cli = AppGroup("audit", help="The access trail.")
backup_cli = AppGroup("backup", help="Online backups of the database and the encrypted files.")
sessions_cli = AppGroup("sessions", help="Server-side sessions.")
shares_cli = AppGroup("shares", help="Share codes and links.")


@audit_cli.command("verify")
def verify():
    """Check the hash chain; name the first broken link."""
    result = audit.verify()
    if result.ok:
        click.echo(f"Audit trail intact: {result.count} events verified.")
        return
    click.echo(f"Audit trail BROKEN at event #{result.broken_id} ({result.reason}); "
               f"{result.count} events before it are intact.", err=True)
    raise SystemExit(1)


@sessions_cli.command("purge")
def purge():
    """Delete ended sessions older than a day and old failed-attempt counters."""
    from datetime import timedelta

    from sqlalchemy import delete

    from core import clock

    cut = clock.utcnow() - timedelta(days=1)
    n = db.session.execute(delete(sessions.UserSession).where(sessions.UserSession.ended_at < cut)).rowcount
    m = throttle.purge()
    db.session.commit()
    click.echo(f"{n} ended sessions and {m} attempt counters removed.")


@shares_cli.command("attempts")
def share_attempts():
    """Refused share code and link attempts this hour, and shares whose code locked today."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from core import clock, grants

    refused = grants.refused_this_hour()
    locked = db.session.scalar(select(func.count()).select_from(grants.Share).where(
        grants.Share.locked_at > clock.utcnow() - timedelta(hours=24))) or 0
    click.echo(f"Refused share attempts this hour: {refused} (a warning is logged every {grants.GLOBAL_ALERT}).")
    click.echo(f"Share codes locked after wrong attempts in the last 24 hours: {locked}.")


@backup_cli.command("create")
@click.argument("target", type=click.Path(file_okay=False))
def backup_create(target):
    """Copy the database and every encrypted file into TARGET (the master key is not copied)."""
    from flask import current_app

    from core import backup

    try:
        manifest = backup.create(current_app.config["DATABASE_URL"], current_app.instance_path, target)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Backup written to {target}: database and {manifest['blobs']} encrypted files. "
               "Keep the master key apart from it.")


@backup_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.confirmation_option(prompt="This replaces the database and the files. Continue?")
def backup_restore(source):
    """Replace the database and the encrypted files with a backup (stop the app first)."""
    from flask import current_app

    from core import backup

    try:
        manifest = backup.restore(current_app.config["DATABASE_URL"], current_app.instance_path, source)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Restored the backup of {manifest['created_at']}. Check it: flask --app app audit verify; "
               "flask --app app storage check")


def init_app(app: Flask) -> None:
    import importlib

    app.cli.add_command(audit_cli)
    app.cli.add_command(sessions_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(shares_cli)
    for name in app.blueprints:
        try:
            module = importlib.import_module(f"blueprints.{name}.cli")
        except ModuleNotFoundError as exc:
            if exc.name != f"blueprints.{name}.cli":
                raise
            continue
        for command in module.commands:
            app.cli.add_command(command)
