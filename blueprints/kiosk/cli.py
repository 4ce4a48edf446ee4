"""flask --app app kiosks enrol / list / revoke: the public kiosks an operator registers."""

import click
from flask import current_app, url_for
from flask.cli import AppGroup

from blueprints.kiosk import services
from core.db import db

kiosks = AppGroup("kiosks", help="Public kiosks (registered devices).")


@kiosks.command("enrol")
@click.option("--name", required=True, help='Where it stands, e.g. "CPAM Lyon 3e - borne 2".')
@click.option("--base-url", default=None, help="The address people use (default: WEBAUTHN_ORIGIN).")
def enrol(name, base_url):
    """Register a kiosk: prints a one-time link to open on the kiosk itself."""
    if not name.strip():
        raise click.BadParameter("give the kiosk a name", param_hint="--name")
    kiosk, token = services.enrol(name)
    db.session.commit()
    base = (base_url or current_app.config["WEBAUTHN_ORIGIN"]).rstrip("/")
    with current_app.test_request_context(base_url=base):
        link = url_for("kiosk.enrol", token=token, _external=True)
    hours = current_app.config["KIOSK_ENROL_HOURS"]
    click.echo(f"Kiosk {kiosk.id} ({kiosk.name}) created.")
    click.echo(f"Open this link on the kiosk within {hours} hours (it works once):")
    click.echo(link)


@kiosks.command("list")
def list_():
    """Every kiosk, with its state."""
    rows = services.all_kiosks()
    if not rows:
        click.echo("No kiosk registered.")
    for k in rows:
        state = "revoked" if k.revoked_at else "enrolled" if k.enrolled_at else "waiting for its link"
        click.echo(f"{k.id}  {state:<22} {k.name}")


@kiosks.command("revoke")
@click.argument("kiosk_id")
def revoke(kiosk_id):
    """Stop a kiosk: its next request is an ordinary browser's, its link stops working."""
    kiosk = services.revoke(kiosk_id)
    if kiosk is None:
        raise click.ClickException(f"No active kiosk {kiosk_id}.")
    db.session.commit()
    click.echo(f"Kiosk {kiosk.id} ({kiosk.name}) revoked.")


@kiosks.command("purge")
def purge():
    """Remove the QR codes of past days (each served two minutes at most)."""
    removed = services.purge_handoffs()
    db.session.commit()
    click.echo(f"{removed} old kiosk QR codes removed.")


commands = [kiosks]
