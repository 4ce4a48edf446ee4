"""Commands every deployment needs: audit verification, session clean-up, backups, the share
code figures an operator watches."""

import importlib
from datetime import UTC, datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import delete, func, select

from core import audit, backup, clock, grants, mail, sessions, throttle
from core.db import db

audit_cli = AppGroup("audit", help="The access trail.")
backup_cli = AppGroup("backup", help="Online backups of the database and the encrypted files.")
sessions_cli = AppGroup("sessions", help="Server-side sessions.")
shares_cli = AppGroup("shares", help="Share codes and links.")
mail_cli = AppGroup("mail", help="Outgoing mail: the SMTP spool.")


@audit_cli.command("verify")
def verify():
    """Check the keyed chain and the anchored heads; name the first problem."""
    result = audit.verify()
    if result.ok:
        sealed = f", {result.unkeyed} of them from before the audit key" if result.unkeyed else ""
        click.echo(
            f"Audit trail intact: {result.count} events verified{sealed}; {result.anchors} anchored heads reached."
        )
        return
    click.echo(_verify_failure(result, current_app.config["AUDIT_ANCHOR_FILE"]), err=True)
    raise SystemExit(1)


def _verify_failure(r: audit.VerifyResult, anchor_file: str) -> str:
    """One plain sentence per problem, naming the event or the anchor concerned."""
    before = f"{r.count} events before it are intact."
    a = r.anchor
    messages = {
        "link": f"Audit trail BROKEN at event #{r.broken_id} (link): its link to the previous event is wrong: "
        f"an event was deleted or inserted before it. {before}",
        "content": f"Audit trail BROKEN at event #{r.broken_id} (content): it does not match its HMAC: it was "
        f"changed, or re-chained without the audit key (or the audit key is not the one that sealed "
        f"it). {before}",
        "position": f"Audit trail BROKEN at event #{r.broken_id} (position): it says it is event number "
        f"{r.detail.get('seq')} of the chain but comes number {r.count + 1}: traces were deleted "
        f"before it. {before}",
        "unkeyed": f"Audit trail BROKEN at event #{r.broken_id} (unkeyed): it is chained with plain SHA-256 after "
        f"keyed events: the trail was re-chained without the audit key. {before}",
        "anchor": f"Audit trail BROKEN at event #{r.broken_id} (anchor): the anchor of {a and a.at} "
        f"(line {a and a.line} of {anchor_file}) recorded it as event number {a and a.count} with "
        f"another hash: the trail was rewritten. {before}",
        "missing": f"Audit trail BROKEN at event #{r.broken_id} (missing): the anchor of {a and a.at} (line "
        f"{a and a.line} of {anchor_file}) records it as event number {a and a.count}, but the trail no "
        f"longer holds it: traces were deleted and the trail re-chained.",
        "truncated": f"Audit trail TRUNCATED (truncated): the anchor of {a and a.at} (line {a and a.line} of "
        f"{anchor_file}) records {a and a.count} events up to event #{a and a.last_id}, but the "
        f"trail ends after {r.count} events at #{r.last_id}: the newest traces were deleted.",
        "no_anchor": f"Audit trail NOT ANCHORED (no_anchor): {r.count} keyed events but no anchored head in "
        f"{anchor_file}: the anchor file was deleted, or a database was restored without the anchor "
        f"file of its backup.",
        "anchor_line": f"Audit anchor file ALTERED (anchor_line): line {r.detail.get('line')} of {anchor_file} "
        f"does not match its HMAC.",
        "key": f"WRONG AUDIT KEY (key): {anchor_file} was sealed with the key {r.detail.get('key_id')}, the key "
        f"configured is {r.detail.get('expected')}. Set CARNET_AUDIT_KEY (or instance/keys/audit.key) to "
        f"the key that sealed this trail.",
    }
    if r.reason == "anchor" and r.detail.get("conflict"):
        return (
            f"Audit trail BROKEN at event #{r.broken_id} (anchor): lines {r.detail['conflict']} and "
            f"{a.line} of {anchor_file} anchor it with different hashes: the trail was cut back and "
            f"written again."
        )
    return messages.get(r.reason, f"Audit trail BROKEN at event #{r.broken_id} ({r.reason}). {before}")


@sessions_cli.command("purge")
def purge():
    """Delete ended sessions older than a day and old failed-attempt counters."""
    cut = clock.utcnow() - timedelta(days=1)
    n = db.session.execute(delete(sessions.UserSession).where(sessions.UserSession.ended_at < cut)).rowcount
    m = throttle.purge()
    db.session.commit()
    click.echo(f"{n} ended sessions and {m} attempt counters removed.")


