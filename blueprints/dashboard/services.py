"""What the home screen shows, loaded in one place as plain data.

Each card reads only the columns it shows (plain rows, not ORM objects), and the figures of
several cards come from one statement: the home screen is the most visited page. A new card
adds its own loader below and one key to holder_home()."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from sqlalchemy import bindparam, func, join, select

from blueprints.agenda import appointments
from blueprints.documents import categories
from blueprints.documents.models import Document
from blueprints.helpers import services as helpers
from blueprints.history import services as history
from blueprints.measures import services as measures
from blueprints.messaging import services as messaging
from blueprints.profile import choices
from blueprints.profile.models import Allergy, ProfileFacts
from blueprints.reimbursements import services as reimbursements
from blueprints.sharing import notices
from core import access, audit, sessions
from core.access import Viewer
from core.clock import aware, paris_today
from core.compiled import Fixed, in_sql
from core.i18n import current_locale
from core.identifiers import mask_nir
from core.people import Account, Credential, Patient, profession_label
from core.sessions import UserSession


def _figures(viewer: Viewer) -> dict:
    """Counts for the health and security cards, the document count, the previous login and
    the identity card (account and patient columns, not their objects), in one round trip."""
    params = {
        "account_id": viewer.account_id,
        "patient_id": viewer.patient_id,
        "year_start": date(paris_today().year, 1, 1),
        **sessions.live_params(),
        **helpers.waiting_params(),
    }
    return _figures_statement(viewer.kind).one(params)._asdict()


@lru_cache(maxsize=8)
def _figures_statement(kind: str) -> Fixed:
    """Built and compiled once per kind of viewer (building it costs more than running it). The patient
    filters still come from the gate: access.scope() is applied for a viewer of this kind
    whose patient is the :patient_id parameter."""
    AuditEvent = audit.AuditEvent
    gate = access.kind_gate(kind)
    account_id = bindparam("account_id")
    holder = (
        Account.email,
        Account.password_hash,
        Patient.given_names,
        Patient.family_name,
        Patient.birth_date,
        Patient.nir,
    )
    return Fixed(
        select(
            *holder,
            select(func.count())
            .select_from(Credential)
            .where(Credential.account_id == account_id)
            .scalar_subquery()
            .label("passkeys"),
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.account_id == account_id, sessions.live_bound())
            .scalar_subquery()
            .label("sessions"),
            access.scope(gate, select(func.count()).select_from(Allergy)).scalar_subquery().label("allergies"),
            access.scope(gate, select(ProfileFacts.blood_group)).scalar_subquery().label("blood_group"),
            access.scope(gate, select(func.count()).select_from(Document)).scalar_subquery().label("documents"),
            # invitations to help someone, waiting for this person's answer (blueprints/helpers)
            helpers.waiting_invitations(bindparam("patient_id"), bindparam("today"), bindparam("invited_since")).label(
                "invitations"
            ),
            *reimbursements.card_columns(gate, bindparam("year_start")),
            # the login before this one: the newest is the one that opened this session
            select(AuditEvent.at)
            .where(AuditEvent.account_id == account_id, AuditEvent.action == "login")
            .order_by(AuditEvent.id.desc())
            .limit(1)
            .offset(1)
            .scalar_subquery()
            .label("previous_login"),
        )
        # the space's identity (a guardian's viewer is on the child's), the person's own account
        .select_from(join(Patient, Account, Account.id == account_id))
        .where(Patient.id == bindparam("patient_id"))
    )


def _latest_document(viewer: Viewer) -> dict | None:
    found = _latest_document_statement(viewer.kind).first({"patient_id": viewer.patient_id})
    if found is None:
        return None
    return {
        "title": found.title,
        "category_label": _category_label(found.category, str(current_locale())),
        "act_date": found.act_date,
        "hidden": found.hidden,
    }


@lru_cache(maxsize=64)
def _category_label(code: str, _locale: str) -> str:
    return categories.label(code)


@lru_cache(maxsize=8)
def _latest_document_statement(kind: str) -> Fixed:
    """Newest act first; built once per kind of viewer, gated like _figures_statement()."""
    gate = access.kind_gate(kind)
    return Fixed(
        access.scope(gate, select(Document.title, Document.category, Document.act_date, Document.hidden))
        .order_by(Document.act_date.desc(), Document.id.desc())
        .limit(in_sql(1))
    )


def _history(viewer: Viewer, count: int = 3) -> list:
    """The few most recent traces (history rows, read-only in the template)."""
    return history.page(viewer, history.Filters(), size=count).rows


def _measures(viewer: Viewer) -> list[dict]:
    """The latest values of the kinds measured most recently."""
    return measures.dashboard_card(viewer)


def _notifications(viewer: Viewer) -> dict:
    """How many are new, and the card to show: an unread emergency access or first visit of
    someone new before routine visits (blueprints.sharing.notices decides)."""
    unread, latest = notices.latest(viewer)
    return {"unread": unread, "latest": latest}


def _agenda(viewer: Viewer) -> list:
    """The next appointments, proposals to answer among them (one statement)."""
    return appointments.upcoming(viewer, 3)


def holder_home(viewer: Viewer) -> dict:
    figures = _figures(viewer)
    return {
        "agenda": _agenda(viewer),
        "documents": {"count": figures["documents"], "latest": _latest_document(viewer)},
        "history": _history(viewer),
        "measures": _measures(viewer),
        "reimbursements": reimbursements.card(figures, paris_today().year),
        "notifications": _notifications(viewer),
        "messages": messaging.summary(viewer),
        "first_name": figures["given_names"].split()[0] if figures["given_names"] else "",
        "guardian": viewer.kind == "guardian",  # a guardian in a child's space: say whose it is
        "invitations": figures["invitations"] if viewer.kind == "holder" else 0,
        "identity": {
            "name": f"{figures['given_names']} {figures['family_name']}",
            "birth_date": figures["birth_date"],
            "nir": mask_nir(figures["nir"]),
            "email": figures["email"],
        },
        "health": {
            "allergies": figures["allergies"],
            "blood_group": choices.label(choices.BLOOD_GROUPS, figures["blood_group"]),
        },
        "security": {
            "passkeys": figures["passkeys"],
            "previous_login": aware(figures["previous_login"]),
            "sessions": figures["sessions"],
            "has_password": figures["password_hash"] is not None,
        },
    }


def professional_home(viewer: Viewer) -> dict:
    pro = viewer.professional
    return {
        "name": pro.display_name,
        "profession_label": profession_label(pro.profession),
        "specialty": pro.specialty,
        "rpps": pro.rpps,
    }
