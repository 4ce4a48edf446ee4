"""The professional side: opening a share with its code or link, what a record page shows,
traces and notifications, deposits, emergency access, and the home of a professional with an
account. Every read goes through the gate (the viewer that core.access built); routes stay thin.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from flask_babel import to_user_timezone
from sqlalchemy import bindparam, exists, select

from blueprints.documents import categories, services as documents
from core import access, audit, clock, codes, grants, notify, throttle
from core.access import Viewer
from core.compiled import Fixed
from core.db import db
from core.formatting import clock_time, day
from core.i18n import gettext as _
from core.identifiers import clean_nir
from core.people import Patient, profession_label

# Professions addressed as "Dr" in France.
DOCTORS = ("medecin", "chirurgien-dentiste", "pharmacien", "biologiste")
EMERGENCY_LIMIT = 10  # emergency attempts per professional account per hour


def pro_name(profession: str | None, name: str) -> str:
    """ "Dr Hélène Bernard" for doctors, the plain name for the others."""
    return _("Dr %(name)s", name=name) if profession in DOCTORS else name


# --------------------------------------------------------------------------- codes and links


def open_share(
    ip: str | None,
    *,
    code: str | None,
    token: str | None,
    given_name: str,
    family_name: str,
    profession: str,
    rpps: str,
) -> grants.ShareUse | None:
    """The professional's use of the share the code or link opens, or None: wrong, expired,
    revoked, locked, capped and blocked all end here the same way (the caller answers once)."""
    share = grants.redeem(ip, code=None if token else code, token=token or None)
    blocked = share is not None and access.blocked(share.patient_id, rpps)
    if share is None or blocked:
        _failed(code, token, rpps=rpps, name=f"{given_name} {family_name}".strip(), blocked=blocked)
        # The attempt counters are rows every code attempt updates: released before the page is
        # rendered, so parallel attempts wait for each other's writes only, not their pages.
        db.session.commit()
        return None
    use = grants.ShareUse(
        share_id=share.id,
        patient_id=share.patient_id,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        profession=profession,
        rpps=rpps,
    )
    db.session.add(use)
    db.session.flush()
    return use


def _failed(code: str | None, token: str | None, *, rpps: str, name: str, blocked: bool) -> None:
    """Traced in the space the code was meant for (by its public prefix), never with the code."""
    if token:
        where = grants.Share.link_hash == grants.link_hash(token)
    else:
        where = grants.Share.prefix == codes.normalise(code or "")[: grants.CODE_GROUP]
    patient_id = db.session.scalar(select(grants.Share.patient_id).where(where))
    detail = {"via": "link" if token else "code", "rpps": rpps, "name": name[:200]}
    if blocked:
        detail["blocked"] = True
    audit.record(None, audit.Action.SHARE_CODE_FAILED, patient_id=patient_id, detail=detail)


def share_opened(viewer: Viewer, via: str) -> None:
    """Trace the opening with what it covers, and tell the holder."""
    share = db.session.get(grants.Share, viewer.grant_id)
    scope = share.scope or {}
    detail = {
        "via": via,
        "scope": sorted(k for k in ("documents", "summary", "measures") if scope.get(k)),
        "deposit": bool(share.can_deposit),
    }
    if viewer.categories is not None:
        detail["categories"] = list(viewer.categories)
    event = audit.record(viewer, audit.Action.SHARE_OPENED, share, detail=detail)
    notify.tell_holder(viewer, "access", event)


# --------------------------------------------------------------------------- the record


def header(viewer: Viewer) -> dict:
    """What every record page shows in its banner and tabs."""
    patient = db.session.get(Patient, viewer.patient_id)
    pro = viewer.professional
    return {
        "access_id": viewer.grant_id,
        "how": viewer.grant_kind,
        "with_account": viewer.account_id is not None,
        "patient": patient.display_name,
        "birth_date": patient.birth_date,
        "age": clock.age(patient.birth_date),
        "pro": pro_name(pro.profession, viewer.display_name),
        "profession": profession_label(pro.profession),
        "until": until(viewer.expires_at),
        "left": time_left(viewer.expires_at),
        "documents": access.can(viewer, access.RECORD_DOCUMENTS),
        "summary": access.can(viewer, access.RECORD_SUMMARY),
        "measures": access.can(viewer, access.RECORD_MEASURES),
        "deposit": access.can(viewer, access.RECORD_DOCUMENTS, "deposit"),
        "agenda": access.can(viewer, access.RECORD_AGENDA),
        "categories": [categories.label(c) for c in viewer.categories] if viewer.categories is not None else None,
        "include_hidden": viewer.include_hidden,
    }


def until(expires_at: datetime | None) -> str | None:
    """ "until 6:00 pm today", "until 12 March 2026 at 6:00 pm"; None for a permanent access."""
    if expires_at is None:
        return None
    local = to_user_timezone(clock.aware(expires_at))
    if local.date() == clock.paris_today():
        return _("until %(time)s today", time=clock_time(expires_at))
    return _("until %(date)s at %(time)s", date=day(local), time=clock_time(expires_at))


def time_left(expires_at: datetime | None) -> str | None:
    if expires_at is None:
        return None
    minutes = max(0, int((clock.aware(expires_at) - clock.utcnow()).total_seconds() // 60))
    if minutes < 60:
        return _("%(min)d min left", min=minutes)
    if minutes < 48 * 60:
        return _("%(h)d h %(min)02d left", h=minutes // 60, min=minutes % 60)
    return _("%(days)d days left", days=minutes // (24 * 60))


def overview(viewer: Viewer) -> dict:
    """The first page: the latest documents and, for an emergency, the reason given."""
    data = {"documents": None, "reason": None, "samu": False}
    if access.can(viewer, access.RECORD_DOCUMENTS):
        data["documents"] = documents.listing(viewer, limit=5)
    if viewer.grant_kind == "emergency":
        found = db.session.get(grants.EmergencyAccess, viewer.grant_id)
        data["reason"], data["samu"] = found.reason, found.samu
    return data


def viewed(viewer: Viewer, page: str, target=None, first_in_session: bool = False, **detail):
    """Every page a professional sees is traced. Through a permanent grant, the holder is also
    told the first time the record opens in a session (not on every click)."""
    event = audit.record(viewer, audit.Action.RECORD_VIEWED, target, detail={"page": page, **detail})
    if first_in_session and viewer.grant_kind == "grant":
        notify.tell_holder(viewer, "access", event)
    return event


def deposit(
    viewer: Viewer, uploads: list, *, category: str, act_date: date, title: str | None, note: str | None
) -> list:
    """A professional adds documents to the record: the holder's own checks (type from the bytes,
    size, encryption), authored by the professional, from this share or grant; the holder is told."""
    access.require(viewer, access.RECORD_DOCUMENTS, "deposit")
    docs = documents.add_documents(
        viewer,
        uploads,
        category=category,
        act_date=act_date,
        title=title,
        note=note,
        source="professional",
        action=None,
    )
    for doc in docs:
        event = audit.record(
            viewer, audit.Action.DOCUMENT_DEPOSITED, doc, detail={"category": doc.category, "kind": doc.kind}
        )
    notify.tell_holder(viewer, "deposit", event, {"title": docs[0].title, "count": len(docs)})
    return docs


# --------------------------------------------------------------------------- emergency access


class EmergencyRefused(Exception):
    """Not found, refused by the holder's settings, or blocked: one answer for all three."""


