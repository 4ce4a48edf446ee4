"""Mail that leaves the machine: a spool of messages on disk, delivered over SMTP (smtplib:
STARTTLS, implicit TLS or plain, with credentials), retried with backoff until the server
takes them. Nothing is ever dropped: a message stays in the spool until an SMTP server
accepted it, and the operator lists it (`flask mail queue`) and retries it (`flask mail
deliver`, run by a timer).

Each message is two files in instance/mail/queue/: NAME.eml (what is sent) and NAME.json (to,
subject, attempts, next try, last error), both written atomically (temp, fsync, rename). A
sender claims a message by renaming its .json to .json.sending (atomic: two workers never send
the same message); a claim older than STALE_CLAIM_SECONDS (a worker that died) is taken back.
"""

from __future__ import annotations

import json
import os
import secrets
import smtplib
import ssl
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

BACKOFF_FIRST_SECONDS = 60  # then doubled at each failure
BACKOFF_MAX_SECONDS = 3600
STALE_CLAIM_SECONDS = 600
SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    security: str  # starttls | ssl | none
    username: str
    password: str
    timeout: float
    spool: Path


def settings(config: dict, instance_path: str) -> Settings | None:
    """The SMTP settings (MAIL_SMTP_*), or None when no server is configured (outbox only)."""
    host = str(config.get("MAIL_SMTP_HOST") or "").strip()
    if not host:
        return None
    security = str(config.get("MAIL_SMTP_SECURITY") or "starttls").lower()
    if security not in SECURITY:
        raise ValueError(f"MAIL_SMTP_SECURITY must be one of {', '.join(SECURITY)}")
    return Settings(
        host=host,
        port=int(config.get("MAIL_SMTP_PORT") or 587),
        security=security,
        username=str(config.get("MAIL_SMTP_USERNAME") or ""),
        password=str(config.get("MAIL_SMTP_PASSWORD") or ""),
        timeout=float(config.get("MAIL_SMTP_TIMEOUT") or 10),
        spool=spool_dir(instance_path),
    )


def spool_dir(instance_path: str) -> Path:
    path = Path(instance_path) / "mail" / "queue"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def enqueue(spool: Path, msg: EmailMessage) -> str:
    """Put a message in the spool (durably) and return its name."""
    name = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
    _write(spool / f"{name}.eml", msg.as_bytes(policy=policy.SMTP))
    meta = {"to": str(msg["To"]), "subject": str(msg["Subject"]), "queued_at": time.time(), "attempts": 0}
    meta.update(next_at=0.0, last_error=None)
    _write(spool / f"{name}.json", json.dumps(meta).encode())
    return name


def enqueue_many(spool: Path, messages: list[tuple[str, str, bytes]]) -> list[str]:
    """Many messages at once, (to, subject, the message's bytes) each: a batch of activation
    letters. As durable as `enqueue` for two syncs per batch instead of two per message (tens
    of milliseconds each on a busy disk: days for a million letters): every file is written
    under a temporary name, the file system is synced once, then each is renamed into place,
    its .eml before its .json (a sender only looks for .json), and the folder synced."""
    names, written = [], []
    for to, subject, message in messages:
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
        meta = {"to": to, "subject": subject, "queued_at": time.time(), "attempts": 0}
        meta.update(next_at=0.0, last_error=None)
        for suffix, data in ((".eml", message), (".json", json.dumps(meta).encode())):
            tmp = spool / f".{name}{suffix}.tmp"
            tmp.write_bytes(data)
            written.append((tmp, spool / f"{name}{suffix}"))
        names.append(name)
    if written:
        os.sync()
        for tmp, path in written:
            os.replace(tmp, path)
        folder = os.open(spool, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return names


def send(s: Settings, msg: EmailMessage) -> None:
    """One SMTP session; raises on any refusal or network failure."""
    context = ssl.create_default_context()
    if s.security == "ssl":
        server = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
    else:
        server = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
    with server:
        server.ehlo()
        if s.security == "starttls":
            server.starttls(context=context)
            server.ehlo()
        if s.username:
            server.login(s.username, s.password)
        server.send_message(msg)


@dataclass
class Report:
    sent: int = 0
    failed: int = 0
    waiting: int = 0


def deliver(s: Settings, only: list[str] | None = None, now: float | None = None) -> Report:
    """Send what is due (or the named messages, due or not): sent ones leave the spool, failed
    ones wait for their next try (backoff doubling up to BACKOFF_MAX_SECONDS)."""
    now = time.time() if now is None else now
    report = Report()
    _take_back_stale(s.spool, now)
    names = only if only is not None else sorted(p.stem for p in s.spool.glob("*.json"))
    for name in names:
        meta_path = s.spool / f"{name}.json"
        claimed = s.spool / f"{name}.json.sending"
        try:
            meta = json.loads(meta_path.read_bytes())
        except (FileNotFoundError, ValueError):
            continue
        if only is None and meta.get("next_at", 0) > now:
            report.waiting += 1
            continue
        try:
            os.rename(meta_path, claimed)
        except FileNotFoundError:  # another sender has it
            continue
        eml = s.spool / f"{name}.eml"
        try:
            msg = BytesParser(policy=policy.SMTP).parsebytes(eml.read_bytes())
            send(s, msg)
        except (OSError, smtplib.SMTPException) as exc:
            attempts = int(meta.get("attempts", 0)) + 1
            delay = min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS)
            meta.update(attempts=attempts, next_at=now + delay, last_error=f"{type(exc).__name__}: {exc}"[:300])
            _write(claimed, json.dumps(meta).encode())
            os.replace(claimed, meta_path)
            report.failed += 1
        else:
            eml.unlink(missing_ok=True)
            claimed.unlink(missing_ok=True)
            report.sent += 1
    return report


def _take_back_stale(spool: Path, now: float) -> None:
    for claimed in spool.glob("*.json.sending"):
        try:
            if now - claimed.stat().st_mtime > STALE_CLAIM_SECONDS:
                os.replace(claimed, spool / claimed.name.removesuffix(".sending"))
        except FileNotFoundError:
            continue


@dataclass
class Queued:
    name: str
    to: str
    subject: str
    queued_at: float
    attempts: int
    next_at: float
    last_error: str | None


def queue(spool: Path) -> list[Queued]:
    """What waits in the spool, oldest first (the operator's view)."""
    found = []
    for path in sorted(spool.glob("*.json")):
        try:
            meta = json.loads(path.read_bytes())
        except (FileNotFoundError, ValueError):
            continue
        found.append(
            Queued(
                path.stem,
                meta.get("to", ""),
                meta.get("subject", ""),
                float(meta.get("queued_at", 0)),
                int(meta.get("attempts", 0)),
                float(meta.get("next_at", 0)),
                meta.get("last_error"),
            )
        )
    return found
