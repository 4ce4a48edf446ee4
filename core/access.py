"""The access gate. Every route names what it needs; every query on patient data goes
through scope(). Deny by default: a section or action not listed for a viewer is refused.

Today only the holder reaches patient data; professionals, apps, emergency and kiosk viewers
plug in here as their features arrive, and inherit scope()'s filters (hidden documents...).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort
from sqlalchemy import Select

# What each kind of viewer may do, per section. Absent means refused.
HOLDER_RIGHTS = {
    "dashboard": {"read"},
    "account": {"read", "write"},
    "documents": {"read", "write", "delete", "share"},
    "history": {"read"},
    "profile": {"read", "write"},
    "measures": {"read", "write", "delete"},
}
PROFESSIONAL_RIGHTS = {
    "account": {"read", "write"},
    "pro": {"read"},
}


@dataclass
class Viewer:
    """Who is asking, decided once per request by core.web."""

    kind: str = "anonymous"  # anonymous | holder | professional
    account: object | None = None
    patient_id: str | None = None
    professional: object | None = None
    session_id: str | None = None
    grant_id: str | None = None
    kiosk: bool = False
    rights: dict = field(default_factory=dict)

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def is_holder(self) -> bool:
        return self.kind == "holder"

    @property
    def role(self) -> str | None:
        return None if self.kind == "anonymous" else self.kind

    @property
    def display_name(self) -> str:
        return getattr(self.account, "display_name", "") if self.account else ""

    def audit_identity(self) -> dict:
        ident = {"actor_type": self.kind, "account_id": getattr(self.account, "id", None),
                 "actor_name": self.display_name or None, "grant_id": self.grant_id}
        if self.kind == "holder":
            ident["actor_id"] = self.patient_id
            ident["patient_id"] = self.patient_id
        elif self.professional is not None:
            ident["actor_id"] = self.professional.id
            ident["actor_profession"] = self.professional.profession
        return ident


def viewer_for(account, session_id: str | None = None, kiosk: bool = False) -> Viewer:
    if account is None:
        return Viewer(kiosk=kiosk)
    if account.role == "holder" and account.patient_id:
        return Viewer("holder", account, account.patient_id, session_id=session_id, kiosk=kiosk,
                      rights=HOLDER_RIGHTS)
    if account.role == "professional" and account.professional is not None:
        return Viewer("professional", account, professional=account.professional, session_id=session_id,
                      kiosk=kiosk, rights=PROFESSIONAL_RIGHTS)
    return Viewer(kiosk=kiosk)


def can(viewer: Viewer, section: str, action: str = "read") -> bool:
    return action in viewer.rights.get(section, ())


def require(viewer: Viewer, section: str, action: str = "read") -> None:
    """Refuse unless the viewer may do `action` on `section`. Anonymous → login, others → 403."""
    if can(viewer, section, action):
        return
    if not viewer.is_authenticated:
        abort(401)
    from core import audit

    audit.record(viewer, "access_denied", detail={"section": section, "action": action})
    abort(403)


def scope(viewer: Viewer, stmt: Select, model) -> Select:
    """Limit a query on a patient-data table to what this viewer may see.

    Holders see their own space, hidden documents included. Any other viewer sees only
    records not hidden from professionals (models that have a `hidden` column).
    """
    if viewer.patient_id is None:
        return stmt.where(False)
    stmt = stmt.where(model.patient_id == viewer.patient_id)
    if viewer.kind != "holder" and hasattr(model, "hidden"):
        stmt = stmt.where(model.hidden.is_(False))
    return stmt


def get_or_404(viewer: Viewer, model, record_id: str):
    """Object-level check: another space's record is simply not found."""
    from sqlalchemy import select

    from core.db import db

    obj = db.session.scalar(scope(viewer, select(model).where(model.id == record_id), model))
    if obj is None:
        abort(404)
    return obj
