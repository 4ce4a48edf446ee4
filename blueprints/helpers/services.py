"""Helpers (proches aidants): a holder names up to MAX_HELPERS people who already have a Carnet
account, each for a scope and between two dates; the invited person accepts or declines from
their own space, and only then may they switch to the holder's space (core.access.helper_viewer).

An invitation is recorded whatever the email typed: when it is no Carnet account's, nobody can
ever accept it, and the holder's screen reads the same (no account enumeration). The holder
ends a delegation at any time; the gate reads it on every request, so it stops at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort
from flask_babel import force_locale
from sqlalchemy import func, or_, select

from core import access, audit, clock, notify
from core.access import HELPER_SCOPES, MAX_HELPERS, Viewer
from core.db import db
from core.grants import Delegation
from core.i18n import gettext as _, lazy_gettext as _l
from core.people import Account, Patient, account_by_email, normalise_email

INVITE_DAYS = 14  # an invitation not answered by then lapses
LONGEST_DAYS = 3 * 366  # a delegation is dated: three years at most, renewed by a new one


class TooMany(Exception):
    """The holder already has MAX_HELPERS helpers or invitations running."""


class AlreadyNamed(Exception):
    """A running invitation or delegation already names this email."""


@dataclass
class HelperRow:
    id: str
    name: str  # the helper's name once they accepted; the email typed until then
    email: str
    scopes: list
    include_hidden: bool
    starts_on: date
    ends_on: date
    status: str  # invited | accepted | ended | declined | lapsed | over


def _running(now=None):
    """Invitations not lapsed and delegations accepted and not past their end date: what counts
    against MAX_HELPERS."""
    now = now or clock.utcnow()
    return (
        Delegation.ended_at.is_(None),
        Delegation.ends_on >= clock.paris_today(),
        or_(
            Delegation.status == "accepted",
            (Delegation.status == "invited") & (Delegation.invited_at > now - timedelta(days=INVITE_DAYS)),
        ),
    )


def running_count(patient_id: str) -> int:
    return len(db.session.scalars(select(Delegation.id).where(Delegation.patient_id == patient_id, *_running())).all())


def _status(d: Delegation, today: date, now) -> str:
    if d.status == "invited" and clock.aware(d.invited_at) <= now - timedelta(days=INVITE_DAYS):
        return "lapsed"
    if d.status in ("invited", "accepted") and d.ends_on < today:
        return "over"
    return d.status


def helpers_of(viewer: Viewer) -> list[HelperRow]:
    """The holder's helpers and invitations, running ones first, newest first."""
    rows = db.session.execute(
        access.scope(viewer, select(Delegation, Patient.given_names, Patient.family_name))
        .outerjoin(Patient, (Patient.id == Delegation.helper_patient_id) & Delegation.answered_at.is_not(None))
        .order_by(Delegation.invited_at.desc())
    ).all()
    today, now = clock.paris_today(), clock.utcnow()
    out = [
        HelperRow(
            d.id,
            f"{given} {family}" if given else d.email,
            d.email,
            [s for s in HELPER_SCOPES if s in (d.scopes or ())],
            d.include_hidden,
            d.starts_on,
            d.ends_on,
            _status(d, today, now),
        )
        for d, given, family in rows
    ]
    return sorted(out, key=lambda r: r.status not in ("invited", "accepted"))


def waiting_invitations(patient_id, today, invited_since):
    """How many invitations to help someone wait for this person's answer: a column for the
    home page's one statement (its arguments may be bound parameters)."""
    return (
        select(func.count(Delegation.id))
        .where(
            Delegation.helper_patient_id == patient_id,
            Delegation.status == "invited",
            Delegation.ended_at.is_(None),
            Delegation.ends_on >= today,
            Delegation.invited_at > invited_since,
        )
        .scalar_subquery()
    )


def waiting_params() -> dict:
    return {"today": clock.paris_today(), "invited_since": clock.utcnow() - timedelta(days=INVITE_DAYS)}


def invitations_for(viewer: Viewer) -> list[dict]:
    """Invitations to help someone, waiting for this person's answer."""
    rows = db.session.execute(
        select(Delegation, Patient.given_names, Patient.family_name)
        .join(Patient, Patient.id == Delegation.patient_id)
        .where(Delegation.helper_patient_id == viewer.patient_id, Delegation.status == "invited", *_running())
        .order_by(Delegation.invited_at)
    ).all()
    return [{"delegation": d, "name": f"{given} {family}"} for d, given, family in rows]


def helping(viewer: Viewer) -> list[dict]:
    """The delegations this person accepted and that still run (some may start later)."""
    rows = db.session.execute(
        select(Delegation, Patient.given_names, Patient.family_name)
        .join(Patient, Patient.id == Delegation.patient_id)
        .where(Delegation.helper_patient_id == viewer.patient_id, Delegation.status == "accepted", *_running())
        .order_by(Patient.family_name)
    ).all()
    return [{"delegation": d, "name": f"{given} {family}"} for d, given, family in rows]


def clean_scopes(scopes) -> list[str]:
    return [s for s in HELPER_SCOPES if s in (scopes or ())]


