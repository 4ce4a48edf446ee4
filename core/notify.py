"""Telling people: mail, and the notifications a holder reads in the app. The outbox is a
folder of .eml files in instance/outbox/: the demo shows it as a page, and a real deployment
hands the same files to its mail relay."""
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
from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, uuid_pk


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


class Notification(Base):
    """Something the holder should know: a new professional access, an emergency access, a
    deposit. "This wasn't expected" flags it and the trace it points to."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_patient", "patient_id", "created_at"),)

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(20))          # access | emergency | deposit | code_locked
    audit_event_id: Mapped[int | None] = mapped_column(Integer)
    grant_id: Mapped[str | None] = mapped_column(String(36))  # share, grant or emergency access id
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_rpps: Mapped[str | None] = mapped_column(String(11))
    actor_profession: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    read_at: Mapped[datetime | None] = mapped_column()
    flagged_at: Mapped[datetime | None] = mapped_column()


NOTIFY_KINDS = ("access", "emergency", "deposit")


def tell_holder(viewer, kind: str, event=None, detail: dict | None = None) -> Notification:
    """Tell the holder that a professional reached their space: a notification in the app and
    a mail. `viewer` is the professional on the record; `event` the audit event it left."""
    from flask_babel import force_locale, gettext as _
    from sqlalchemy import select

    from core.db import db
    from core.people import Account

    assert kind in NOTIFY_KINDS
    pro = viewer.professional
    note = Notification(patient_id=viewer.patient_id, kind=kind, audit_event_id=getattr(event, "id", None),
                        grant_id=viewer.grant_id, actor_name=viewer.display_name or None,
                        actor_rpps=getattr(pro, "rpps", None), actor_profession=getattr(pro, "profession", None),
                        detail=detail or {})
    db.session.add(note)
    db.session.flush()
    account = db.session.scalar(select(Account).where(Account.patient_id == viewer.patient_id))
    if account is not None:
        with force_locale(account.locale or "fr"):
            subject = {
                "access": _("Carnet: a professional opened your space"),
                "emergency": _("Carnet: emergency access to your space"),
                "deposit": _("Carnet: a professional added a document to your space"),
            }[kind]
            body = _("%(name)s opened your Carnet space. If you did not expect it, log in, open Sharing and "
                     "press “This wasn't expected”: you can end the access and block this professional.",
                     name=note.actor_name or _("A professional"))
        send_mail(account.email, subject, body)
    return note


def tell_holder_code_locked(share) -> Notification:
    """Tell the holder, once per share, that someone typed wrong codes for it: the code can no
    longer be typed, its QR code link still works. Never says the code or who tried."""
    from flask_babel import force_locale, gettext as _
    from sqlalchemy import select

    from core.db import db
    from core.people import Account

    note = Notification(patient_id=share.patient_id, kind="code_locked", grant_id=share.id,
                        detail={"label": share.label or ""})
    db.session.add(note)
    db.session.flush()
    account = db.session.scalar(select(Account).where(Account.patient_id == share.patient_id))
    if account is not None:
        with force_locale(account.locale or "fr"):
            subject = _("Carnet: wrong codes were typed for one of your shares")
            body = _("Someone typed several wrong codes for one of your shares (%(label)s). For your safety, its "
                     "code can no longer be typed; its QR code link still works until the share ends. If you did "
                     "not give this code to anyone, log in, open Sharing and end this share.",
                     label=share.label or _("no note"))
        send_mail(account.email, subject, body)
    return note
