"""Public kiosks: registering a device, recognising it on every request, and opening a
holder's space on it from their phone (a one-use approval behind a QR code).

A kiosk is known by a long-lived signed cookie set when its one-time enrolment link is
opened on it; the cookie names the kiosk, the database says whether it is still allowed
(revoking takes effect on the kiosk's next request)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import after_this_request, current_app, g, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import delete, select, update

from blueprints.kiosk.models import Kiosk, KioskHandoff
from blueprints.sharing.services import qr_svg as share_qr
from core import clock, codes, sessions
from core.db import db
from core.people import Account

ENROL_BYTES = 32  # 256 bits
HANDOFF_BYTES = 20  # 160 bits (hex: the QR code stays small)


@dataclass(frozen=True)
class Device:
    """The kiosk this request comes from."""

    id: str
    name: str


# --------------------------------------------------------------------------- operators


def enrol(name: str) -> tuple[Kiosk, str]:
    """A new kiosk and the secret of its one-time enrolment link (shown once, stored hashed)."""
    token = secrets.token_hex(ENROL_BYTES)
    kiosk = Kiosk(
        name=name.strip()[:120],
        enrol_hash=codes.keyed_hash(token, "kiosk-enrol"),
        enrol_expires_at=clock.utcnow() + timedelta(hours=current_app.config["KIOSK_ENROL_HOURS"]),
    )
    db.session.add(kiosk)
    db.session.flush()
    return kiosk, token


def all_kiosks() -> list[Kiosk]:
    return list(db.session.scalars(select(Kiosk).order_by(Kiosk.created_at)))


def revoke(kiosk_id: str) -> Kiosk | None:
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None or kiosk.revoked_at is not None:
        return None
    kiosk.revoked_at = clock.utcnow()
    kiosk.enrol_hash = None
    return kiosk


# --------------------------------------------------------------------------- enrolment


def pending_enrolment(token: str) -> Kiosk | None:
    """The kiosk a still-valid enrolment link registers, or None."""
    if not token or len(token) > 100:
        return None
    kiosk = db.session.scalar(select(Kiosk).where(Kiosk.enrol_hash == codes.keyed_hash(token, "kiosk-enrol")))
    if kiosk is None or kiosk.revoked_at is not None or kiosk.enrol_expires_at <= clock.utcnow():
        return None
    return kiosk


def complete_enrolment(token: str) -> Kiosk | None:
    """Use the link (once: a second device opening it gets nothing)."""
    kiosk = pending_enrolment(token)
    if kiosk is None:
        return None
    done = db.session.execute(
        update(Kiosk)
        .where(Kiosk.id == kiosk.id, Kiosk.enrol_hash.is_not(None))
        .values(enrol_hash=None, enrolled_at=clock.utcnow()),
        execution_options={"synchronize_session": False},
    ).rowcount
    return kiosk if done == 1 else None


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="carnet-kiosk")


def cookie_value(kiosk: Kiosk) -> str:
    return _signer().dumps(kiosk.id)


def device_from_cookie(value: str | None) -> Device | None:
    """The enrolled, unrevoked kiosk a cookie names, or None (forged, revoked, unknown)."""
    if not value or len(value) > 200:
        return None
    try:
        kiosk_id = _signer().loads(value)
    except BadSignature:
        return None
    row = db.session.execute(
        select(Kiosk.id, Kiosk.name).where(
            Kiosk.id == str(kiosk_id), Kiosk.enrolled_at.is_not(None), Kiosk.revoked_at.is_(None)
        )
    ).first()
    return Device(row.id, row.name) if row else None


def current_device() -> Device | None:
    return g.get("kiosk")


def identify_device() -> None:
    """Before every request: is this browser a registered kiosk? (g.kiosk, read by core.web
    and core.sessions). A cookie that no longer opens anything is dropped."""
    cookies, name = request.cookies, current_app.config["KIOSK_COOKIE_NAME"]
    # asked first: werkzeug answers .get() of a missing name by building an HTTP exception
    value = cookies[name] if name in cookies else None
    if not value:  # an ordinary browser: g.get("kiosk") is None
        return
    g.kiosk = device = device_from_cookie(value)
    if device is not None:
        return
    after_this_request(_drop_kiosk_cookie)  # the device is an ordinary browser again
    record = getattr(sessions.current(), "record", None)
    if record is not None and record.kiosk:
        sessions.logout("kiosk_revoked")  # the kiosk was revoked: what was open on it ends now


def _drop_kiosk_cookie(response):
    response.delete_cookie(current_app.config["KIOSK_COOKIE_NAME"], path="/")
    return response


# --------------------------------------------------------------------------- QR hand-off


def new_handoff(device: Device) -> tuple[KioskHandoff, str]:
    token = secrets.token_hex(HANDOFF_BYTES)
    handoff = KioskHandoff(
        kiosk_id=device.id,
        token_hash=codes.keyed_hash(token, "kiosk-handoff"),
        expires_at=clock.utcnow() + timedelta(seconds=current_app.config["KIOSK_HANDOFF_SECONDS"]),
    )
    db.session.add(handoff)
    db.session.flush()
    return handoff, token


def approval_link(token: str) -> str:
    return url_for("kiosk.approve", token=token, _external=True)


def qr_svg(data: str) -> Markup:
    """Drawn as a share's QR code is: inline SVG, paths only, a white quiet zone."""
    return share_qr(data)