def invite(viewer: Viewer, email: str, scopes, include_hidden: bool, starts_on: date, ends_on: date) -> Delegation:
    """Name a helper by email. The same outcome whether or not the email is a Carnet account's;
    the account's owner (never the holder themself) is told in their space and by mail."""
    email = normalise_email(email)
    if running_count(viewer.patient_id) >= MAX_HELPERS:
        raise TooMany
    same = select(Delegation.id).where(Delegation.patient_id == viewer.patient_id, Delegation.email == email)
    if db.session.scalar(same.where(*_running())) is not None:
        raise AlreadyNamed
    account = account_by_email(email)
    helper_id = None
    if account is not None and account.active and account.patient_id not in (None, viewer.patient_id):
        helper_id = account.patient_id
    d = Delegation(
        patient_id=viewer.patient_id,
        helper_patient_id=helper_id,
        email=email,
        scopes=clean_scopes(scopes),
        include_hidden=bool(include_hidden),
        starts_on=starts_on,
        ends_on=ends_on,
        status="invited",
        invited_at=clock.utcnow(),
    )
    db.session.add(d)
    db.session.flush()
    audit.record(viewer, audit.Action.HELPER_INVITED, d, target_label=email, detail={"scopes": d.scopes})
    if helper_id is not None:
        name = db.session.get(Patient, viewer.patient_id).display_name
        _mail(
            account,
            lambda: _("%(name)s invites you to help them in Carnet", name=name),
            lambda: _(
                "%(name)s would like you to help them with their Carnet space. Log in to Carnet and open "
                "“Helpers” to accept or decline. Nothing starts until you accept.",
                name=name,
            ),
        )
    return d


def _mail(account: Account, subject, body) -> None:
    """A mail in its reader's language (subject and body are called under it)."""
    with force_locale(account.locale or "fr"):
        notify.send_mail(account.email, subject(), body())


def _helper_trace(viewer: Viewer, d: Delegation) -> Viewer:
    """The invited person, as the holder's history names them: a helper, by their own name."""
    return Viewer(
        "helper",
        None,
        d.patient_id,
        account_id=viewer.account_id,
        name=viewer.name,
        acting_patient_id=viewer.patient_id,
    )


def answer(viewer: Viewer, delegation_id: str, accept: bool) -> Delegation:
    """The invited person accepts or declines; someone else's invitation is simply not found."""
    d = db.session.scalar(
        select(Delegation).where(
            Delegation.id == delegation_id,
            Delegation.helper_patient_id == viewer.patient_id,
            Delegation.status == "invited",
            *_running(),
        )
    )
    if d is None:
        abort(404)
    d.status, d.answered_at = ("accepted" if accept else "declined"), clock.utcnow()
    action = audit.Action.HELPER_ACCEPTED if accept else audit.Action.HELPER_DECLINED
    audit.record(_helper_trace(viewer, d), action, d, target_label=viewer.name, patient_id=d.patient_id)
    holder = db.session.scalar(select(Account).where(Account.patient_id == d.patient_id))
    if holder is not None:
        _mail(
            holder,
            lambda: (
                _("%(name)s accepted to help you", name=viewer.name)
                if accept
                else _("%(name)s declined to help you", name=viewer.name)
            ),
            lambda: _("You can see your helpers in Carnet, under Sharing, Helpers."),
        )
    return d


def own(viewer: Viewer, delegation_id: str) -> Delegation:
    """One of the holder's running invitations or delegations, or 404."""
    d = db.session.scalar(access.scope(viewer, select(Delegation)).where(Delegation.id == delegation_id, *_running()))
    if d is None:
        abort(404)
    return d


def change_scope(viewer: Viewer, delegation_id: str, scopes, include_hidden: bool) -> Delegation:
    """New scopes apply from the helper's next request."""
    d = own(viewer, delegation_id)
    d.scopes, d.include_hidden = clean_scopes(scopes), bool(include_hidden)
    audit.record(viewer, audit.Action.HELPER_SCOPE_CHANGED, d, target_label=_label(d), detail={"scopes": d.scopes})
    return d


def end(viewer: Viewer, delegation_id: str) -> Delegation:
    """End now: the helper's next request is in their own space; they are told by mail."""
    d = own(viewer, delegation_id)
    d.status, d.ended_at, d.ended_by = "ended", clock.utcnow(), "holder"
    audit.record(viewer, audit.Action.HELPER_ENDED, d, target_label=_label(d))
    if d.helper_patient_id is not None:
        helper = db.session.scalar(select(Account).where(Account.patient_id == d.helper_patient_id))
        holder = db.session.get(Patient, d.patient_id)
        if helper is not None:
            _mail(
                helper,
                lambda: _("Your help in the Carnet space of %(name)s has ended", name=holder.display_name),
                lambda: _(
                    "%(name)s ended your access to their space. Thank you for your help.", name=holder.display_name
                ),
            )
    return d


def _label(d: Delegation) -> str:
    """How the holder knows a helper in their history: their name once accepted, else the email."""
    if d.answered_at is None or d.helper_patient_id is None:
        return d.email
    p = db.session.get(Patient, d.helper_patient_id)
    return p.display_name if p is not None else d.email


# Where a helper goes in the space they help, by scope: (endpoint, label, icon).
SECTION_LINKS = {
    "documents": ("documents.index", _l("Documents"), "file-text"),
    "measures": ("measures.index", _l("Measures"), "activity"),
    "agenda": ("agenda.index", _l("Agenda"), "calendar"),
    "messages": ("messaging.index", _l("Messages"), "message-square"),
}


def helper_home(viewer: Viewer) -> dict:
    """A helper's home in the space they help: whose it is and what their scope opens."""
    holder = db.session.get(Patient, viewer.patient_id)
    return {
        "name": f"{holder.given_names.split()[0]} {holder.family_name}",
        "links": [link for section, link in SECTION_LINKS.items() if access.can(viewer, HELPER_SECTION[section])],
        "include_hidden": viewer.include_hidden,
    }


HELPER_SECTION = {scope: next(iter(rights)) for scope, rights in access.HELPER_SCOPE_RIGHTS.items()}
