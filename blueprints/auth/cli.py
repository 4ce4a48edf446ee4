"""flask --app app patients create ... / pros create ...: spaces and professionals exist
before anyone logs in."""

from datetime import date

import click
from flask.cli import AppGroup

from blueprints.auth import services
from core.db import db
from core.people import PROFESSIONS

patients = AppGroup("patients", help="Holders' spaces.")
pros = AppGroup("pros", help="Health professionals' accounts.")


def _date(ctx, param, value):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD")


@patients.command("create")
@click.option("--nir", required=True, help="15 characters: 13 + 2-digit key.")
@click.option("--email", required=True)
@click.option("--birth-date", required=True, callback=_date, help="YYYY-MM-DD")
@click.option("--given-name", "given_names", required=True, help="First names, space separated.")
@click.option("--family-name", required=True, help="Birth name.")
@click.option("--sex", type=click.Choice(["F", "M"]), default=None)
@click.option("--birth-place", "birth_place_code", default=None, help="INSEE code of the birth place.")
def create_patient(nir, email, birth_date, given_names, family_name, sex, birth_place_code):
    """Pre-create a pending space and post its activation letter to the outbox."""
    try:
        patient, _code = services.create_pending_space(
            nir=nir,
            email=email,
            birth_date=birth_date,
            given_names=given_names,
            family_name=family_name,
            sex=sex,
            birth_place_code=birth_place_code,
        )
    except services.SpaceError as exc:
        raise click.ClickException(str(exc))
    db.session.commit()
    click.echo(f"Pending space {patient.id} created; activation letter sent to {patient.email}.")


@pros.command("create")
@click.option("--rpps", required=True, help="11 digits.")
@click.option("--email", required=True)
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--profession", required=True, type=click.Choice(sorted(PROFESSIONS)))
@click.option("--specialty", default=None)
@click.password_option(help="At least 12 characters (asked when not given).")
def create_pro(rpps, email, given_name, family_name, profession, specialty, password):
    """Create a professional's account."""
    try:
        account = services.create_professional(
            rpps=rpps,
            email=email,
            given_name=given_name,
            family_name=family_name,
            profession=profession,
            specialty=specialty,
            password=password,
        )
    except services.SpaceError as exc:
        raise click.ClickException(str(exc))
    db.session.commit()
    click.echo(f"Professional account {account.id} created for {account.email}.")


commands = [patients, pros]