@dataclass(frozen=True)
class Approval:
    """What the phone shows before approving: which kiosk, until when."""

    handoff_id: str
    kiosk_name: str
    seconds_left: int


def approval(token: str) -> Approval | None:
    """The live, unapproved hand-off a scanned code names, or None."""
    if not token or len(token) > 100:
        return None
    row = db.session.execute(
        select(KioskHandoff.id, KioskHandoff.expires_at, KioskHandoff.approved_at, Kiosk.name, Kiosk.revoked_at)
        .join(Kiosk, Kiosk.id == KioskHandoff.kiosk_id)
        .where(KioskHandoff.token_hash == codes.keyed_hash(token, "kiosk-handoff"))
    ).first()
    now = clock.utcnow()
    if row is None or row.approved_at is not None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return Approval(row.id, row.name, int((row.expires_at - now).total_seconds()))


def approve(token: str, account_id: str) -> Approval | None:
    """Approve once: the first phone wins, an expired or used code does nothing."""
    found = approval(token)
    if found is None:
        return None
    done = db.session.execute(
        update(KioskHandoff)
        .where(
            KioskHandoff.id == found.handoff_id,
            KioskHandoff.approved_at.is_(None),
            KioskHandoff.expires_at > clock.utcnow(),
        )
        .values(approved_at=clock.utcnow(), account_id=account_id),
        execution_options={"synchronize_session": False},
    ).rowcount
    return found if done == 1 else None


def waiting_state(handoff_id: str | None, device: Device) -> str:
    """ "pending" | "approved" | "expired" for the kiosk that shows this code."""
    if not handoff_id:
        return "expired"
    row = db.session.execute(
        select(KioskHandoff.expires_at, KioskHandoff.approved_at, KioskHandoff.used_at).where(
            KioskHandoff.id == handoff_id, KioskHandoff.kiosk_id == device.id
        )
    ).first()
    if row is None or row.used_at is not None:
        return "expired"
    if row.approved_at is not None:
        return "approved"
    return "expired" if row.expires_at <= clock.utcnow() else "pending"


def claim(handoff_id: str, device: Device) -> Account | None:
    """The account that approved this kiosk's code, once; None if not (or no longer) claimable."""
    window = clock.utcnow() - timedelta(seconds=current_app.config["KIOSK_HANDOFF_SECONDS"])
    done = db.session.execute(
        update(KioskHandoff)
        .where(
            KioskHandoff.id == handoff_id,
            KioskHandoff.kiosk_id == device.id,
            KioskHandoff.approved_at.is_not(None),
            KioskHandoff.approved_at > window,
            KioskHandoff.used_at.is_(None),
        )
        .values(used_at=clock.utcnow()),
        execution_options={"synchronize_session": False},
    ).rowcount
    if done != 1:
        return None
    account_id = db.session.scalar(select(KioskHandoff.account_id).where(KioskHandoff.id == handoff_id))
    account = db.session.get(Account, account_id) if account_id else None
    return account if account is not None and account.active else None


def purge_handoffs() -> int:
    """QR codes older than a day: used, refused or expired long ago; their traces stay."""
    cutoff = clock.utcnow() - timedelta(days=1)
    result = db.session.execute(delete(KioskHandoff).where(KioskHandoff.created_at < cutoff))
    return result.rowcount or 0
