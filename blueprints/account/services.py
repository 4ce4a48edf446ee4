"""The security screen's rules: passkeys, sessions, password."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app
from sqlalchemy import select

from blueprints.auth import passkeys as ceremonies, services as auth_services
from core import audit, origin, sessions, throttle
from core.access import Viewer
from core.db import db, write_intent
from core.i18n import gettext as _, ngettext
from core.people import Credential


def passkey_rows(viewer: Viewer) -> list[dict]:
    return [
        {"id": c.id, "name": c.name, "created_at": c.created_at, "last_used_at": c.last_used_at, "synced": c.backed_up}
        for c in ceremonies.list_for(viewer.account.id)
    ]


def session_rows(viewer: Viewer) -> list[dict]:
    rows = []
    for s in sessions.active_for(viewer.account.id):
        rows.append(
            {
                "id": s.id,
                "device": origin.device_label(s.user_agent or ""),
                "ip": s.ip,
                "handheld": origin.device_is_handheld(s.user_agent or ""),
                "last_active_at": s.last_active_at,
                "started_at": s.authenticated_at or s.created_at,
                "kiosk": s.kiosk,
                "current": s.id == viewer.session_id,
            }
        )
    rows.sort(key=lambda r: (not r["current"], -r["last_active_at"].timestamp()))
    return rows


def own_credential(viewer: Viewer, credential_id: str) -> Credential:
    cred = db.session.scalar(
        select(Credential).where(Credential.id == credential_id, Credential.account_id == viewer.account.id)
    )
    if cred is None:
        abort(404)
    return cred


def rename_passkey(viewer: Viewer, cred: Credential, name: str) -> None:
    old = cred.name
    cred.name = name.strip()[:60]
    audit.record(viewer, audit.Action.PASSKEY_RENAMED, target_label=cred.name, detail={"from": old})


def remove_passkey(viewer: Viewer, cred: Credential) -> None:
    audit.record(viewer, audit.Action.PASSKEY_REMOVED, target_label=cred.name)
    db.session.delete(cred)


def add_passkey(viewer: Viewer, credential_json: str, name: str) -> Credential:
    cred = ceremonies.register(viewer.account, credential_json, name)
    audit.record(viewer, audit.Action.PASSKEY_ADDED, target_label=cred.name)
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
        audit.record(viewer, audit.Action.SESSION_ENDED, detail={"session": session_id})
    return bool(ended)


def end_other_sessions(viewer: Viewer) -> int:
    ended = sessions.end_for_account(viewer.account.id, keep=viewer.session_id)
    if ended:
        audit.record(viewer, audit.Action.SESSIONS_ENDED, detail={"count": ended})
    return ended


def change_password(viewer: Viewer, password: str) -> str | None:
    problem = auth_services.password_problem(password, viewer.account.email)
    if problem:
        return problem
    hashed = auth_services.hash_password(password)  # slow: before the write transaction
    write_intent()
    auth_services.set_password(viewer.account, hashed=hashed)
    sessions.end_for_account(viewer.account.id, keep=viewer.session_id, reason="password")
    audit.record(viewer, audit.Action.PASSWORD_CHANGED)
    return None


@dataclass
class Confirmation:
    ok: bool
    message: str | None = None
    limited: bool = False
    end_session: bool = False


def confirm_with_password(viewer: Viewer, password: str, ip: str) -> Confirmation:
    """The step-up check counts like a login: each wrong password counts for the account
    (the login's counter, so its delays apply) and for the connection; this session ends
    after CONFIRM_MAX_FAILURES wrong passwords. The hash runs before any write lock."""
    account = viewer.account
    key = account.email
    wait = auth_services.login_wait(key)
    if wait:
        return Confirmation(
            False,
            _(
                "Too many attempts on this account. Try again in %(wait)s, or confirm with your passkey.",
                wait=auth_services._wait_text(wait),
            ),
            limited=True,
        )
    ok = auth_services.password_matches(account, password)  # slow: in the read transaction
    write_intent()
    audit.record(
        viewer,
        audit.Action.REAUTHENTICATED if ok else audit.Action.REAUTHENTICATION_FAILED,
        detail={"method": "password"},
    )
    if ok:
        sessions.mark_fresh()
        sessions.current().pop("confirm_failures", None)
        return Confirmation(True)
    throttle.fail("login-account", key)
    throttle.fail("login-ip", ip)
    session = sessions.current()
    failures = int(session.get("confirm_failures") or 0) + 1
    session["confirm_failures"] = failures
    left = current_app.config["CONFIRM_MAX_FAILURES"] - failures
    if left <= 0:
        return Confirmation(
            False,
            _("Too many wrong passwords: for your security, you were logged out. Log in again."),
            limited=True,
            end_session=True,
        )
    return Confirmation(
        False,
        ngettext(
            "Password incorrect. %(num)d try left before you are logged out.",
            "Password incorrect. %(num)d tries left before you are logged out.",
            left,
        ),
    )


def confirm_with_passkey(viewer: Viewer, credential_json: str) -> bool:
    try:
        ceremonies.authenticate(credential_json, "fresh", account=viewer.account)
    except ceremonies.PasskeyError:
        audit.record(viewer, audit.Action.REAUTHENTICATION_FAILED, detail={"method": "passkey"})
        return False
    audit.record(viewer, audit.Action.REAUTHENTICATED, detail={"method": "passkey"})
    sessions.mark_fresh()
    return True
