import click
from flask import current_app
from flask.cli import AppGroup

from blueprints.demo import seed as demo_seed

demo = AppGroup("demo", help="The demonstration space.")


@demo.command("seed")
def seed_command():
    """Create the demo space if the database is empty."""
    created = demo_seed.seed()
    click.echo("Demo space created." if created else "Database not empty: nothing seeded.")
    click.echo(
        f"Log in at {current_app.config['WEBAUTHN_ORIGIN']}/connexion as {demo_seed.HOLDER_EMAIL} "
        f"with password {demo_seed.PASSWORD}; the one-time code is in the outbox "
        f"({current_app.config['WEBAUTHN_ORIGIN']}/demo/courriels)."
    )


commands = [demo]
