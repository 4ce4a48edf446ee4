"""The life of a space after its creation: opposition within 6 weeks, opening by default,
closure (10 years of archive), reopening, deletion; and the timers that move spaces on.

A closed space answers nothing: its accounts are switched off and their sessions ended, every
share, grant and emergency access ends at closure, and the gate (core.access) refuses a closed
space to any professional whatever is left.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import or_, select, update

from blueprints.auth import services as auth
from blueprints.auth.models import ActivationCode
from blueprints.lifecycle import letters
from blueprints.lifecycle.models import Guardianship, Opposition, SpaceLife
from blueprints.lifecycle.provision import OPPOSITION_WEEKS, nir_hash
from blueprints.lifecycle.removal import delete_space
from core import access, audit, clock, codes, formatting, notify, sessions, throttle
from core.db import db
from core.grants import EmergencyAccess, Grant, Share
from core.i18n import gettext as _
from core.identifiers import clean_nir, valid_nir
from core.people import Account, Credential, Patient

ARCHIVE_YEARS = 10
RECEIPT_ALPHABET = codes.ALPHABET


# --------------------------------------------------------------------------- opposition


@dataclass
class Opposed:
    ok: bool
    message: str | None = None
    limited: bool = False
    receipt: str | None = None
    at: datetime | None = None
    files: int = 0


def opposition_deadline(patient: Patient, life: SpaceLife | None) -> datetime:
    if life is not None and life.opposition_until is not None:
        return clock.aware(life.opposition_until)
    return clock.aware(patient.created_at) + timedelta(weeks=OPPOSITION_WEEKS)


def _can_object(patient: Patient | None, now: datetime) -> bool:
    """Only a space never activated, within its 6 weeks, may still be objected to."""
    if patient is None or patient.activated_at is not None or patient.status == "closed":
        return False
    return now <= opposition_deadline(patient, db.session.get(SpaceLife, patient.id))


def oppose_online(nir: str, birth_date: date, code: str, ip: str) -> Opposed:
    """The public page: the letter's code proves the request. Wrong, late, used, unknown: one
    answer for all; attempts counted per connection and against the space's codes, as for
    activation (blueprints/auth/services.activate)."""
    wrong = Opposed(
        False,
        _(
            "These details do not match a space that can still be objected to. Check your letter: "
            "the social security number, the date of birth and the code must be those it gives."
        ),
    )
    if throttle.exceeded("opposition-ip", ip, current_app.config["ACTIVATION_ATTEMPTS_PER_IP_HOUR"]):
        return Opposed(False, _("Too many attempts from this connection. Try again in an hour."), limited=True)
    nir = clean_nir(nir)
    now = clock.utcnow()
    patient = db.session.scalar(select(Patient).where(Patient.nir == nir)) if valid_nir(nir) else None
    candidates = []
    if patient is not None and patient.birth_date == birth_date and _can_object(patient, now):
        candidates = list(
            db.session.scalars(
                select(ActivationCode).where(ActivationCode.patient_id == patient.id, ActivationCode.used_at.is_(None))
            )
        )
    matched = None
    for ac in candidates:
        if codes.matches(code, ac.code_hash, "activation"):
            matched = ac
    max_tries = current_app.config["ACTIVATION_MAX_TRIES"]
    if matched is None or clock.aware(matched.expires_at) < now or matched.attempts >= max_tries:
        throttle.fail("opposition-ip", ip)
        for ac in candidates:
            db.session.execute(
                update(ActivationCode).where(ActivationCode.id == ac.id).values(attempts=ActivationCode.attempts + 1)
            )
        return wrong
    return _record_opposition(patient, channel="online")


def oppose_on_paper(nir: str, birth_date: date) -> Opposed:
    """The operator's command, for a request received by post (identity checked on paper)."""
    nir = clean_nir(nir)
    patient = db.session.scalar(select(Patient).where(Patient.nir == nir)) if valid_nir(nir) else None
    if patient is None or patient.birth_date != birth_date:
        return Opposed(False, "no space with this NIR and birth date")
    if not _can_object(patient, clock.utcnow()):
        return Opposed(False, "this space was activated or its 6 weeks are over: the holder may close it instead")
    return _record_opposition(patient, channel="paper")


def _receipt() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"OPP-{raw[:4]}-{raw[4:]}"


def _record_opposition(patient: Patient, channel: str) -> Opposed:
    """Delete the space and all it holds; keep only the keyed hash of the NIR and a receipt."""
    life = db.session.get(SpaceLife, patient.id)
    email, address = patient.email, life.postal_address if life is not None else None
    name, pid, nir = patient.display_name, patient.id, patient.nir
    if not email:  # a child's letter went to its guardian
        email = _guardian_email(pid)
    receipt, now = _receipt(), clock.utcnow()
    files = delete_space(pid)
    db.session.add(Opposition(nir_hash=nir_hash(nir), receipt=receipt, recorded_at=now))
    audit.record(
        audit.SYSTEM, audit.Action.SPACE_OPPOSED, patient_id=pid, detail={"channel": channel, "receipt": receipt}
    )
    _send_receipt(email, address, name, receipt, now)
    return Opposed(True, receipt=receipt, at=now, files=files)