@shares_cli.command("attempts")
def share_attempts():
    """Refused share code and link attempts this hour, and shares whose code locked today."""
    refused = grants.refused_this_hour()
    locked = (
        db.session.scalar(
            select(func.count())
            .select_from(grants.Share)
            .where(grants.Share.locked_at > clock.utcnow() - timedelta(hours=24))
        )
        or 0
    )
    click.echo(f"Refused share attempts this hour: {refused} (a warning is logged every {grants.GLOBAL_ALERT}).")
    click.echo(f"Share codes locked after wrong attempts in the last 24 hours: {locked}.")


@backup_cli.command("create")
@click.argument("target", type=click.Path(file_okay=False))
def backup_create(target):
    """Copy the audit anchors, the database and every encrypted file into TARGET (the master key
    and the audit key are not copied)."""
    try:
        manifest = backup.create(
            current_app.config["DATABASE_URL"],
            current_app.instance_path,
            target,
            anchor_file=current_app.config["AUDIT_ANCHOR_FILE"],
        )
    except backup.BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(
        f"Backup written to {target}: audit anchors, database and {manifest['blobs']} encrypted files. "
        "Keep the master key and the audit key apart from it."
    )
    if manifest["missing"]:
        for blob_id in manifest["missing"]:
            click.echo(f"missing: {blob_id}", err=True)
        click.echo(
            f"{len(manifest['missing'])} files the database knows were already missing from the disk: "
            "run flask --app app storage check.",
            err=True,
        )
        raise SystemExit(1)


@backup_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.confirmation_option(prompt="This replaces the database and the files. Continue?")
def backup_restore(source):
    """Replace the database, the encrypted files and the audit anchors with a backup (stop the app first)."""
    try:
        manifest = backup.restore(
            current_app.config["DATABASE_URL"],
            current_app.instance_path,
            source,
            anchor_file=current_app.config["AUDIT_ANCHOR_FILE"],
        )
    except backup.BackupError as exc:
        raise click.ClickException(str(exc))
    anchors = (
        "its audit anchors too"
        if manifest.get("anchor_restored")
        else "it holds no audit anchors (taken before they existed)"
    )
    click.echo(
        f"Restored the backup of {manifest['created_at']}, {anchors}; the replaced anchor file is kept "
        "beside it. Check it: flask --app app audit verify; flask --app app storage check"
    )


def _smtp() -> mail.Settings:
    found = mail.settings(current_app.config, current_app.instance_path)
    if found is None:
        raise click.ClickException("No SMTP server configured (CARNET_MAIL_SMTP_HOST): mail goes to the outbox only.")
    return found


@mail_cli.command("queue")
def mail_queue():
    """Mails waiting for the SMTP server, oldest first, with their attempts and last error."""
    waiting = mail.queue(_smtp().spool)
    if not waiting:
        click.echo("No mail waiting: every mail was accepted by the SMTP server.")
        return
    click.echo(f"{len(waiting)} mail(s) waiting:")
    for q in waiting:
        queued = clock.paris(datetime.fromtimestamp(q.queued_at, UTC)).strftime("%Y-%m-%d %H:%M")
        retry = clock.paris(datetime.fromtimestamp(q.next_at, UTC)).strftime("%H:%M") if q.attempts else "now"
        click.echo(f"  {q.name}  queued {queued}  to {q.to}  attempts {q.attempts}  next try {retry}  {q.subject!r}")
        if q.last_error:
            click.echo(f"      last error: {q.last_error}")


@mail_cli.command("deliver")
@click.option("--all", "everything", is_flag=True, help="Retry every waiting mail now, not only those due.")
def mail_deliver(everything: bool):
    """Send the mails that are due (run by a timer, every minute); failures wait longer each time."""
    s = _smtp()
    names = [q.name for q in mail.queue(s.spool)] if everything else None
    report = mail.deliver(s, only=names)
    click.echo(f"{report.sent} sent, {report.failed} failed (kept for a later try), {report.waiting} not yet due.")
    if report.failed:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(mail_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(sessions_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(shares_cli)
    for name in app.blueprints:
        try:
            module = importlib.import_module(f"blueprints.{name}.cli")
        except ModuleNotFoundError as exc:
            if exc.name != f"blueprints.{name}.cli":
                raise
            continue
        for command in module.commands:
            app.cli.add_command(command)
