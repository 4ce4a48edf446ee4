"""flask --app app patients provision FILE; flask --app app lifecycle run | oppose | reopen | delete."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from blueprints.auth.cli import patients
from blueprints.export import services as exports
from blueprints.lifecycle import provision as provisioning, services
from core import audit
from core.db import db

lifecycle = AppGroup("lifecycle", help="Opposition, closure and deletion of spaces.")


@patients.command("provision")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the refused lines (default: FILE.refused.csv).",
)
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000))
def provision(file: Path, report_path: Path | None, batch_size: int):
    """Create a pending space for every person of the insurer's population file (CSV with the
    columns nir, birth_date, given_names, family_name, email, postal_address, guardian_nirs)
    and send each its activation letter. Running it again creates nothing twice."""
    report_path = report_path or file.with_name(file.name + ".refused.csv")
    with (
        file.open(newline="", encoding="utf-8-sig") as stream,
        report_path.open("w", newline="", encoding="utf-8") as out,
    ):
        try:
            report = provisioning.Provisioner(out, batch_size=batch_size).run(stream)
        except provisioning.FileProblem as exc:
            raise click.ClickException(f"{file}: {exc}")
    audit.record(audit.SYSTEM, audit.Action.SPACES_PROVISIONED, detail=_figures(report))
    db.session.commit()
    click.echo(
        f"{report.lines} lines read: {report.created} spaces created, {report.present} already present, "
        f"{report.refused_total} refused."
    )
    for reason, n in sorted(report.refused.items()):
        click.echo(f"  refused ({reason}): {n}")
    click.echo(
        f"Letters: {report.letters_by_mail} by email, {report.created - report.letters_by_mail} by post"
        f" in {len(report.letter_files)} PDF files."
    )
    if report.refused_total:
        click.echo(f"Refused lines and their reasons: {report_path}")


def _date(ctx, param, value):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD")


@lifecycle.command("run")
@click.option("--dry-run", is_flag=True, help="Say what is due without changing anything.")
def run(dry_run: bool):
    """Run the timers: spaces without objection after 6 weeks open; closed spaces past their
    archive date, or whose deletion was asked for, are deleted; exports past their 7 days are
    shredded. Safe to run again."""
    report = services.run(dry_run=dry_run)
    expired = exports.remove_expired(dry_run=dry_run)
    verb = "would be" if dry_run else "were"
    click.echo(f"{len(report.opened)} spaces {verb} opened after 6 weeks without objection.")
    click.echo(f"{len(report.handed_over)} spaces of young people turning 18 {verb} handed over to them.")
    click.echo(
        f"{len(report.deleted)} closed spaces {verb} deleted"
        + ("." if dry_run else f" ({report.files} files shredded).")
    )
    click.echo(f"{expired} expired exports {verb} shredded.")


@lifecycle.command("oppose")
@click.option("--nir", required=True)
@click.option("--birth-date", required=True, callback=_date, help="YYYY-MM-DD")
def oppose(nir: str, birth_date: date):
    """Record an objection received on paper: the space and all it holds are deleted."""
    done = services.oppose_on_paper(nir, birth_date)
    if not done.ok:
        raise click.ClickException(done.message)
    db.session.commit()
    click.echo(f"Objection recorded, space deleted ({done.files} files shredded). Receipt {done.receipt} sent.")


@lifecycle.command("reopen")
@click.option("--nir", required=True)
@click.option("--birth-date", required=True, callback=_date, help="YYYY-MM-DD")
def reopen(nir: str, birth_date: date):
    """Reopen a closed space still in its archive: a new activation letter is sent."""
    patient = services.reopen(nir, birth_date)
    if patient is None:
        raise click.ClickException("no closed space with this NIR and birth date")
    db.session.commit()
    click.echo(f"Space {patient.id} reopened: a new activation letter was sent.")


@lifecycle.command("delete")
@click.option("--nir", required=True)
@click.option("--birth-date", required=True, callback=_date, help="YYYY-MM-DD")
def delete(nir: str, birth_date: date):
    """Record a request to delete a closed space now: done at the next `lifecycle run`."""
    patient = services.request_deletion(nir, birth_date)
    if patient is None:
        raise click.ClickException("no closed space with this NIR and birth date")
    db.session.commit()
    click.echo(f"Deletion of space {patient.id} recorded: it is done at the next run of flask lifecycle run.")


def _figures(report: provisioning.Report) -> dict:
    return {
        "lines": report.lines,
        "created": report.created,
        "present": report.present,
        "refused": report.refused_total,
    }


commands = [lifecycle]