def _guardian_email(pid: str) -> str | None:
    return db.session.scalar(
        select(Patient.email)
        .join(Guardianship, Guardianship.guardian_patient_id == Patient.id)
        .where(Guardianship.patient_id == pid, Patient.email != "")
        .limit(1)
    )


def receipt_text(name: str, receipt: str, at: datetime) -> str:
    with force_locale("fr"):
        return _(
            "Hello,\n\nYour objection to the Carnet health space of %(name)s was recorded on %(day)s.\n\n"
            "The space and everything it held were deleted; files already added by health "
            "professionals can no longer be read, backups included. Only the fact that this person "
            "objected is kept, so that no space is created again.\n\n"
            "Receipt number: %(receipt)s\n\n"
            "If you change your mind, ask your health insurance fund for a new space.\n",
            name=name,
            day=formatting.day(at),
            receipt=receipt,
        )


def _send_receipt(email: str | None, address: str | None, name: str, receipt: str, at: datetime) -> None:
    text = receipt_text(name, receipt, at)
    if email:
        with force_locale("fr"):
            notify.send_mail(email, _("Your objection to the Carnet space is recorded"), text)
    elif address:
        letters.write_text_pdf(f"{name}\n{address}", text, f"receipt-{receipt}.pdf")


# --------------------------------------------------------------------------- closure


@dataclass
class Consequences:
    """What the closure page says, with the figures of this space."""

    archive_until: date
    shares: int
    grants: int


def consequences(patient_id: str) -> Consequences:
    now = clock.utcnow()
    shares = db.session.scalars(
        select(Share.id).where(Share.patient_id == patient_id, Share.revoked_at.is_(None), Share.expires_at > now)
    ).all()
    grants = db.session.scalars(select(Grant.id).where(Grant.patient_id == patient_id, Grant.ended_at.is_(None))).all()
    until = clock.years_after(clock.paris_today(), ARCHIVE_YEARS)
    return Consequences(until, len(shares), len(grants))


def _life(patient_id: str) -> SpaceLife:
    life = db.session.get(SpaceLife, patient_id)
    if life is None:
        life = SpaceLife(patient_id=patient_id)
        db.session.add(life)
    return life


def close(viewer, delete_now: bool) -> None:
    """Close the holder's space: every access ends now; archived 10 years, or deleted at the next
    run of the timers when asked."""
    pid, now = viewer.patient_id, clock.utcnow()
    patient = db.session.get(Patient, pid)
    patient.status = "closed"
    life = _life(pid)
    life.closed_at = now
    life.delete_after = now if delete_now else clock.years_after(now, ARCHIVE_YEARS)
    life.deletion_requested_at = now if delete_now else None
    end_every_access(pid, now)
    audit.record(viewer, audit.Action.SPACE_CLOSED, detail={"delete_now": delete_now})
    if delete_now:
        audit.record(viewer, audit.Action.SPACE_DELETION_REQUESTED)
    if patient.email:
        with force_locale("fr"):
            notify.send_mail(
                patient.email,
                _("Your Carnet space is closed"),
                _(
                    "Hello,\n\nYour Carnet health space was closed on %(day)s. Nobody can open it any more, "
                    "neither you nor any professional.\n\n%(what)s\n",
                    day=formatting.day(now),
                    what=_("It will be deleted within days, as you asked.")
                    if delete_now
                    else _(
                        "It is kept, closed, until %(until)s, then deleted. Until then you may ask your "
                        "health insurance fund to reopen it: a new activation letter will be sent to you.",
                        until=formatting.day(life.delete_after),
                    ),
                ),
            )


def end_every_access(patient_id: str, now: datetime) -> None:
    """Accounts off and their sessions ended; shares revoked, grants ended, emergency accesses over."""
    for account_id in db.session.scalars(select(Account.id).where(Account.patient_id == patient_id)):
        sessions.end_for_account(account_id, reason="space_closed")
    db.session.execute(update(Account).where(Account.patient_id == patient_id).values(active=False))
    db.session.execute(
        update(Share).where(Share.patient_id == patient_id, Share.revoked_at.is_(None)).values(revoked_at=now)
    )
    db.session.execute(
        update(Grant).where(Grant.patient_id == patient_id, Grant.ended_at.is_(None)).values(ended_at=now)
    )
    db.session.execute(
        update(EmergencyAccess)
        .where(EmergencyAccess.patient_id == patient_id, EmergencyAccess.expires_at > now)
        .values(expires_at=now)
    )


