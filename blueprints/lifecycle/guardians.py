"""Who manages a child's space after it was made: the insurer's next population file (its
source of truth) and the operator's commands for requests on paper add and remove legal
guardians. Every change is traced in the child's history and told to the guardian; a removed
guardian's switch to the child ends at their next request (core.access.guardian_viewer reads
the live guardianships), and what they did stays in the child's history under their name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import select

from blueprints.lifecycle import letters
from blueprints.lifecycle.models import Guardianship, SpaceLife
from core import access, audit, clock, notify
from core.db import db
from core.i18n import gettext as _
from core.identifiers import clean_nir
from core.people import Account, Patient

SOURCES = ("file", "paper")  # the population file, a request on paper (the operator's command)


class Refused(ValueError):
    """The change asked for cannot be made; the message says why (in English, for the operator)."""


@dataclass
class Link:
    guardian: Patient
    since: datetime
    ended_at: datetime | None


def listed(child_id: str) -> list[Link]:
    """The child's guardians, live ones first, then those whose guardianship ended."""
    rows = db.session.execute(
        select(Guardianship, Patient)
        .join(Patient, Patient.id == Guardianship.guardian_patient_id)
        .where(Guardianship.patient_id == child_id)
        .order_by(Guardianship.ended_at.is_not(None), Guardianship.created_at)
    ).all()
    return [Link(guardian, link.created_at, link.ended_at) for link, guardian in rows]


def add(child: Patient, guardian: Patient, source: str) -> bool:
    """Make `guardian` a live guardian of `child` (an ended guardianship is taken up again);
    False when they already are one."""
    link = db.session.scalar(
        select(Guardianship).where(Guardianship.patient_id == child.id, Guardianship.guardian_patient_id == guardian.id)
    )
    if link is not None and link.ended_at is None:
        return False
    now = clock.utcnow()
    if link is None:
        db.session.add(Guardianship(patient_id=child.id, guardian_patient_id=guardian.id, created_at=now))
    else:
        link.created_at, link.ended_at = now, None
    _trace(child, guardian, source, action=audit.Action.GUARDIAN_ADDED)
    _tell(guardian, child, added=True)
    return True


def remove(child: Patient, guardian: Patient, source: str) -> bool:
    """End `guardian`'s guardianship of `child`; False when there is none to end."""
    link = db.session.scalar(
        select(Guardianship).where(
            Guardianship.patient_id == child.id,
            Guardianship.guardian_patient_id == guardian.id,
            Guardianship.ended_at.is_(None),
        )
    )
    if link is None:
        return False
    link.ended_at = clock.utcnow()
    _trace(child, guardian, source, action=audit.Action.GUARDIAN_REMOVED)
    _tell(guardian, child, added=False)
    return True


def by_nir(child_nir: str, guardian_nir: str | None = None) -> tuple[Patient, Patient | None]:
    """The child's and the guardian's spaces for an operator's command, or Refused."""
    child = _find(child_nir, "child")
    if not _minor(child):
        raise Refused("the child is 18 or older: the space is their own")
    if guardian_nir is None:
        return child, None
    guardian = _find(guardian_nir, "guardian")
    if guardian.id == child.id:
        raise Refused("a child cannot be their own guardian")
    if _minor(guardian) or guardian.status == "closed":
        raise Refused("the guardian must be an adult with an open space")
    return child, guardian


def remove_on_paper(child: Patient, guardian: Patient) -> bool:
    """A request on paper never leaves a child without a guardian: the new one comes first."""
    live = {link.guardian.id for link in listed(child.id) if link.ended_at is None}
    if live == {guardian.id}:
        raise Refused("this is the child's only guardian: add the new guardian first")
    return remove(child, guardian, "paper")


def _find(nir: str, who: str) -> Patient:
    found = db.session.scalar(select(Patient).where(Patient.nir == clean_nir(nir)))
    if found is None:
        raise Refused(f"no space for the {who}'s NIR")
    return found


def _minor(patient: Patient) -> bool:
    return patient.birth_date > clock.years_after(clock.paris_today(), -access.MAJORITY_YEARS)


def _trace(child: Patient, guardian: Patient, source: str, action: audit.Action) -> None:
    assert source in SOURCES
    audit.record(
        audit.SYSTEM,
        action,
        patient_id=child.id,
        target_label=guardian.display_name,
        detail={"guardian": guardian.display_name, "source": source},
    )


def _tell(guardian: Patient, child: Patient, added: bool) -> None:
    """By mail to the guardian's account, or a letter to print when only an address is known."""
    account = db.session.scalar(select(Account).where(Account.patient_id == guardian.id))
    email = (account.email if account is not None else None) or guardian.email
    locale = (account.locale if account is not None else None) or "fr"
    with force_locale(locale):
        name = child.display_name
        subject = (
            _("Carnet: you manage your child's space") if added else _("Carnet: you no longer manage a child's space")
        )
        body = (
            _(
                "Hello,\n\nYou are now recorded as a legal guardian of %(name)s: from your own Carnet "
                "space, the control at the top of each page opens theirs.\n",
                name=name,
            )
            if added
            else _(
                "Hello,\n\nYou are no longer recorded as a legal guardian of %(name)s: their space no "
                "longer opens from yours. What you did in it stays in its history.\n",
                name=name,
            )
        )
    if email:
        notify.send_mail(email, subject, body)
        return
    life = db.session.get(SpaceLife, guardian.id)
    if life is not None and life.postal_address:
        stamp = clock.utcnow().strftime("%Y%m%dT%H%M%S")
        kind = "added" if added else "removed"
        letters.write_text_pdf(
            f"{guardian.display_name}\n{life.postal_address}", body, f"guardian-{kind}-{guardian.id}-{stamp}.pdf"
        )
