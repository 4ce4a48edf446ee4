"""Connected apps: the apps the operator referenced, each holder's connection to one of them
(what it may do, until when), and the OAuth 2 codes and tokens it was given.

Codes and tokens are kept only as SHA-256 hashes: a copy of the database lets nobody call the
API. A connection is the holder's consent; ending it revokes every token at once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, uuid_pk


class App(Base):
    """A referenced app, as the operator registered it (`flask --app app apps register`)."""

    __tablename__ = "apps"

    id: Mapped[str] = uuid_pk()
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))  # None: a public client (PKCE alone)
    name: Mapped[str] = mapped_column(String(120))
    publisher: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    purposes: Mapped[list] = mapped_column(JSON, default=list)  # purpose keys (blueprints.apps.purposes)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)  # matched exactly
    contact: Mapped[str | None] = mapped_column(String(254))
    logo: Mapped[str | None] = mapped_column(String(300))  # a file under static/ (CSP: images from Carnet only)
    referenced_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)


class Connection(Base):
    """One holder's consent to one app: the purposes allowed, hence the scopes, until when."""

    __tablename__ = "app_connections"

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    purposes: Mapped[list] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(Text, default="")  # the SMART scopes the purposes allow
    requested: Mapped[str] = mapped_column(Text, default="")  # what the app asked for when it connected
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()  # None: until the holder disconnects
    ended_at: Mapped[datetime | None] = mapped_column()
    receipt_document_id: Mapped[str | None] = mapped_column(String(36))  # the consent receipt, in Documents

    def live(self, now: datetime) -> bool:
        return self.ended_at is None and (self.expires_at is None or self.expires_at > now)


class AuthorizationCode(Base):
    __tablename__ = "app_codes"

    id: Mapped[str] = uuid_pk()
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"))
    connection_id: Mapped[str] = mapped_column(ForeignKey("app_connections.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    nonce: Mapped[str | None] = mapped_column(String(255))  # OpenID Connect: echoed in the id_token
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    used_at: Mapped[datetime | None] = mapped_column()


class Token(Base):
    """An access token and its refresh token. A refresh gives a new pair and ends this one."""

    __tablename__ = "app_tokens"

    id: Mapped[str] = uuid_pk()
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"))
    connection_id: Mapped[str] = mapped_column(ForeignKey("app_connections.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    expires_in: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column()
