"""Telling people: mail, and the notifications a holder reads in the app. Every mail goes to
the SMTP server configured (MAIL_SMTP_*, through core.mail's spool: queued, retried, never
lost) and, with MAIL_OUTBOX on (the default), a copy to the outbox, a folder of .eml files in
instance/outbox/ that the demo shows as a page and development reads."""

from __future__ import annotations

import base64
import logging
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from pathlib import Path

from flask import after_this_request, current_app, has_request_context
from flask_babel import force_locale, format_datetime as babel_datetime
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, false, select, text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock, mail
from core.db import Base, db, uuid_pk
from core.i18n import gettext as _
from core.people import Account, profession_label


def outbox_dir() -> Path:
    path = Path(current_app.instance_path) / "outbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def send_mail(to: str, subject: str, body: str) -> Path | None:
    """Send a mail: into the SMTP spool when a server is configured (delivered once this
    request's answer is sent, or at once outside a request; kept and retried if the server is
    down), and into the outbox when it is kept. Returns the outbox file, if any."""
    msg = _message(to, subject, body)
    smtp = mail.settings(current_app.config, current_app.instance_path)
    if smtp is not None:
        name = mail.enqueue(smtp.spool, msg)
        _deliver_soon(smtp, name)
    if not current_app.config.get("MAIL_OUTBOX", True):
        return None
    return _to_outbox(outbox_dir(), msg.as_bytes(policy=policy.SMTP))


def _to_outbox(folder: Path, data: bytes) -> Path:
    """One mail into the outbox, whole or not at all. Named by the real clock, so "newest first"
    holds even when the app's clock is held still."""
    name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.eml"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)
    return folder / name


