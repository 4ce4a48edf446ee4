"""Commands every deployment needs: audit verification, session clean-up."""
import click
from flask import Flask
from flask.cli import AppGroup

from core import audit, sessions, throttle
from core.db import db

audit_cli = AppGroup("audit", help="The access trail.")
sessions_cli = AppGroup("sessions", help="Server-side sessions.")


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


def init_app(app: Flask) -> None:
    import importlib

    app.cli.add_command(audit_cli)
    app.cli.add_command(sessions_cli)
    for name in app.blueprints:
        try:
            module = importlib.import_module(f"blueprints.{name}.cli")
        except ModuleNotFoundError as exc:
            if exc.name != f"blueprints.{name}.cli":
                raise
            continue
        for command in module.commands:
            app.cli.add_command(command)
