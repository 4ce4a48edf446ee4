"""`flask measures imports-resume`: run measure imports nobody runs (pending, or left running
by a process that stopped), one after the other, in this process."""

import click
from flask.cli import AppGroup

from blueprints.measures.imports import jobs
from core.db import db

measures = AppGroup("measures", help="Health measures.")


@measures.command("imports-resume")
def imports_resume():
    """Run pending imports and take over those whose heartbeat is stale."""
    ids = jobs.waiting()
    db.session.rollback()
    if not ids:
        click.echo("No import waiting.")
        return
    for import_id in ids:
        imp = jobs.run(import_id)
        if imp is None:
            click.echo(f"{import_id}: taken by another runner.")
        else:
            click.echo(
                f"{import_id}: {imp.status} ({imp.added} added, {imp.present} already present, "
                f"{imp.rejected} rejected, {imp.ignored} not kept)."
            )
        db.session.remove()


commands = [measures]
