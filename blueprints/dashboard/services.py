"""What the home screen shows, loaded in one place as plain data."""
from __future__ import annotations

from sqlalchemy import func, select

from blueprints.profile import choices
from core import access, audit, sessions
from core.access import Viewer
from core.db import db
from core.identifiers import mask_nir
from core.people import PROFESSIONS, Credential
from core.sessions import UserSession


def holder_home(viewer: Viewer) -> dict:
    from blueprints.documents import services as documents
    from blueprints.history import services as history
    from blueprints.profile.models import Allergy, ProfileFacts

    account = viewer.account
    patient = account.patient
    passkeys, active_sessions, allergies, blood_group = db.session.execute(select(
        select(func.count()).select_from(Credential).where(Credential.account_id == account.id)
        .scalar_subquery(),
        select(func.count()).select_from(UserSession)
        .where(UserSession.account_id == account.id, sessions.live()).scalar_subquery(),
        access.scope(viewer, select(func.count()).select_from(Allergy), Allergy).scalar_subquery(),
        access.scope(viewer, select(ProfileFacts.blood_group), ProfileFacts).scalar_subquery(),
    )).one()
    logins = list(db.session.scalars(
        select(audit.AuditEvent.at).where(audit.AuditEvent.account_id == account.id,
                                          audit.AuditEvent.action == "login")
        .order_by(audit.AuditEvent.id.desc()).limit(2)))
    return {
        "documents": documents.summary(viewer),
        "history": history.latest(viewer, 3),
        "first_name": patient.first_name,
        "identity": {
            "name": f"{patient.given_names} {patient.family_name}",
            "birth_date": patient.birth_date,
            "nir": mask_nir(patient.nir),
            "email": account.email,
        },
        "health": {"allergies": allergies, "blood_group": choices.label(choices.BLOOD_GROUPS, blood_group)},
        "security": {
            "passkeys": passkeys,
            "previous_login": logins[1] if len(logins) > 1 else None,
            "sessions": active_sessions,
            "has_password": account.password_hash is not None,
        },
    }


def professional_home(viewer: Viewer) -> dict:
    pro = viewer.professional
    return {"name": pro.display_name, "profession_label": str(PROFESSIONS.get(pro.profession, pro.profession)),
            "specialty": pro.specialty, "rpps": pro.rpps}
