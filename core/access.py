"""The access gate. Every route names what it needs, on the route: `@web.gate(section, action)`
(core/web.py), which calls require(); every query on patient data goes through scope(). Deny
by default: a section or action not listed for a viewer is refused.

Viewers: the holder; a professional with an account (their own pages only); and a
professional acting on one record, through a share code, a permanent grant or an emergency
access ("bris de glace"). A record viewer's rights are the `record.*` sections, never the
holder's own sections, so no holder page (account, history, reimbursements, messages...)
opens for a professional. Shares, grants, blocks and emergency settings are read on every
request: revoking, expiring or blocking takes effect on the professional's next click.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort
from sqlalchemy import Select, Update, or_, select

from core import audit, clock
from core.db import db
from core.grants import Block, EmergencyAccess, EmergencySettings, Grant, Guardianship, Share, ShareUse
from core.people import Account, Patient
from core.sessions import SessionUser

# What each kind of viewer may do, per section. Absent means refused.
HOLDER_RIGHTS = {
    "dashboard": {"read"},
    "account": {"read", "write"},
    "documents": {"read", "write", "delete", "share"},
    "history": {"read"},
    "profile": {"read", "write"},
    "measures": {"read", "write", "delete"},
    "sharing": {"read", "write"},
    "lifecycle": {"close"},  # the life of the space: closing it (blueprints/lifecycle)
}
# A legal guardian acting in a child's space does all the holder does, except close it.
GUARDIAN_RIGHTS = {section: actions for section, actions in HOLDER_RIGHTS.items() if section != "lifecycle"}
MAJORITY_YEARS = 18
PROFESSIONAL_RIGHTS = {
    "account": {"read", "write"},
    "pro": {"read", "emergency"},
}
# What a professional may do in one holder's record; which of these a share gives is its scope.
RECORD_DOCUMENTS, RECORD_SUMMARY, RECORD_MEASURES = "record.documents", "record.summary", "record.measures"
EMERGENCY_HOURS = 12


@dataclass
class Viewer:
    """Who is asking, decided once per request by core.web."""

    kind: str = "anonymous"  # anonymous | holder | guardian | professional
    _account: object | None = None  # the Account; see `account`
    patient_id: str | None = None
    professional: object | None = None
    session_id: str | None = None
    grant_id: str | None = None
    kiosk: bool = False
    rights: dict = field(default_factory=dict)
    grant_kind: str | None = None  # share | grant | emergency: how a professional got here
    categories: tuple | None = None  # document categories visible; None: all of them
    include_hidden: bool = False  # emergency access to hidden documents, if the holder allows it
    expires_at: object | None = None  # when this access ends (share, emergency)
    account_id: str | None = None
    name: str | None = None  # known without loading the account (a holder's)
    acting_patient_id: str | None = None  # a guardian's own space, while acting in a child's

    def __post_init__(self):
        if self.account_id is None and self._account is not None:
            self.account_id = self._account.id

    @property
    def account(self):
        """The Account object, loaded on first use: most pages need only who is asking."""
        if self._account is None and self.account_id is not None:
            self._account = db.session.get(Account, self.account_id)
        return self._account

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def is_holder(self) -> bool:
        """The holder's side of a space: the holder, or a guardian acting in a child's space."""
        return self.kind in ("holder", "guardian")

    @property
    def role(self) -> str | None:
        return None if self.kind == "anonymous" else self.kind

    @property
    def display_name(self) -> str:
        if self.name is not None:
            return self.name
        if self.account is not None:
            return getattr(self.account, "display_name", "")
        return getattr(self.professional, "display_name", "") if self.professional is not None else ""

    @property
    def on_record(self) -> bool:
        """A professional acting on one holder's record (share, grant or emergency)."""
        return self.kind == "professional" and self.patient_id is not None

    def audit_identity(self) -> dict:
        ident = {
            "actor_type": self.kind,
            "account_id": self.account_id,
            "actor_name": self.display_name or None,
            "grant_id": self.grant_id,
        }
        if self.kind == "holder":
            ident["actor_id"] = self.patient_id
            ident["patient_id"] = self.patient_id
        elif self.kind == "guardian":  # traced in the child's space as the guardian's own acts
            ident["actor_id"] = self.acting_patient_id
            ident["patient_id"] = self.patient_id
        elif self.professional is not None:
            ident["actor_id"] = self.professional.id
            ident["actor_profession"] = self.professional.profession
            ident["actor_name"] = self.display_name or None
            if self.patient_id:
                ident["patient_id"] = self.patient_id
        return ident


