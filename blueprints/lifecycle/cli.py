"""flask --app app patients provision FILE | letters | guardians add | remove | list;
flask --app app lifecycle run | oppose | reopen | delete."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from blueprints.auth.cli import patients
from blueprints.export import services as exports
from blueprints.lifecycle import guardians as guardianship, postal, provision as provisioning, services
from core import audit, clock
from core.db import db
from core.identifiers import mask_nir

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
        f"Letters: {report.letters_by_mail} by email, {report.letters_by_post} by post"
        f" in {len(report.letter_files)} PDF files."
    )
    if report.guardians_added or report.guardians_removed:
        click.echo(
            f"Guardianships of children already present: {report.guardians_added} added,"
            f" {report.guardians_removed} removed."
        )
    if report.refused_total:
        click.echo(f"Refused lines and their reasons: {report_path}")


@patients.command("letters")
def print_letters():
    """Print the postal activation letters still due (a run of `provision` that stopped left
    them): PDF files of a hundred letters in instance/letters/. Safe to run again."""
    printed, files = postal.print_due(clock.utcnow().strftime("%Y%m%dT%H%M%S"))
    click.echo(f"{printed} postal letters printed in {len(files)} PDF files.")


@patients.group("guardians")
def guardians():
    """The legal guardians of a child's space, on a request received on paper."""


@guardians.command("add")
@click.option("--child", "child_nir", required=True, help="The child's NIR.")
@click.option("--guardian", "guardian_nir", required=True, help="The guardian's NIR (an adult with a space).")
def guardian_add(child_nir: str, guardian_nir: str):
    """Make an adult a legal guardian of a child's space (traced in the child's history, the
    guardian told)."""
    try:
        child, guardian = guardianship.by_nir(child_nir, guardian_nir)
    except guardianship.Refused as exc:
        raise click.ClickException(str(exc))
    done = guardianship.add(child, guardian, "paper")
    db.session.commit()
    click.echo(
        f"{guardian.display_name} {'is now' if done else 'was already'} a legal guardian of {child.display_name}."
    )


@guardians.command("remove")
@click.option("--child", "child_nir", required=True, help="The child's NIR.")
@click.option("--guardian", "guardian_nir", required=True, help="The guardian's NIR.")
def guardian_remove(child_nir: str, guardian_nir: str):
    """End a legal guardianship: the guardian loses access at their next request; what they did
    stays in the child's history."""
    try:
        child, guardian = guardianship.by_nir(child_nir, guardian_nir)
        done = guardianship.remove_on_paper(child, guardian)
    except guardianship.Refused as exc:
        raise click.ClickException(str(exc))
    db.session.commit()
    click.echo(
        f"{guardian.display_name} {'is no longer' if done else 'was not'} a legal guardian of {child.display_name}."
    )


@guardians.command("list")
@click.option("--child", "child_nir", required=True, help="The child's NIR.")
def guardian_list(child_nir: str):
    """The child's legal guardians, current ones first, with their dates."""
    try:
        child, _none = guardianship.by_nir(child_nir)
    except guardianship.Refused as exc:
        raise click.ClickException(str(exc))
    links = guardianship.listed(child.id)
    click.echo(f"Legal guardians of {child.display_name}:" if links else f"{child.display_name} has no legal guardian.")
    for link in links:
        since = link.since.date().isoformat()
        until = f" until {link.ended_at.date().isoformat()}" if link.ended_at else " (current)"
        click.echo(f"  {link.guardian.display_name} ({mask_nir(link.guardian.nir)}), from {since}{until}")


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
        "guardians_added": report.guardians_added,
        "guardians_removed": report.guardians_removed,
    }


commands = [lifecycle]
