"""`flask --app app agenda reminders`: send the appointment reminders that are due."""

import click
from flask.cli import AppGroup

from blueprints.agenda import reminders as reminding

agenda = AppGroup("agenda", help="Appointments and the prevention calendar.")


@agenda.command("reminders")
def reminders():
    """Send due reminders (in Carnet and by mail); safe to run as often as wanted."""
    sent = reminding.send_due()
    click.echo(f"{sent} reminder(s) sent." if sent else "No reminder due.")


commands = [agenda]