def viewer_for(user, session_id: str | None = None, kiosk: bool = False) -> Viewer:
    """The viewer of a logged-in user: Flask-Login's SessionUser (a holder's viewer is built
    from its columns, nothing loaded), or an Account."""
    if user is None:
        return Viewer(kiosk=kiosk)
    if user.role == "holder" and user.patient_id:
        if isinstance(user, SessionUser):
            return holder_viewer(user.id, user.patient_id, user.name or "", session_id=session_id, kiosk=kiosk)
        return Viewer("holder", user, user.patient_id, session_id=session_id, kiosk=kiosk, rights=HOLDER_RIGHTS)
    account = user.account if isinstance(user, SessionUser) else user
    if account is not None and account.role == "professional" and account.professional is not None:
        return Viewer(
            "professional",
            account,
            professional=account.professional,
            session_id=session_id,
            kiosk=kiosk,
            rights=PROFESSIONAL_RIGHTS,
        )
    return Viewer(kiosk=kiosk)


def holder_viewer(
    account_id: str, patient_id: str, name: str, session_id: str | None = None, kiosk: bool = False
) -> Viewer:
    """The holder, from the session's plain columns (the account object is loaded if a page
    asks for it)."""
    return Viewer(
        "holder",
        None,
        patient_id,
        session_id=session_id,
        kiosk=kiosk,
        rights=HOLDER_RIGHTS,
        account_id=account_id,
        name=name,
    )


def can(viewer: Viewer, section: str, action: str = "read") -> bool:
    return action in viewer.rights.get(section, ())


def require(viewer: Viewer, section: str, action: str = "read") -> None:
    """Refuse unless the viewer may do `action` on `section`. Anonymous → login, others → 403."""
    if can(viewer, section, action):
        return
    if not viewer.is_authenticated:
        abort(401)
    audit.record(viewer, audit.Action.ACCESS_DENIED, detail={"section": section, "action": action})
    abort(403)


def scope(viewer: Viewer, stmt: Select | Update) -> Select | Update:
    """Limit a query on a patient-data table to what this viewer may see.

    Holders see their own space, hidden documents included. Any other viewer sees only
    records not hidden from professionals (tables that have a `hidden` column), except the
    documents they deposited themselves: a hidden document stays visible to its author. The
    author is recognised by RPPS only when it comes with a professional account (an RPPS
    typed with a share code is not proof of who is typing). The table is the statement's
    own (see _patient_table): nothing to name twice, nothing to get wrong.
    """
    c = _patient_table(stmt).c
    if viewer.patient_id is None:
        return stmt.where(False)
    stmt = stmt.where(c.patient_id == viewer.patient_id)
    if not viewer.is_holder and "hidden" in c and not viewer.include_hidden:
        visible = c.hidden.is_(False)
        rpps = getattr(viewer.professional, "rpps", None) if viewer.account_id is not None else None
        if rpps and "author_rpps" in c:
            visible = or_(visible, c.author_rpps == rpps)
        stmt = stmt.where(visible)
    if not viewer.is_holder and viewer.categories is not None and "category" in c:
        stmt = stmt.where(c.category.in_(viewer.categories))
    return stmt


def _patient_table(stmt: Select | Update):
    """What a statement reads or changes: the table of its first column (select(Document.id, ...),
    select(func.count(Allergy.id))), else its one FROM (select_from), or the table it updates."""
    if isinstance(stmt, Select):
        froms = stmt.columns_clause_froms or stmt.get_final_froms()
    else:
        froms = [stmt.table]
    if not froms or "patient_id" not in froms[0].c:
        raise TypeError(f"scope() needs a statement on a patient-data table: {stmt}")
    return froms[0]


def get_or_404(viewer: Viewer, model, record_id: str):
    """Object-level check: another space's record is simply not found."""
    obj = db.session.scalar(scope(viewer, select(model).where(model.id == record_id)))
    if obj is None:
        abort(404)
    return obj


# --------------------------------------------------------------------------- guardians in a child's space
# A holder who is a legal guardian switches to a child's space from the header; the choice is
# kept in the session and checked on every request: the guardianship must be live, the child
# under 18 and the space open, or the holder is back in their own space.


def wards(guardian_patient_id: str) -> list[tuple[str, str, str]]:
    """(id, given names, family name) of the open spaces this holder manages as a guardian."""
    rows = db.session.execute(
        select(Patient.id, Patient.given_names, Patient.family_name)
        .join(Guardianship, Guardianship.patient_id == Patient.id)
        .where(
            Guardianship.guardian_patient_id == guardian_patient_id,
            Guardianship.ended_at.is_(None),
            Patient.status != "closed",
            Patient.birth_date > years_ago(clock.paris_today(), MAJORITY_YEARS),
        )
        .order_by(Patient.birth_date, Patient.given_names)
    )
    return [(r.id, r.given_names, r.family_name) for r in rows]


def years_ago(day, years: int):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def guardian_viewer(holder: Viewer, patient_id: str) -> Viewer | None:
    """The holder acting in the space of a child they are the live guardian of, or None."""
    if holder.kind != "holder" or patient_id == holder.patient_id:
        return None
    if patient_id not in {ward_id for ward_id, _given, _family in wards(holder.patient_id)}:
        return None
    return Viewer(
        "guardian",
        None,
        patient_id,
        session_id=holder.session_id,
        kiosk=holder.kiosk,
        rights=GUARDIAN_RIGHTS,
        account_id=holder.account_id,
        name=holder.name,
        acting_patient_id=holder.patient_id,
    )


