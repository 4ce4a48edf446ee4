"""The security screen's rules: passkeys, sessions, password."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select

from blueprints.auth import passkeys as ceremonies
from blueprints.auth import services as auth_services
from core import audit, sessions, web
from core.access import Viewer
from core.db import db
from core.people import Credential


def passkey_rows(viewer: Viewer) -> list[dict]:
    return [{"id": c.id, "name": c.name, "created_at": c.created_at, "last_used_at": c.last_used_at,
             "synced": c.backed_up} for c in ceremonies.list_for(viewer.account.id)]


def session_rows(viewer: Viewer) -> list[dict]:
    rows = []
    for s in sessions.active_for(viewer.account.id):
        rows.append({"id": s.id, "device": web.device_label(s.user_agent or ""), "ip": s.ip,
                     "handheld": web.device_is_handheld(s.user_agent or ""),
                     "last_active_at": s.last_active_at, "started_at": s.authenticated_at or s.created_at,
                     "kiosk": s.kiosk, "current": s.id == viewer.session_id})
    rows.sort(key=lambda r: (not r["current"], -r["last_active_at"].timestamp()))
    return rows


def own_credential(viewer: Viewer, credential_id: str) -> Credential:
    cred = db.session.scalar(select(Credential).where(Credential.id == credential_id,
                                                      Credential.account_id == viewer.account.id))
    if cred is None:
        abort(404)
    return cred


def rename_passkey(viewer: Viewer, cred: Credential, name: str) -> None:
    old = cred.name
    cred.name = name.strip()[:60]
    audit.record(viewer, "passkey_renamed", target_label=cred.name, detail={"from": old})


def remove_passkey(viewer: Viewer, cred: Credential) -> None:
    audit.record(viewer, "passkey_removed", target_label=cred.name)
    db.session.delete(cred)


def add_passkey(viewer: Viewer, credential_json: str, name: str) -> Credential:
    cred = ceremonies.register(viewer.account, credential_json, name)
    audit.record(viewer, "passkey_added", target_label=cred.name)
    return cred


def end_session(viewer: Viewer, session_id: str) -> bool:
    """End one of the holder's other sessions. An id that is not one of theirs is a 404 and
    changes nothing; their own current or already ended session changes nothing either."""
    owner = db.session.scalar(select(sessions.UserSession.account_id).where(sessions.UserSession.id == session_id))
    if owner is None or owner != viewer.account.id:
        abort(404)
    if session_id == viewer.session_id:
        return False
    ended = sessions.end_for_account(viewer.account.id, session_id=session_id)
    if ended:
        audit.record(viewer, "session_ended", detail={"session": session_id})
    return bool(ended)


def end_other_sessions(viewer: Viewer) -> int:
    ended = sessions.end_for_account(viewer.account.id, keep=viewer.session_id)
    if ended:
        audit.record(viewer, "sessions_ended", detail={"count": ended})
    return ended


def change_password(viewer: Viewer, password: str) -> str | None:
    problem = auth_services.password_problem(password, viewer.account.email)
    if problem:
        return problem
    auth_services.set_password(viewer.account, password)
    sessions.end_for_account(viewer.account.id, keep=viewer.session_id, reason="password")
    audit.record(viewer, "password_changed")
    return None


def confirm_with_password(viewer: Viewer, password: str) -> bool:
    ok = auth_services.password_matches(viewer.account, password)
    audit.record(viewer, "reauthenticated" if ok else "reauthentication_failed", detail={"method": "password"})
    if ok:
        sessions.mark_fresh()
    return ok


def confirm_with_passkey(viewer: Viewer, credential_json: str) -> bool:
    try:
        ceremonies.authenticate(credential_json, "fresh", account=viewer.account)
    except ceremonies.PasskeyError:
        audit.record(viewer, "reauthentication_failed", detail={"method": "passkey"})
        return False
    audit.record(viewer, "reauthenticated", detail={"method": "passkey"})
    sessions.mark_fresh()
    return True
