"""flask --app app spaces import-export ZIP --nir NIR: an export read back into an empty space."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from blueprints.export import restore

spaces = AppGroup("spaces", help="Whole spaces: reading an export back into an empty space.")


@spaces.command("import-export")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--nir", required=True, help="The NIR of the target space (it must exist and be empty).")
def import_export(archive: Path, nir: str):
    """Recreate documents, measures and the profile of a Carnet export in an empty space."""
    try:
        done = restore.import_zip(archive, nir)
    except restore.Refused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Imported into space {done['patient_id']}: {done['documents']} documents, {done['measures']} measures, "
        f"{done['profile']} profile entries."
    )


commands = [spaces]