class TooManyAttempts(Exception):
    pass


def emergency(viewer: Viewer, *, nir: str, birth_date: date, reason: str, samu: bool) -> grants.EmergencyAccess:
    """Open a holder's record without consent ("bris de glace"), if the holder allows it."""
    access.require(viewer, "pro", "emergency")
    pro = viewer.professional
    if throttle.hit("emergency", viewer.account.id) > EMERGENCY_LIMIT:
        audit.record(viewer, audit.Action.EMERGENCY_ACCESS_REFUSED, detail={"samu": samu, "limited": True})
        raise TooManyAttempts()
    patient = db.session.scalar(
        select(Patient).where(
            Patient.nir == clean_nir(nir), Patient.birth_date == birth_date, Patient.status != "closed"
        )
    )
    if patient is None or not access.emergency_allowed(patient.id, samu) or access.blocked(patient.id, pro.rpps):
        audit.record(
            viewer,
            audit.Action.EMERGENCY_ACCESS_REFUSED,
            patient_id=patient.id if patient else None,
            detail={"samu": samu},
        )
        raise EmergencyRefused()
    now = clock.utcnow()
    found = grants.EmergencyAccess(
        patient_id=patient.id,
        professional_id=pro.id,
        samu=samu,
        reason=reason.strip(),
        include_hidden=access.emergency_settings(patient.id).allow_hidden,
        created_at=now,
        expires_at=now + timedelta(hours=access.EMERGENCY_HOURS),
    )
    db.session.add(found)
    db.session.flush()
    on_record = access.record_viewer(viewer, found.id)
    event = audit.record(
        on_record,
        audit.Action.EMERGENCY_ACCESS,
        found,
        detail={"reason": found.reason, "samu": samu, "include_hidden": found.include_hidden},
    )
    notify.tell_holder(on_record, "emergency", event, {"reason": found.reason, "samu": samu})
    return found


