"""`flask reimbursements import FILE --nir NIR`: one holder's statement (CSV or FHIR), sent by
the operator through the same job as the holder's upload; `--batch`: a CSV statement of many
holders, its `nir` column naming each line's holder (split per holder in flat memory by
imports/batch.py, one job each)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from blueprints.reimbursements.imports import batch as batches, services
from core.access import viewer_for
from core.db import db
from core.identifiers import clean_nir, nir_key
from core.people import Account, Patient

reimbursements = AppGroup("reimbursements", help="Reimbursement statements from the health insurer.")


def _holder(nir: str) -> Account | None:
    """The holder's account for a NIR of 13 characters or 15 (with its key)."""
    nir = clean_nir(nir)
    if len(nir) == 13 and nir.isalnum():
        try:
            nir += f"{nir_key(nir):02d}"
        except ValueError:
            return None
    return db.session.scalar(
        select(Account)
        .join(Patient, Account.patient_id == Patient.id)
        .where(Patient.nir == nir, Account.role == "holder")
    )


def _run(account: Account, name: str, stream) -> str:
    imp = services.launch(services.send(viewer_for(account), name, stream), in_thread=False)
    replaced = (imp.options or {}).get("replaced", 0)
    completed = (imp.options or {}).get("completed", 0)
    summary = f"{imp.added} added, {replaced} corrected, {imp.present} already present, {imp.rejected} rejected"
    if completed:
        summary += f", {completed} completed by a complementary insurer's share"
    return f"{imp.status} ({summary})" + (f": {imp.error}" if imp.error else "")


@reimbursements.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--nir", help="The holder's social security number (13 characters, or 15 with the key).")
@click.option("--batch", is_flag=True, help="A CSV statement of many holders: its nir column names each line's holder.")
def import_statement(file: Path, nir: str | None, batch: bool):
    """Import a statement; re-sending adds nothing, a corrected line replaces its earlier version."""
    if batch == bool(nir):
        raise click.UsageError("Give either --nir for one holder's statement, or --batch.")
    if nir:
        account = _holder(nir)
        if account is None:
            raise click.ClickException("No holder has this social security number.")
        with file.open("rb") as fh:
            click.echo(f"{file.name}: {_run(account, file.name, fh)}")
        return
    unknown = holders = 0
    try:
        with batches.by_holder(file) as (header, groups):
            for person, lines in groups:
                holders += 1
                account = _holder(person)
                if account is None:
                    skipped = batches.count_lines(lines)
                    unknown += skipped
                    click.echo(f"{person[:5]}…: no holder with this number, {skipped} lines not imported.", err=True)
                    continue
                spool, _count = batches.holder_file(header, lines)
                with spool:
                    click.echo(f"{person[:5]}…: {_run(account, file.name, spool)}")
                db.session.remove()
    except batches.NoNirColumn:
        raise click.ClickException("A batch statement needs a 'nir' column naming each line's holder.") from None
    click.echo(f"{holders} holders in the file; {unknown} lines of unknown holders not imported.")
    if unknown:
        raise SystemExit(1)


commands = [reimbursements]