# --------------------------------------------------------------------------- professionals on a record


def record_rights(scope: dict, can_deposit: bool) -> dict:
    """The `record.*` sections a share's scope opens (read-only unless deposits are allowed)."""
    rights = {"pro": {"read"}}
    documents = {"read"} if scope.get("documents") else set()
    if can_deposit:
        documents.add("deposit")
    if documents:
        rights[RECORD_DOCUMENTS] = documents
    if scope.get("summary"):
        rights[RECORD_SUMMARY] = {"read"}
    if scope.get("measures"):
        rights[RECORD_MEASURES] = {"read"}
    return rights


FULL_RECORD = {"documents": "all", "summary": True, "measures": True}


def blocked(patient_id: str, rpps: str | None) -> bool:
    if not rpps:
        return False
    return db.session.scalar(select(Block.id).where(Block.patient_id == patient_id, Block.rpps == rpps)) is not None


def share_viewer(use_id: str, session_id: str | None = None, kiosk: bool = False) -> Viewer:
    """A professional who typed a code (no account): the share's scope, until it expires, is
    revoked, or the holder blocks them. Otherwise an anonymous viewer. A share whose code was
    locked by someone else's wrong attempts stays open to whoever already opened it."""
    use = db.session.get(ShareUse, use_id)
    share = db.session.get(Share, use.share_id) if use is not None else None
    if (
        share is None
        or not share.live(clock.utcnow())
        or blocked(share.patient_id, use.rpps)
        or not space_open(share.patient_id)
    ):
        return Viewer(kiosk=kiosk)
    scope = share.scope or {}
    categories = tuple(scope.get("categories") or ()) if scope.get("documents") == "categories" else None
    return Viewer(
        "professional",
        None,
        share.patient_id,
        professional=use,
        session_id=session_id,
        grant_id=share.id,
        kiosk=kiosk,
        rights=record_rights(scope, share.can_deposit),
        grant_kind="share",
        categories=categories,
        expires_at=share.expires_at,
    )


def record_viewer(viewer: Viewer, access_id: str) -> Viewer:
    """The viewer acting on the record that `access_id` opens (a share, a grant, an emergency
    access), or 404: the same answer for what does not exist and what is not theirs."""
    if viewer.grant_kind == "share":
        if viewer.grant_id != access_id:
            abort(404)
        return viewer
    pro = viewer.professional if viewer.kind == "professional" and viewer.account is not None else None
    if pro is None:
        abort(404 if viewer.is_authenticated else 401)
    now = clock.utcnow()
    grant = db.session.scalar(
        select(Grant).where(Grant.id == access_id, Grant.professional_id == pro.id, Grant.ended_at.is_(None))
    )
    if grant is not None and not blocked(grant.patient_id, pro.rpps) and space_open(grant.patient_id):
        return Viewer(
            "professional",
            viewer.account,
            grant.patient_id,
            professional=pro,
            session_id=viewer.session_id,
            grant_id=grant.id,
            kiosk=viewer.kiosk,
            rights=record_rights(FULL_RECORD, True),
            grant_kind="grant",
        )
    emergency = db.session.scalar(
        select(EmergencyAccess).where(
            EmergencyAccess.id == access_id, EmergencyAccess.professional_id == pro.id, EmergencyAccess.expires_at > now
        )
    )
    if (
        emergency is not None
        and not blocked(emergency.patient_id, pro.rpps)
        and emergency_allowed(emergency.patient_id, emergency.samu)
        and space_open(emergency.patient_id)
    ):
        return Viewer(
            "professional",
            viewer.account,
            emergency.patient_id,
            professional=pro,
            session_id=viewer.session_id,
            grant_id=emergency.id,
            kiosk=viewer.kiosk,
            rights=record_rights(FULL_RECORD, False),
            grant_kind="emergency",
            include_hidden=emergency.include_hidden and emergency_settings(emergency.patient_id).allow_hidden,
            expires_at=emergency.expires_at,
        )
    abort(404)


def space_open(patient_id: str) -> bool:
    """A closed (or deleted) space answers no professional, whatever grant or code is left."""
    status = db.session.scalar(select(Patient.status).where(Patient.id == patient_id))
    return status is not None and status != "closed"


def emergency_settings(patient_id: str):
    """The holder's three emergency settings (MES defaults when never set)."""
    found = db.session.get(EmergencySettings, patient_id)
    return (
        found
        if found is not None
        else EmergencySettings(patient_id=patient_id, allow_samu=True, allow_others=True, allow_hidden=False)
    )


def emergency_allowed(patient_id: str, samu: bool) -> bool:
    settings = emergency_settings(patient_id)
    return bool(settings.allow_samu if samu else settings.allow_others)