# --------------------------------------------------------------------------- a professional's home


def home(viewer: Viewer) -> dict:
    """Patients who granted permanent access, and live emergency accesses (blocked ones left out).
    Read through statements built and compiled once (compiled.Fixed; docs/performance.md, 78)."""
    pro = viewer.professional
    granted, emergencies = _home_statements()
    params = {"professional_id": pro.id, "rpps": pro.rpps, "now": clock.utcnow()}
    return {
        "name": pro_name(pro.profession, pro.display_name),
        "rpps": pro.rpps,
        "profession_label": profession_label(pro.profession),
        "specialty": pro.specialty,
        "patients": [_patient_row(r) for r in granted.all(params)],
        "emergencies": [
            {**_patient_row(r), "until": until(r.expires_at), "left": time_left(r.expires_at)}
            for r in emergencies.all(params)
            if access.emergency_allowed(r.patient_id, r.samu)
        ],
    }


_PATIENT_COLUMNS = (
    Patient.id.label("patient_id"),
    Patient.given_names,
    Patient.used_name,
    Patient.family_name,
    Patient.birth_date,
)


@lru_cache(maxsize=1)
def _home_statements() -> tuple[Fixed, Fixed]:
    """The home's two lists; the professional's id and RPPS and the instant are parameters."""
    pro, block, emergency = bindparam("professional_id"), grants.Block, grants.EmergencyAccess
    not_blocked = ~exists().where(block.patient_id == Patient.id, block.rpps == bindparam("rpps"))
    granted = (
        select(grants.Grant.id.label("access_id"), grants.Grant.created_at, *_PATIENT_COLUMNS)
        .join(Patient, Patient.id == grants.Grant.patient_id)
        .where(grants.Grant.professional_id == pro, grants.Grant.ended_at.is_(None), not_blocked)
        .order_by(Patient.family_name, Patient.given_names)
    )
    columns = (emergency.id.label("access_id"), emergency.created_at, emergency.expires_at, emergency.samu)
    emergencies = (
        select(*columns, *_PATIENT_COLUMNS)
        .join(Patient, Patient.id == emergency.patient_id)
        .where(emergency.professional_id == pro, emergency.expires_at > bindparam("now"), not_blocked)
        .order_by(emergency.created_at.desc())
    )
    return Fixed(granted), Fixed(emergencies)


def _patient_row(r) -> dict:
    """A row of either list: the access, its patient, since when it is open."""
    return {
        "access_id": r.access_id,
        "patient_id": r.patient_id,
        "name": f"{r.given_names} {r.used_name or r.family_name}",
        "birth_date": r.birth_date,
        "since": r.created_at,
    }
