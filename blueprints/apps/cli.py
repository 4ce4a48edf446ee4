"""`flask apps register`: the operator references an app (a public client unless
--confidential, whose secret is printed once)."""

import click
from flask.cli import AppGroup

from blueprints.apps import purposes, services
from core import clock
from core.db import db

apps = AppGroup("apps", help="Connected apps (SMART on FHIR).")


@apps.command("register")
@click.option("--name", required=True)
@click.option("--publisher", required=True)
@click.option("--description", default="")
@click.option("--purpose", "purpose_keys", multiple=True, required=True, type=click.Choice(sorted(purposes.PURPOSES)))
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True, help="Matched exactly.")
@click.option("--referenced-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--contact", default=None)
@click.option("--logo", default=None, help="A file under static/, e.g. apps/balance.svg.")
@click.option("--client-id", default=None)
@click.option("--confidential", is_flag=True, help="The app keeps a secret on a server.")
def register(
    name, publisher, description, purpose_keys, redirect_uris, referenced_on, contact, logo, client_id, confidential
):
    """Reference an app in the catalogue."""
    app, secret = services.register(
        name=name,
        publisher=publisher,
        description=description,
        purpose_keys=list(purpose_keys),
        redirect_uris=list(redirect_uris),
        referenced_on=referenced_on.date() if referenced_on else clock.paris_today(),
        contact=contact,
        logo=logo,
        confidential=confidential,
        client_id=client_id,
    )
    db.session.commit()
    click.echo(f"client_id: {app.client_id}")
    if secret:
        click.echo(f"client_secret (shown once): {secret}")


commands = [apps]
