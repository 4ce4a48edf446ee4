"""The access gate. Every route names what it needs, on the route: `@web.gate(section, action)`
(core/web.py), which calls require(); every query on patient data goes through scope(). Deny
by default: a section or action not listed for a viewer is refused.

Viewers: the holder; a professional with an account (their own pages only); a
professional acting on one record, through a share code, a permanent grant or an emergency
access ("bris de glace"). A record viewer's rights are the `record.*` sections, never the
holder's own sections, so no holder page (account, history, reimbursements...) opens for a
professional. Secure messaging ("messages") is the one section both holders and professionals
with an account have, each reading only their own threads (may_read_thread). Shares, grants, blocks and emergency settings are read on every
access ("bris de glace"); and a connected app calling the FHIR API with a token, limited to the
scopes the holder granted it (app_viewer). A record viewer's rights are the `record.*` sections, never the
holder's own sections, so no holder page (account, history, reimbursements, messages...)
opens for a professional. Shares, grants, blocks and emergency settings are read on every
request: revoking, expiring or blocking takes effect on the professional's next click.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache, lru_cache
from types import SimpleNamespace

from flask import abort
from sqlalchemy import BindParameter, Select, Update, bindparam, exists, literal_column, or_, select, union_all
from sqlalchemy.orm import aliased

from core import audit, clock
from core.compiled import Fixed
from core.db import db, flush_pending
from core.grants import (
    Block,
    Delegation,
    EmergencyAccess,
    EmergencySettings,
    Grant,
    Guardianship,
    MessageRefusal,
    Share,
    ShareUse,
)
from core.people import Account, Patient
from core.sessions import SessionUser

# What each kind of viewer may do, per section. Absent means refused.
HOLDER_RIGHTS = {
    "dashboard": {"read"},
    "account": {"read", "write"},
    "documents": {"read", "write", "delete", "share"},  # share: hide from professionals, or show
    "history": {"read"},
    "profile": {"read", "write"},
    "measures": {"read", "write", "delete", "export"},
    "sharing": {"read", "write"},
    "agenda": {"read", "write", "share"},  # share: the private calendar feed
    "messages": {"read", "write", "block"},  # block: refuse or block a professional
    "reimbursements": {"read", "write"},
    "card": {"read"},  # the emergency card kept offline on the holder's own device
    "apps": {"read", "write"},
    "lifecycle": {"close"},  # the life of the space: closing it (blueprints/lifecycle)
    "export": {"read", "write"},  # taking everything with you (blueprints/export); a guardian too
    "helpers": {"read", "write"},  # naming helpers, and answering invitations to help someone
    "spaces": {"switch"},  # the header's switch between one's own space and the spaces one acts in
}
# A legal guardian acting in a child's space does all the holder does, except close it (and
# name helpers: a child's space has its guardians).
GUARDIAN_RIGHTS = {s: actions for s, actions in HOLDER_RIGHTS.items() if s not in ("lifecycle", "helpers")}
# A helper (proche aidant) acting in a holder's space: what each scope of the delegation opens.
# Never sharing, the account, the life of the space, exports, apps, reimbursements, history,
# the health profile; documents are added and edited, never deleted, hidden or shown.
HELPER_SCOPES = ("documents", "measures", "agenda", "messages")
HELPER_SCOPE_RIGHTS = {
    "documents": {"documents": {"read", "write"}},
    "measures": {"measures": {"read", "write", "delete"}},
    "agenda": {"agenda": {"read", "write"}},
    "messages": {"messages": {"read", "write"}},
}
MAX_HELPERS = 3  # live delegations (invited or accepted) per holder
MAJORITY_YEARS = 18
PROFESSIONAL_RIGHTS = {
    "account": {"read", "write"},
    "pro": {"read", "emergency"},
    "messages": {"read", "write"},
}
# What a professional may do in one holder's record; which of these a share gives is its scope.
RECORD_DOCUMENTS, RECORD_SUMMARY, RECORD_MEASURES = "record.documents", "record.summary", "record.measures"
# Appointments with a patient: only a professional with an account and a permanent access
# (a code typed by someone unverified, or an emergency, is no basis for an appointment).
RECORD_AGENDA = "record.agenda"
# What the private calendar feed's token opens: the holder's appointments, read-only.
FEED = "agenda.feed"
EMERGENCY_HOURS = 12


@dataclass
class Viewer:
    """Who is asking, decided once per request by core.web."""

    kind: str = "anonymous"  # anonymous | holder | guardian | helper | professional | app | feed
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
    app_id: str | None = None  # an app: the referenced app (its connection is grant_id)
    acting_patient_id: str | None = None  # a guardian's or helper's own space, while acting in another

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
        """The holder's side of a space: the holder, a guardian acting in a child's space, a
        helper acting in the space of the person they help (within the rights of their scope)."""
        return self.kind in ("holder", "guardian", "helper")

    @property
    def sees_hidden(self) -> bool:
        """Hidden documents: the holder and guardians; a helper or an emergency access only when
        the holder allowed it."""
        return self.kind in ("holder", "guardian") or self.include_hidden

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
        elif self.kind == "app":
            ident.update(actor_id=self.app_id, patient_id=self.patient_id)
        elif self.kind in ("guardian", "helper"):  # traced in the space as their own acts
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
    from its columns, a professional's from theirs: no Account loaded), or an Account."""
    if user is None:
        return Viewer(kiosk=kiosk)
    if user.role == "holder" and user.patient_id:
        if isinstance(user, SessionUser):
            return holder_viewer(user.id, user.patient_id, user.name or "", session_id=session_id, kiosk=kiosk)
        return Viewer("holder", user, user.patient_id, session_id=session_id, kiosk=kiosk, rights=HOLDER_RIGHTS)
    if user.role == "professional" and user.professional is not None:
        return Viewer(
            "professional",
            None if isinstance(user, SessionUser) else user,  # a SessionUser's account: loaded if asked
            professional=user.professional,
            session_id=session_id,
            kiosk=kiosk,
            rights=PROFESSIONAL_RIGHTS,
            account_id=user.id,
            name=user.professional.display_name,
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


# --------------------------------------------------------------------------- connected apps
# An app's rights are the FHIR resource types of its SMART v2 scopes ("patient/Observation.rs"):
# section "fhir.<Type>", actions read, search, create. Nothing else of the space opens to it:
# no holder page, no record page, and scope() never lets a hidden document through.
SMART_ACTIONS = {"r": "read", "s": "search", "c": "create"}
APP_TYPES = frozenset(
    {
        "Patient",
        "Observation",
        "DocumentReference",
        "Binary",
        "AllergyIntolerance",
        "MedicationStatement",
        "Condition",
        "Immunization",
        "AuditEvent",
        "Consent",
        "Appointment",
        "ExplanationOfBenefit",  # reimbursements: only with this explicit scope (see HOLDER_ONLY_TABLES)
    }
)
# Tables no professional ever reads, whatever a share, grant or emergency access opens: the
# reimbursements are the holder's, and an app's only with patient/ExplanationOfBenefit.rs.
HOLDER_ONLY_TABLES = frozenset({"reimbursements"})


def app_rights(scopes: str) -> dict:
    """The sections a granted scope string opens; unknown or malformed scopes open nothing."""
    rights: dict[str, set] = {}
    for scope in scopes.split():
        context, _, rest = scope.partition("/")
        rtype, _, letters = rest.partition(".")
        if context != "patient" or rtype not in APP_TYPES or not letters or set(letters) - set(SMART_ACTIONS):
            continue
        rights.setdefault(f"fhir.{rtype}", set()).update(SMART_ACTIONS[c] for c in letters)
    return rights


def app_viewer(patient_id: str, app_id: str, app_name: str, connection_id: str, scopes: str) -> Viewer:
    """A connected app acting in one holder's space with the scopes of its token."""
    return Viewer(
        "app",
        None,
        patient_id,
        rights=app_rights(scopes),
        grant_id=connection_id,
        grant_kind="app",
        name=app_name,
        app_id=app_id,
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


def kind_gate(kind: str, author: bool = False) -> Viewer:
    """A viewer of this kind whose space is the :patient_id parameter, for the statements built
    once per kind of viewer and run through compiled.Fixed (docs/performance.md, 12): scope() writes
    in them what it writes for any viewer of that kind with no category limit, and a viewer
    without a space binds NULL, which matches no row. author=True: a professional with an
    account, whose RPPS is the :rpps parameter (scope()'s author exception: their own hidden
    deposits; docs/performance.md, 80)."""
    if not author:
        return Viewer(kind, patient_id=bindparam("patient_id"))
    pro = SimpleNamespace(rpps=bindparam("rpps"))
    return Viewer(kind, patient_id=bindparam("patient_id"), professional=pro, account_id="*")


def gate_of(viewer: Viewer) -> tuple[str, bool] | None:
    """(kind, author) of the gate built once that stands for this viewer (kind_gate(kind,
    author)): scope() writes the same for both on every table, with no category limit, hidden
    records seen or not as the kind sees them, and the holder-only tables open or closed as for
    the kind. None when no such gate stands for it. gate_params() gives its parameters."""
    gate = kind_gate(viewer.kind)
    if (
        viewer.categories is None
        and viewer.sees_hidden == gate.sees_hidden
        and can(viewer, "fhir.ExplanationOfBenefit", "read") == can(gate, "fhir.ExplanationOfBenefit", "read")
    ):
        return viewer.kind, bool(_author_rpps(viewer)) and not viewer.sees_hidden
    return None


def gate_params(viewer: Viewer, author: bool) -> dict:
    """The parameters of gate_of(viewer)'s statements: the space, and the RPPS of an author."""
    return (
        {"patient_id": viewer.patient_id, "rpps": _author_rpps(viewer)} if author else {"patient_id": viewer.patient_id}
    )


def practice_gate() -> Viewer:
    """A professional with an account on their own pages (their home, their messages), whose
    id and RPPS are the :professional_id and :rpps parameters: what scope_practice() and
    scope_threads() write for any such professional, for statements built once (compiled.Fixed)."""
    pro = SimpleNamespace(id=bindparam("professional_id"), rpps=bindparam("rpps"))
    return Viewer("professional", professional=pro, account_id="*", rights={"pro": ("read",)})


def gated_as_its_kind(viewer: Viewer) -> bool:
    """scope() writes for this viewer what it writes for kind_gate(viewer.kind): gate_of(), with
    no author exception (an RPPS with an account). A statement built once per kind of viewer may
    then stand for this viewer's own."""
    return gate_of(viewer) == (viewer.kind, False)


def _author_rpps(viewer: Viewer):
    """The RPPS whose hidden deposits this viewer sees as their author: a professional's with an
    account (an RPPS typed with a share code is not proof of who is typing)."""
    return getattr(viewer.professional, "rpps", None) if viewer.account_id is not None else None


def scope(viewer: Viewer, stmt: Select | Update) -> Select | Update:
    """Limit a query on a patient-data table to what this viewer may see.

    Holders see their own space, hidden documents included. Any other viewer sees only
    records not hidden from professionals (tables that have a `hidden` column), except the
    documents they deposited themselves: a hidden document stays visible to its author. The
    author is recognised by RPPS only when it comes with a professional account (an RPPS
    typed with a share code is not proof of who is typing). The table is the statement's
    own (see _patient_table): nothing to name twice, nothing to get wrong.
    """
    table = _patient_table(stmt)
    c = table.c
    if viewer.patient_id is None:
        return stmt.where(False)
    if table.name in HOLDER_ONLY_TABLES and not (
        viewer.kind in ("holder", "guardian") or can(viewer, "fhir.ExplanationOfBenefit", "read")
    ):  # never a helper: reimbursements are in none of their scopes
        return stmt.where(False)
    stmt = stmt.where(c.patient_id == viewer.patient_id)
    if not viewer.sees_hidden and "hidden" in c:
        visible = c.hidden.is_(False)
        rpps = _author_rpps(viewer)
        if (isinstance(rpps, BindParameter) or rpps) and "author_rpps" in c:  # a parameter: kind_gate(author=True)
            visible = or_(visible, c.author_rpps == rpps)
        stmt = stmt.where(visible)
    if viewer.categories is not None and "category" in c:
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
    """Object-level check: another space's record is simply not found. For a viewer the kind's
    gate stands for, the statement is built once per model and kind of viewer (a document's
    page, its images and forms ask on every view; docs/performance.md, 76)."""
    gate = gate_of(viewer)
    if gate is not None:
        obj = db.session.scalar(_by_id(model, *gate), {**gate_params(viewer, gate[1]), "record_id": record_id})
    else:
        obj = db.session.scalar(scope(viewer, select(model).where(model.id == record_id)))
    if obj is None:
        abort(404)
    return obj


@lru_cache(maxsize=64)
def _by_id(model, kind: str, author: bool) -> Select:
    return scope(kind_gate(kind, author), select(model).where(model.id == bindparam("record_id")))


# --------------------------------------------------------------------------- guardians in a child's space
# A holder who is a legal guardian switches to a child's space from the header; the choice is
# kept in the session and checked on every request: the guardianship must be live, the child
# under 18 and the space open, or the holder is back in their own space.


def _wards_statement(guardian_patient_id, born_after):
    """The open spaces of minors this holder is the live guardian of (wards(), switchable()):
    values, or bound parameters for the statement built once."""
    return (
        select(Patient.id, Patient.given_names, Patient.family_name, Patient.birth_date)
        .join(Guardianship, Guardianship.patient_id == Patient.id)
        .where(
            Guardianship.guardian_patient_id == guardian_patient_id,
            Guardianship.ended_at.is_(None),
            Patient.status != "closed",
            Patient.birth_date > born_after,
        )
    )


def wards(guardian_patient_id: str) -> list[tuple[str, str, str]]:
    """(id, given names, family name) of the open spaces this holder manages as a guardian."""
    born_after = clock.years_after(clock.paris_today(), -MAJORITY_YEARS)
    rows = db.session.execute(
        _wards_statement(guardian_patient_id, born_after).order_by(Patient.birth_date, Patient.given_names)
    )
    return [(r.id, r.given_names, r.family_name) for r in rows]


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


# --------------------------------------------------------------------------- helpers in a holder's space
# A holder names up to MAX_HELPERS helpers (blueprints/helpers); one who accepted switches to
# the holder's space from the header, as a guardian does. The delegation is read on every
# request: ended, past its end date, not yet begun, or the space closed, and the helper is
# back in their own space.


def helper_rights(scopes) -> dict:
    """The sections a delegation's scopes open: its home page and the header's switch always."""
    rights: dict[str, set] = {"dashboard": {"read"}, "spaces": {"switch"}}
    for scope in scopes or ():
        for section, actions in HELPER_SCOPE_RIGHTS.get(scope, {}).items():
            rights.setdefault(section, set()).update(actions)
    return rights


def live_delegations(today=None):
    """The condition of a delegation in force today (Paris): accepted, begun, not past its end
    date, not ended, in an open space."""
    if today is None:
        today = clock.paris_today()
    return (
        Delegation.status == "accepted",
        Delegation.ended_at.is_(None),
        Delegation.starts_on <= today,
        Delegation.ends_on >= today,
        exists().where(_SPACE.id == Delegation.patient_id, _SPACE.status != "closed"),
    )


_SPACE = aliased(Patient)  # the space helped, apart from any Patient the query already joins


def _helped_statement(helper_patient_id, today):
    """The spaces this holder helps in today (a delegation in force)."""
    return (
        select(Patient.id, Patient.given_names, Patient.family_name, Patient.birth_date)
        .join(Delegation, Delegation.patient_id == Patient.id)
        .where(Delegation.helper_patient_id == helper_patient_id, *live_delegations(today))
    )


@cache
def _switchable_statement() -> Fixed:
    """Built and compiled once: every page of a holder runs it (docs/performance.md, 15)."""
    patient_id = bindparam("patient_id")
    ward = _wards_statement(patient_id, bindparam("born_after")).add_columns(literal_column("'ward'").label("role"))
    helped_ = _helped_statement(patient_id, bindparam("today")).add_columns(literal_column("'helped'").label("role"))
    return Fixed(union_all(ward, helped_))


def switchable(patient_id: str) -> list[tuple[str, str, str, str]]:
    """(id, given names, family name, "ward" | "helped"): the spaces this holder may open from
    the header's switch, the children they are the guardian of (youngest last) then the people
    they help (by name). One statement: every page of a holder asks."""
    today = clock.paris_today()
    params = {"patient_id": patient_id, "born_after": clock.years_after(today, -MAJORITY_YEARS), "today": today}
    rows = _switchable_statement().all(params)
    rows.sort(key=lambda r: (0, r.birth_date, r.given_names) if r.role == "ward" else (1, r.family_name, r.given_names))
    return [(r.id, r.given_names, r.family_name, r.role) for r in rows]


def helper_viewer(holder: Viewer, patient_id: str) -> Viewer | None:
    """The holder acting as a helper in the space of `patient_id`, within the scopes of their
    delegation in force, or None."""
    if holder.kind != "holder" or patient_id == holder.patient_id:
        return None
    found = db.session.execute(
        select(Delegation.id, Delegation.scopes, Delegation.include_hidden).where(
            Delegation.patient_id == patient_id,
            Delegation.helper_patient_id == holder.patient_id,
            *live_delegations(),
        )
    ).first()
    if found is None:
        return None
    return Viewer(
        "helper",
        None,
        patient_id,
        session_id=holder.session_id,
        kiosk=holder.kiosk,
        rights=helper_rights(found.scopes),
        account_id=holder.account_id,
        name=holder.name,
        acting_patient_id=holder.patient_id,
        include_hidden=bool(found.include_hidden),
        categories=None,
    )


def acting_viewer(holder: Viewer, patient_id: str) -> Viewer | None:
    """The holder acting in someone else's space: as a guardian (a child's), else as a helper."""
    return guardian_viewer(holder, patient_id) or helper_viewer(holder, patient_id)


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
    pro = viewer.professional if viewer.kind == "professional" and viewer.account_id is not None else None
    if pro is None:
        abort(404 if viewer.is_authenticated else 401)
    now = clock.utcnow()
    flush_pending()  # a grant made in this request is found, as the ORM's own query found it
    grant = _open_grant().first({"access_id": access_id, "professional_id": pro.id, "rpps": pro.rpps or None})
    if grant is not None:
        return replace(  # the same professional, now on this record
            viewer,
            patient_id=grant.patient_id,
            grant_id=grant.id,
            rights={**record_rights(FULL_RECORD, True), RECORD_AGENDA: {"read", "write"}},
            grant_kind="grant",
            categories=None,
            include_hidden=False,
            expires_at=None,
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
        return replace(
            viewer,
            patient_id=emergency.patient_id,
            grant_id=emergency.id,
            rights=record_rights(FULL_RECORD, False),
            grant_kind="emergency",
            categories=None,
            include_hidden=emergency.include_hidden and emergency_settings(emergency.patient_id).allow_hidden,
            expires_at=emergency.expires_at,
        )
    abort(404)


@lru_cache(maxsize=1)
def _open_grant() -> Fixed:
    """record_viewer()'s permanent access: live, the professional's, not blocked by the holder
    (blocked()), the space open (space_open()); one statement built and compiled once, the ids
    and RPPS its parameters: every page of a record asks it (docs/performance.md, 79)."""
    return Fixed(
        select(Grant.id, Grant.patient_id).where(
            Grant.id == bindparam("access_id"),
            Grant.professional_id == bindparam("professional_id"),
            Grant.ended_at.is_(None),
            ~exists().where(Block.patient_id == Grant.patient_id, Block.rpps == bindparam("rpps")),
            exists().where(Patient.id == Grant.patient_id, Patient.status != "closed"),
        )
    )


def feed_viewer(patient_id: str | None) -> Viewer:
    """Whoever holds the token of a holder's calendar feed (core.web checks the token): that
    holder's appointments, nothing else. An unknown token is simply not found."""
    if patient_id is None:
        abort(404)
    return Viewer("feed", None, patient_id, rights={FEED: {"read"}})


def space_open(patient_id: str) -> bool:
    """A closed (or deleted) space answers no professional, whatever grant or code is left."""
    status = db.session.scalar(select(Patient.status).where(Patient.id == patient_id))
    return status is not None and status != "closed"


def emergency_settings(patient_id: str):
    """The holder's three emergency settings (MES defaults when never set)."""
    found = db.session.get(EmergencySettings, patient_id)
    return found if found is not None else default_emergency_settings(patient_id)


def default_emergency_settings(patient_id: str):
    """Mon Espace Santé's: the SAMU and other professionals may, hidden documents stay hidden."""
    return EmergencySettings(patient_id=patient_id, allow_samu=True, allow_others=True, allow_hidden=False)


def emergency_allowed(patient_id: str, samu: bool) -> bool:
    settings = emergency_settings(patient_id)
    return bool(settings.allow_samu if samu else settings.allow_others)


# --------------------------------------------------------------------------- a professional's agenda
# Across their patients, on their home: only appointments with a patient who still gives them
# a permanent access (the same access the record's agenda page needs, and its link). A grant
# ended, a block or a closed space hides them all, past and coming; the holder keeps them.


def practice_professional(viewer: Viewer):
    """A professional with an account, on their own pages (not acting on one record)."""
    if viewer.kind == "professional" and viewer.account_id and not viewer.on_record and can(viewer, "pro", "read"):
        return viewer.professional
    return None


def _live_grants(professional_id: str) -> Select:
    return select(Grant.patient_id, Grant.id).where(Grant.professional_id == professional_id, Grant.ended_at.is_(None))


def practice_grants(viewer: Viewer) -> dict[str, str]:
    """{patient id: the live permanent access that opens their record} for this professional:
    what the links of their agenda lead through."""
    pro = practice_professional(viewer)
    if pro is None:
        return {}
    return {patient_id: grant_id for patient_id, grant_id in db.session.execute(_practice_grants(pro.id))}


def practice_grants_statement() -> Select:
    """practice_grants()'s statement for practice_gate(): the professional's id a parameter."""
    return _practice_grants(bindparam("professional_id"))


def _practice_grants(professional_id) -> Select:
    return _live_grants(professional_id).order_by(Grant.created_at.desc(), Grant.id)


def scope_practice(viewer: Viewer, stmt: Select) -> Select:
    """Limit a query on appointments to those of this professional (an account, not acting on
    one record) with patients who still grant them access, not blocked, space open. Anyone
    else: nothing. The live grants are one uncorrelated subquery (read once, not per row)."""
    c = _patient_table(stmt).c
    pro = practice_professional(viewer)
    if pro is None:
        return stmt.where(False)
    space = aliased(Patient)  # the statement may join Patient itself: no auto-correlation
    return stmt.where(
        c.professional_id == pro.id,
        c.patient_id.in_(_live_grants(pro.id).with_only_columns(Grant.patient_id)),
        ~exists().where(Block.patient_id == c.patient_id, Block.rpps == pro.rpps),
        exists().where(space.id == c.patient_id, space.status != "closed"),
    )


# --------------------------------------------------------------------------- secure messaging
# Threads join one holder and one professional with an account: never two holders. In Mon
# Espace Santé only a professional may start; here the holder may too. The thread's own facts
# (who wrote, when) come from the messaging service; the relationship is read here.
CODE_CONTACT_DAYS = 30  # a record opened by code lets its professional write for this long


def threads_professional(viewer: Viewer):
    """The professional whose own conversations these are (an account, not acting on one
    record), None for anyone else: what scope_threads() reads from a professional's viewer."""
    return viewer.professional if viewer.kind == "professional" and viewer.account_id and not viewer.on_record else None


def scope_threads(viewer: Viewer, stmt: Select) -> Select:
    """Limit a query on message threads to the viewer's own: the holder's space (everything,
    blocked professionals' threads included); a professional with an account, their own threads
    and none of a holder who blocked them. Anyone else: nothing."""
    c = _patient_table(stmt).c
    if viewer.is_holder and viewer.patient_id is not None:
        return stmt.where(c.patient_id == viewer.patient_id)
    pro = threads_professional(viewer)
    if pro is None:
        return stmt.where(False)
    return stmt.where(
        c.professional_id == pro.id, ~exists().where(Block.patient_id == c.patient_id, Block.rpps == pro.rpps)
    )


def has_grant(patient_id: str, professional_id: str) -> bool:
    return (
        db.session.scalar(
            select(Grant.id).where(
                Grant.patient_id == patient_id, Grant.professional_id == professional_id, Grant.ended_at.is_(None)
            )
        )
        is not None
    )


def opened_by_code(patient_id: str, rpps: str) -> bool:
    """Whether a share of this holder was opened under this RPPS within CODE_CONTACT_DAYS. The
    RPPS was typed with the code; it counts only for the account that owns that RPPS."""
    since = clock.utcnow() - timedelta(days=CODE_CONTACT_DAYS)
    return (
        db.session.scalar(
            select(ShareUse.id)
            .where(ShareUse.patient_id == patient_id, ShareUse.rpps == rpps, ShareUse.started_at >= since)
            .limit(1)
        )
        is not None
    )


def refuses_threads(patient_id: str, professional_id: str) -> bool:
    return (
        db.session.scalar(
            select(MessageRefusal.id).where(
                MessageRefusal.patient_id == patient_id, MessageRefusal.professional_id == professional_id
            )
        )
        is not None
    )


def professional_may_write(patient_id: str, professional, *, holder_wrote_recently: bool = False) -> bool:
    """A professional writes to a holder who granted them access, or whose record they opened by
    code within CODE_CONTACT_DAYS; in a thread, also when the holder wrote there within that
    time. Never when blocked."""
    if blocked(patient_id, professional.rpps):
        return False
    return (
        holder_wrote_recently or has_grant(patient_id, professional.id) or opened_by_code(patient_id, professional.rpps)
    )


def may_start_thread(viewer: Viewer, patient_id: str, professional, *, wrote_before: bool) -> bool:
    """Who may open a new conversation with whom (both through the gate's rights first).
    The holder: with a professional who has access (a grant) or who wrote to them before,
    unless they blocked them. A professional: as professional_may_write, unless the holder
    refuses new conversations from them."""
    if not can(viewer, "messages", "write") or professional is None:
        return False
    if viewer.is_holder:
        if viewer.patient_id != patient_id or blocked(patient_id, professional.rpps):
            return False
        return wrote_before or has_grant(patient_id, professional.id)
    if viewer.kind != "professional" or viewer.professional is None or viewer.professional.id != professional.id:
        return False
    return not refuses_threads(patient_id, professional.id) and professional_may_write(patient_id, professional)


def may_read_thread(viewer: Viewer, patient_id: str, professional) -> bool:
    """The holder reads all their threads (a revoked grant or a block keeps history readable);
    a professional only their own, and none of a holder who blocked them."""
    if not can(viewer, "messages", "read"):
        return False
    if viewer.is_holder:
        return viewer.patient_id == patient_id
    pro = viewer.professional if viewer.kind == "professional" else None
    return pro is not None and pro.id == professional.id and not blocked(patient_id, pro.rpps)


def may_reply(viewer: Viewer, patient_id: str, professional, *, closed: bool, holder_wrote_recently: bool) -> bool:
    """Writing in an open thread: the holder unless they blocked the professional; the
    professional while professional_may_write holds."""
    if closed or not can(viewer, "messages", "write") or not may_read_thread(viewer, patient_id, professional):
        return False
    if viewer.is_holder:
        return not blocked(patient_id, professional.rpps)
    return professional_may_write(patient_id, professional, holder_wrote_recently=holder_wrote_recently)
