"""`flask reimbursements import FILE --nir NIR`: one holder's statement (CSV or FHIR), sent by
the operator through the same job as the holder's upload; `--batch`: a CSV statement of many
holders, its `nir` column naming each line's holder (split per holder, one job each)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from blueprints.reimbursements.imports import services
from blueprints.reimbursements.imports.statement import OPTIONAL_BATCH, column_key, text_lines
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
    summary = f"{imp.added} added, {replaced} corrected, {imp.present} already present, {imp.rejected} rejected"
    return f"{imp.status} ({summary})" + (f": {imp.error}" if imp.error else "")


def _split(path: Path) -> tuple[list[str], dict[str, list[list[str]]]]:
    """The header and each holder's lines of a batch statement (by NIR, as written)."""
    with path.open("rb") as fh:
        _raw, text = text_lines(iter(lambda: fh.read(1 << 20), b""))
        reader = csv.reader(text, delimiter=";")
        header = next(reader, [])
        keys = [column_key(h) for h in header]
        if OPTIONAL_BATCH not in keys:
            raise click.ClickException("A batch statement needs a 'nir' column naming each line's holder.")
        at = keys.index(OPTIONAL_BATCH)
        groups: dict[str, list[list[str]]] = defaultdict(list)
        for cells in reader:
            if any(c.strip() for c in cells) and len(cells) > at:
                groups[clean_nir(cells[at])].append(cells)
    return header, groups


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
    header, groups = _split(file)
    unknown = 0
    for person, lines in groups.items():
        account = _holder(person)
        if account is None:
            unknown += len(lines)
            click.echo(f"{person[:5]}…: no holder with this number, {len(lines)} lines not imported.", err=True)
            continue
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(lines)
        result = _run(account, file.name, io.BytesIO(out.getvalue().encode()))
        click.echo(f"{person[:5]}…: {result}")
        db.session.remove()
    click.echo(f"{len(groups)} holders in the file; {unknown} lines of unknown holders not imported.")
    if unknown:
        raise SystemExit(1)


commands = [reimbursements]