def _message(to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(clock.utcnow())
    msg["Message-ID"] = make_msgid(domain=_domain(current_app.config["MAIL_FROM"]))
    msg.set_content(body)
    return msg


def _domain(sender: str) -> str:
    return sender.rsplit("@", 1)[-1].strip(" >") or "carnet.localhost"


def _deliver_soon(smtp: mail.Settings, name: str) -> None:
    """In a request: after its answer is sent (the person does not wait on the SMTP server);
    elsewhere (commands): now. A failure leaves the message queued for `flask mail deliver`."""
    if not has_request_context():
        mail.deliver(smtp, only=[name])
        return

    @after_this_request
    def _later(response):
        response.call_on_close(lambda: _deliver_quietly(smtp, name))
        return response


def _deliver_quietly(smtp: mail.Settings, name: str) -> None:
    try:
        mail.deliver(smtp, only=[name])
    except Exception:  # the answer is already sent: the message stays queued, the operator sees it
        logging.getLogger(__name__).exception("mail %s left queued", name)


def tell_of_message(account: Account, sender: str, subject: str) -> None:
    """A new message in Carnet: who wrote and the subject, never the text (mail is not a
    secure channel), in the reader's language."""
    with force_locale(account.locale or "fr"):
        title = _("Carnet: new message from %(name)s", name=sender)
        body = _(
            "%(name)s wrote to you in Carnet's secure messaging: “%(subject)s”. Log in to Carnet to read "
            "it and reply. For your privacy, the message itself is never sent by email.",
            name=sender,
            subject=subject,
        )
    send_mail(account.email, title, body)


def send_mails(mails: list[tuple[str, str, str]]) -> None:
    """Many mails at once (to, subject, body): a plain text MIME message, UTF-8 in base64. The
    headers of a batch are made once and the message written directly: EmailMessage's header
    objects cost ten times more, which a million activation letters feel. With an SMTP server
    configured, the batch goes into its spool in one go (core.mail.enqueue_many), delivered by
    `flask mail deliver` (the operator's timer), never one by one here; with the outbox kept,
    each also goes there as send_mail writes it."""
    smtp = mail.settings(current_app.config, current_app.instance_path)
    outbox = current_app.config.get("MAIL_OUTBOX", True)
    if smtp is None and not outbox:
        return
    sender, date = current_app.config["MAIL_FROM"], format_datetime(clock.utcnow())
    domain = _domain(sender)
    subjects: dict[str, str] = {}
    encoded = []
    for to, subject, body in mails:
        if subject not in subjects:
            subjects[subject] = Header(subject, "utf-8").encode()
        if not (to.isascii() and sender.isascii()):
            msg = MIMEText(body, "plain", "utf-8")
            msg["From"], msg["To"], msg["Date"], msg["Subject"] = sender, to, date, subjects[subject]
            msg["Message-ID"] = make_msgid(domain=domain)
            data = msg.as_bytes()
        else:
            head = (
                'Content-Type: text/plain; charset="utf-8"\nMIME-Version: 1.0\n'
                f"Content-Transfer-Encoding: base64\nFrom: {sender}\nTo: {to}\nDate: {date}\n"
                f"Subject: {subjects[subject]}\nMessage-ID: {make_msgid(domain=domain)}\n\n"
            )
            data = head.encode() + base64.encodebytes(body.encode())
        encoded.append((to, subject, data))
    if smtp is not None:
        mail.enqueue_many(smtp.spool, encoded)
    if outbox:
        folder = outbox_dir()
        for _to, _subject, data in encoded:
            _to_outbox(folder, data)


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
        mails.append(
            Mail(path.name, str(msg["To"]), str(msg["Subject"]), parsedate_to_datetime(msg["Date"]), msg.get_content())
        )
    return mails


def latest_to(address: str) -> Mail | None:
    for found in read_outbox(200):
        if found.to == address:
            return found
    return None


class Notification(Base):
    """Something the holder should know about a professional in their space. One row per
    professional and Paris day, updated as the day goes (visits, documents added), so a
    médecin traitant's six visits of a morning make one card and one mail. An emergency access
    and the first visit of someone new get a row of their own, marked `alarm`.
    "This wasn't expected" flags it and the access it points to."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_patient", "patient_id", "created_at"),
        # the home card and the list, newest activity first; the unread ones (performance.md, 28)
        Index("ix_notifications_patient_latest", "patient_id", text("coalesce(last_at, created_at)"), "created_at"),
        Index(
            "ix_notifications_patient_unread",
            "patient_id",
            "read_at",
            "alarm",
            text("coalesce(last_at, created_at)"),
            "created_at",
        ),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(20))  # access | emergency | deposit | code_locked
    audit_event_id: Mapped[int | None] = mapped_column(Integer)
    grant_id: Mapped[str | None] = mapped_column(String(36))  # share, grant or emergency access id
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_rpps: Mapped[str | None] = mapped_column(String(11))
    actor_profession: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    read_at: Mapped[datetime | None] = mapped_column()
    flagged_at: Mapped[datetime | None] = mapped_column()
    last_at: Mapped[datetime | None] = mapped_column()  # the day's latest activity (None: created_at)
    alarm: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # kept, not shown


class NotificationPreferences(Base):
    """How the holder wants to hear of each kind: in Carnet and by mail, in Carnet only, or
    not at all. Emergency accesses and someone new are always told both ways."""

    __tablename__ = "notification_preferences"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    access: Mapped[str] = mapped_column(String(10), default="mail")
    deposit: Mapped[str] = mapped_column(String(10), default="mail")
    message: Mapped[str] = mapped_column(String(10), default="mail", server_default="mail")
    # Appointment proposals, confirmations, cancellations and reminders: always in Carnet.
    appointment: Mapped[str] = mapped_column(String(10), default="mail", server_default="mail")
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow)


NOTIFY_KINDS = ("access", "emergency", "deposit")
CHOSEN_KINDS = ("access", "deposit", "message", "appointment")  # the kinds the holder chooses for
CHANNELS = ("mail", "app", "none")  # in Carnet and by mail | in Carnet only | not told
# Appointments are always in Carnet (an answer is awaited, a reminder was asked for): mail or not.
ALWAYS_IN_APP = {"appointment": ("mail", "app")}
DEPOSIT_TITLES = 5  # titles kept on a card (the count goes on)


def preferences(patient_id: str) -> dict[str, str]:
    found = db.session.get(NotificationPreferences, patient_id)
    return {
        k: (getattr(found, k) if found is not None and getattr(found, k) in ALWAYS_IN_APP.get(k, CHANNELS) else "mail")
        for k in CHOSEN_KINDS
    }


def save_preferences(patient_id: str, chosen: dict[str, str]) -> NotificationPreferences:
    found = db.session.get(NotificationPreferences, patient_id)
    if found is None:
        found = NotificationPreferences(patient_id=patient_id)
        db.session.add(found)
    for k in CHOSEN_KINDS:
        if chosen.get(k) in ALWAYS_IN_APP.get(k, CHANNELS):
            setattr(found, k, chosen[k])
    found.updated_at = clock.utcnow()
    db.session.flush()
    return found


def identity_of(viewer) -> str:
    """ "verified" through a professional account; "typed" with a code (name and RPPS as given)."""
    return "verified" if viewer.account_id is not None else "typed"


def tell_holder(viewer, kind: str, event=None, detail: dict | None = None) -> Notification:
    """Tell the holder that a professional reached their space. `viewer` is the professional
    on the record; `event` the audit event it left; for a deposit, `detail` names the document
    ("title") and how many were added ("count").

    The day's card of this person (same RPPS, same name, same way in: account or code) is
    updated rather than a new one made; a mail goes with the first visit of the day and with
    each deposit, as the holder chose. An emergency access and the first visit of someone
    who never reached this space before are always told, in Carnet and by mail."""
    assert kind in NOTIFY_KINDS
    detail = dict(detail or {})
    pro = viewer.professional
    rpps, name = getattr(pro, "rpps", None), viewer.display_name or None
    identity = identity_of(viewer)
    now = clock.utcnow()
    same_person = (
        Notification.patient_id == viewer.patient_id,
        Notification.actor_rpps == rpps,
        Notification.actor_name == name,
    )
    seen_before = db.session.scalars(select(Notification.detail).where(*same_person)).all()
    new_person = not any((d or {}).get("identity", identity) == identity for d in seen_before)
    chosen = preferences(viewer.patient_id)

    note = None
    if kind != "emergency" and not new_person:
        start, end = clock.paris_day_bounds(clock.paris(now).date())
        for found in db.session.scalars(
            select(Notification)
            .where(
                *same_person,
                Notification.kind != "emergency",
                Notification.created_at >= start,
                Notification.created_at < end,
            )
            .order_by(Notification.created_at.desc())
        ):
            if (found.detail or {}).get("identity", identity) == identity:
                note = found
                break
    fresh = note is None
    if fresh:
        note = Notification(
            patient_id=viewer.patient_id,
            kind=kind,
            audit_event_id=getattr(event, "id", None),
            grant_id=viewer.grant_id,
            actor_name=name,
            actor_rpps=rpps,
            actor_profession=getattr(pro, "profession", None),
            created_at=now,
            alarm=kind == "emergency" or new_person,
            muted=True,
            detail={
                "identity": identity,
                "first": new_person,
                "visits": 0,
                "deposits": [],
                "deposit_count": 0,
                "grants": [],
            },
        )
        db.session.add(note)
    merged = dict(note.detail or {})
    merged.setdefault("grants", [note.grant_id] if note.grant_id else [])
    if viewer.grant_id and viewer.grant_id not in merged["grants"]:
        merged["grants"] = [*merged["grants"], viewer.grant_id]
    if kind == "deposit":
        merged["deposits"] = (
            [*(merged.get("deposits") or []), detail.get("title")]
            if detail.get("title")
            else list(merged.get("deposits") or [])
        )[:DEPOSIT_TITLES]
        merged["deposit_count"] = int(merged.get("deposit_count") or 0) + int(detail.get("count") or 1)
        if note.kind == "access":
            note.kind = "deposit"  # a card that tells of a new document reads as such
    elif kind == "access":
        merged["visits"] = int(merged.get("visits") or 0) + 1
    else:
        merged.update({k: v for k, v in detail.items() if k in ("reason", "samu")})
    note.detail = merged
    note.last_at = now

    always = note.alarm
    channel = "mail" if always else chosen.get(kind, "mail")
    if channel != "none":
        note.muted = False
        note.read_at = None  # something new on this card
    db.session.flush()
    mail_now = channel == "mail" and (fresh or kind == "deposit")
    if mail_now:
        _mail_holder(viewer, note, kind, detail)
    return note


def _mail_holder(viewer, note: Notification, kind: str, detail: dict) -> None:
    """The mail says who (and whether that name was checked), what happened, and what to do."""
    account = db.session.scalar(select(Account).where(Account.patient_id == viewer.patient_id))
    if account is None:
        return
    with force_locale(account.locale or "fr"):
        who = note.actor_name or _("A professional")
        if note.actor_profession:
            who = _("%(name)s (%(profession)s)", name=who, profession=profession_label(note.actor_profession))
        when = babel_datetime(clock.paris(note.last_at or note.created_at), "d MMMM y, HH:mm")
        if kind == "emergency":
            subject = _("Carnet: emergency access to your space")
            what = _(
                "%(who)s opened your Carnet space in an emergency (%(when)s, Paris time). Reason given: “%(reason)s”.",
                who=who,
                when=when,
                reason=detail.get("reason") or "—",
            )
        elif kind == "deposit":
            title = detail.get("title") or _("a document")
            count = int(detail.get("count") or 1)
            subject = _(
                "Carnet: %(name)s added “%(title)s” to your space",
                name=note.actor_name or _("a professional"),
                title=title,
            )
            what = (
                _(
                    "%(who)s added “%(title)s” to your documents (%(when)s, Paris time).",
                    who=who,
                    title=title,
                    when=when,
                )
                if count == 1
                else _(
                    "%(who)s added %(count)d documents to your space, among them “%(title)s” (%(when)s, Paris time).",
                    who=who,
                    count=count,
                    title=title,
                    when=when,
                )
            )
        elif note.alarm:
            subject = _("Carnet: someone new opened your space")
            what = _("%(who)s opened your Carnet space for the first time (%(when)s, Paris time).", who=who, when=when)
        else:
            subject = _("Carnet: %(name)s opened your space", name=note.actor_name or _("a professional"))
            what = _(
                "%(who)s opened your Carnet space (%(when)s, Paris time). Their other visits today are "
                "gathered on the same card in Carnet, without another mail.",
                who=who,
                when=when,
            )
        checked = (
            _("This name belongs to a verified professional account.")
            if identity_of(viewer) == "verified"
            else _("This name and this RPPS number were typed by the person who used your code: nobody checked them.")
        )
        advice = _(
            "If you did not expect it, log in, open Sharing and press “This wasn't expected”: you can end "
            "the access and block this professional. You choose how you are told under Sharing, "
            "“How to tell me”."
        )
        body = "\n\n".join((what, checked, advice))
    send_mail(account.email, subject, body)


def tell_holder_code_locked(share) -> Notification:
    """Tell the holder, once per share, that someone typed wrong codes for it: the code can no
    longer be typed, its QR code link still works. Never says the code or who tried."""
    note = Notification(
        patient_id=share.patient_id, kind="code_locked", grant_id=share.id, detail={"label": share.label or ""}
    )
    db.session.add(note)
    db.session.flush()
    account = db.session.scalar(select(Account).where(Account.patient_id == share.patient_id))
    if account is not None:
        with force_locale(account.locale or "fr"):
            subject = _("Carnet: wrong codes were typed for one of your shares")
            body = _(
                "Someone typed several wrong codes for one of your shares (%(label)s). For your safety, its "
                "code can no longer be typed; its QR code link still works until the share ends. If you did "
                "not give this code to anyone, log in, open Sharing and end this share.",
                label=share.label or _("no note"),
            )
        send_mail(account.email, subject, body)
    return note
