"""Connected apps, from the holder's side: the catalogue, connecting (the consent), what each
app read and wrote, changing purposes, disconnecting. And, for core.web, who a token is."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import abort
from sqlalchemy import select

from blueprints.apps import oauth, purposes, tokens
from blueprints.apps.models import App, Connection, Token
from core import access, audit, clock
from core.access import Viewer
from core.audit import AuditEvent
from core.db import db


def bearer_viewer(raw_token: str) -> Viewer | None:
    """The app a bearer token speaks for, limited to the token's scopes; None when the token is
    unknown, expired or revoked, or its connection ended (disconnecting takes effect at once)."""
    row = db.session.scalar(select(Token).where(Token.access_hash == tokens.digest(raw_token)))
    if row is None or row.revoked_at is not None:
        return None
    now = clock.utcnow()
    if clock.aware(row.issued_at) + timedelta(seconds=row.expires_in) <= now:
        return None
    conn = db.session.get(Connection, row.connection_id)
    if conn is None or not conn.live(now) or not access.space_open(row.patient_id):
        return None  # a closed space answers no app, whatever token is left
    app = db.session.get(App, row.app_id)
    return access.app_viewer(row.patient_id, app.id, app.name, conn.id, row.scope)


# --------------------------------------------------------------------------- the operator


def register(
    *,
    name: str,
    publisher: str,
    description: str,
    purpose_keys: list[str],
    redirect_uris: list[str],
    referenced_on,
    contact: str | None = None,
    logo: str | None = None,
    confidential: bool = False,
    client_id: str | None = None,
) -> tuple[App, str | None]:
    """A referenced app; returns it and its client secret (shown once) when confidential."""
    unknown = [k for k in purpose_keys if k not in purposes.PURPOSES]
    if unknown:
        raise ValueError(f"unknown purpose: {unknown[0]} (one of {', '.join(purposes.PURPOSES)})")
    if not redirect_uris:
        raise ValueError("at least one redirect URI")
    if logo and (":" in logo or logo.startswith("/") or ".." in logo.split("/")):
        raise ValueError("the logo is a file under static/ (pages load images from Carnet only)")
    secret = secrets.token_urlsafe(32) if confidential else None
    app = App(
        client_id=client_id or secrets.token_urlsafe(16),
        client_secret_hash=tokens.digest(secret) if secret else None,
        name=name,
        publisher=publisher,
        description=description,
        purposes=list(purpose_keys),
        redirect_uris=list(redirect_uris),
        referenced_on=referenced_on,
        contact=contact,
        logo=logo,
    )
    db.session.add(app)
    db.session.flush()
    return app, secret


# --------------------------------------------------------------------------- the holder


def app_or_404(app_id: str) -> App:
    app = db.session.get(App, app_id)
    if app is None:
        abort(404)
    return app


def live_connection(viewer: Viewer, app_id: str) -> Connection | None:
    now = clock.utcnow()
    rows = db.session.scalars(
        access.scope(viewer, select(Connection).where(Connection.app_id == app_id, Connection.ended_at.is_(None)))
    )
    return next((c for c in rows if c.live(now)), None)


def connect(viewer: Viewer, app: App, purpose_keys: list[str], duration: str, requested: str = "") -> Connection:
    """The holder's consent: the purposes allowed (only the app's own), until when. A connection
    already live for this app is replaced (its tokens end)."""
    allowed = [k for k in purpose_keys if k in app.purposes]
    previous = live_connection(viewer, app.id)
    if previous is not None:
        end(viewer, previous, trace=False)
    days = purposes.DURATIONS.get(duration, purposes.DURATIONS[purposes.DEFAULT_DURATION])[1]
    now = clock.utcnow()
    conn = Connection(
        patient_id=viewer.patient_id,
        app_id=app.id,
        purposes=allowed,
        scope=" ".join(sorted(purposes.scopes_for(allowed))),
        requested=requested,
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    db.session.add(conn)
    db.session.flush()
    audit.record(viewer, audit.Action.APP_CONNECTED, conn, target_label=app.name, detail={"purposes": allowed})
    return conn


def change_purposes(viewer: Viewer, app: App, conn: Connection, purpose_keys: list[str]) -> None:
    """The holder changes what the app may do: its live tokens follow at once, within what the
    app asked for when it connected (a use added later reaches it without a new consent screen
    only if it had asked for it)."""
    allowed = [k for k in purpose_keys if k in app.purposes]
    conn.purposes = allowed
    conn.scope = " ".join(sorted(purposes.scopes_for(allowed)))
    live = db.session.scalars(select(Token).where(Token.connection_id == conn.id, Token.revoked_at.is_(None)))
    for token in live:
        token.scope = purposes.granted(conn.requested or token.scope, allowed)
    audit.record(viewer, audit.Action.APP_PURPOSES_CHANGED, conn, target_label=app.name, detail={"purposes": allowed})


def end(viewer: Viewer, conn: Connection, trace: bool = True) -> None:
    """Disconnect: the connection ends and every token of it is revoked, in one transaction."""
    conn.ended_at = clock.utcnow()
    oauth.revoke_connection_tokens(conn.id)
    if trace:
        app = db.session.get(App, conn.app_id)
        audit.record(viewer, audit.Action.APP_DISCONNECTED, conn, target_label=app.name)


def catalogue(viewer: Viewer, purpose: str | None = None) -> list[dict]:
    apps = list(db.session.scalars(select(App).order_by(App.name)))
    connected = {c.app_id: c for c in _live_connections(viewer)}
    rows = []
    for app in apps:
        if purpose and purpose not in app.purposes:
            continue
        rows.append(
            {
                "id": app.id,
                "name": app.name,
                "publisher": app.publisher,
                "description": app.description,
                "purposes": [str(purposes.PURPOSES[k].label) for k in app.purposes if k in purposes.PURPOSES],
                "connected": app.id in connected,
                "logo": app.logo,
            }
        )
    return rows


def _live_connections(viewer: Viewer) -> list[Connection]:
    now = clock.utcnow()
    return [
        c
        for c in db.session.scalars(access.scope(viewer, select(Connection).where(Connection.ended_at.is_(None))))
        if c.live(now)
    ]


def traces(viewer: Viewer, app: App, limit: int = 30) -> list[AuditEvent]:
    """What this app read and wrote in the space, newest first."""
    stmt = access.scope(
        viewer,
        select(AuditEvent).where(
            AuditEvent.actor_type == "app",
            AuditEvent.actor_id == app.id,
        ),
    )
    return list(db.session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit)))