def reopen(nir: str, birth_date: date) -> Patient | None:
    """A closed space still in its archive, reopened at the holder's request: a new activation
    letter proves who they are (the old password and passkeys no longer open it)."""
    nir = clean_nir(nir)
    patient = db.session.scalar(select(Patient).where(Patient.nir == nir, Patient.birth_date == birth_date))
    if patient is None or patient.status != "closed":
        return None
    life = _life(patient.id)
    life.closed_at = life.delete_after = life.deletion_requested_at = None
    patient.status, patient.activated_at = "pending", None
    for account in db.session.scalars(select(Account).where(Account.patient_id == patient.id)):
        account.active, account.password_hash = True, None
        db.session.execute(Credential.__table__.delete().where(Credential.account_id == account.id))
    db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.patient_id == patient.id, ActivationCode.used_at.is_(None))
        .values(used_at=clock.utcnow())
    )
    audit.record(audit.SYSTEM, audit.Action.SPACE_REOPENED, patient_id=patient.id)
    if patient.email:
        auth.issue_activation_code(patient)
    elif life.postal_address:
        code = _postal_code(patient)
        letters.write_pdf(
            [(f"{patient.display_name}\n{life.postal_address}", letters.Letter(patient.display_name, code, _until()))],
            f"reopen-{patient.id}.pdf",
        )
    return patient


def _until() -> datetime:
    return clock.utcnow() + timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])


def _postal_code(patient: Patient) -> str:
    code = codes.activation_code()
    db.session.add(
        ActivationCode(patient_id=patient.id, code_hash=codes.keyed_hash(code, "activation"), expires_at=_until())
    )
    return code


def request_deletion(nir: str, birth_date: date) -> Patient | None:
    """An explicit request to delete a closed space now (by post): done at the next run."""
    patient = db.session.scalar(select(Patient).where(Patient.nir == clean_nir(nir), Patient.birth_date == birth_date))
    if patient is None or patient.status != "closed":
        return None
    life, now = _life(patient.id), clock.utcnow()
    life.deletion_requested_at, life.delete_after = now, now
    audit.record(audit.SYSTEM, audit.Action.SPACE_DELETION_REQUESTED, patient_id=patient.id)
    return patient


# --------------------------------------------------------------------------- the timers


@dataclass
class RunReport:
    opened: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    handed_over: list[str] = field(default_factory=list)
    files: int = 0


def run(dry_run: bool = False, batch: int = 200) -> RunReport:
    """Move spaces on: 6 weeks without objection → open; closed past their date → deleted.
    Idempotent: a second run finds nothing to do. Each space is committed on its own."""
    now, report = clock.utcnow(), RunReport()
    due_open = (
        select(Patient.id)
        .outerjoin(SpaceLife, SpaceLife.patient_id == Patient.id)
        .where(
            Patient.status == "pending",
            Patient.activated_at.is_(None),
            or_(
                SpaceLife.opposition_until < now,
                (SpaceLife.opposition_until.is_(None)) & (Patient.created_at < now - timedelta(weeks=OPPOSITION_WEEKS)),
            ),
        )
    )
    report.opened = list(db.session.scalars(due_open))
    due_delete = (
        select(SpaceLife.patient_id)
        .join(Patient, Patient.id == SpaceLife.patient_id)
        .where(Patient.status == "closed", SpaceLife.delete_after <= now)
    )
    report.deleted = list(db.session.scalars(due_delete))
    adult = access.MAJORITY_YEARS
    due_majority = (
        select(Guardianship.patient_id)
        .join(Patient, Patient.id == Guardianship.patient_id)
        .where(
            Guardianship.ended_at.is_(None),
            Patient.status != "closed",
            Patient.birth_date <= clock.years_after(clock.paris_today(), -adult),
        )
        .distinct()
    )
    report.handed_over = list(db.session.scalars(due_majority))
    if dry_run:
        db.session.rollback()
        return report
    for start in range(0, len(report.opened), batch):
        ids = report.opened[start : start + batch]
        db.session.execute(
            update(Patient).where(Patient.id.in_(ids), Patient.status == "pending").values(status="active")
        )
        for pid in ids:
            audit.record(audit.SYSTEM, audit.Action.SPACE_OPENED_BY_DEFAULT, patient_id=pid)
        db.session.commit()
    for pid in report.deleted:
        report.files += delete_space(pid)
        audit.record(audit.SYSTEM, audit.Action.SPACE_DELETED, patient_id=pid)
        db.session.commit()
    for pid in report.handed_over:
        hand_over(pid, now)
        db.session.commit()
    return report


def hand_over(patient_id: str, now: datetime) -> None:
    """At 18 the space becomes the young adult's: guardians lose access at once (what they did
    stays in the history) and an activation letter goes to the contact known for the space."""
    db.session.execute(
        update(Guardianship)
        .where(Guardianship.patient_id == patient_id, Guardianship.ended_at.is_(None))
        .values(ended_at=now)
    )
    audit.record(audit.SYSTEM, audit.Action.SPACE_HANDED_OVER, patient_id=patient_id)
    patient = db.session.get(Patient, patient_id)
    life = db.session.get(SpaceLife, patient_id)
    if patient.email:
        auth.issue_activation_code(patient)
    elif life is not None and life.postal_address:
        code = _postal_code(patient)
        letters.write_pdf(
            [(f"{patient.display_name}\n{life.postal_address}", letters.Letter(patient.display_name, code, _until()))],
            f"majority-{patient.id}.pdf",
        )
