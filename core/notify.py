"""Mail to people. The outbox is a folder of .eml files in instance/outbox/: the demo shows
it as a page, and a real deployment hands the same files to its mail relay."""
from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from flask import current_app

from core import clock


def outbox_dir() -> Path:
    path = Path(current_app.instance_path) / "outbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def send_mail(to: str, subject: str, body: str) -> Path:
    """Write the message atomically (temp → rename) so a reader never sees half a mail."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    now = clock.utcnow()
    msg["Date"] = format_datetime(now)
    msg.set_content(body)
    folder = outbox_dir()
    # Named by the real clock, so "newest first" holds even when the app's clock is held still.
    name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.eml"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(msg.as_bytes(policy=policy.SMTP))
    os.replace(tmp, folder / name)
    return folder / name


@dataclass
class Mail:
    name: str
    to: str
    subject: str
    sent_at: datetime
    body: str


def read_outbox(limit: int = 50) -> list[Mail]:
    """Newest first."""
    mails = []
    for path in sorted(outbox_dir().glob("*.eml"), reverse=True)[:limit]:
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        mails.append(Mail(path.name, str(msg["To"]), str(msg["Subject"]), parsedate_to_datetime(msg["Date"]),
                          msg.get_content()))
    return mails


def latest_to(address: str) -> Mail | None:
    for mail in read_outbox(200):
        if mail.to == address:
            return mail
    return None
