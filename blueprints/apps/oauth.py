"""The OAuth 2 authorization server (Authlib) behind SMART App Launch: authorization code with
PKCE (S256 only, for every client), rotated refresh tokens, revocation and introspection.

Authlib makes and checks the protocol; this module only says where things are kept: codes and
tokens as SHA-256 hashes (tokens.digest), clients as the referenced apps, the "user" of a code
or token as the holder's connection, whose end revokes everything at once."""

from __future__ import annotations

import hmac
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import url_for
from sqlalchemy import select, update

from blueprints.apps import purposes, signing, tokens
from blueprints.apps.models import App, AuthorizationCode, Connection, Token
from core import clock
from core.db import db

ACCESS_SECONDS = 3600
CODE_SECONDS = 60


class Client(ClientMixin):
    """A referenced app, as Authlib sees a client. Redirect URIs match exactly."""

    def __init__(self, app: App):
        self.app = app
        self.client_id = app.client_id

    def get_client_id(self):
        return self.app.client_id

    def get_default_redirect_uri(self):
        return None  # every request names its redirect URI: nothing is guessed

    def get_allowed_scope(self, scope):
        return scope or ""  # the holder's purposes narrow it on the consent screen

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in (self.app.redirect_uris or [])

    def check_client_secret(self, client_secret):
        stored = self.app.client_secret_hash
        return bool(stored) and hmac.compare_digest(tokens.digest(client_secret or ""), stored)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.app.client_secret_hash is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


class CodeRecord:
    """An authorization code row, as Authlib asks it."""

    def __init__(self, row: AuthorizationCode):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope

    def get_nonce(self):
        return self.row.nonce

    def get_auth_time(self):
        return int(clock.aware(self.row.created_at).timestamp())

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class TokenRecord:
    def __init__(self, row: Token, client_id: str):
        self.row, self.client_id = row, client_id

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.row.scope

    def get_expires_in(self):
        return self.row.expires_in

    def is_revoked(self):
        return self.row.revoked_at is not None

    def is_expired(self):
        return clock.aware(self.row.issued_at) + timedelta(seconds=self.row.expires_in) <= clock.utcnow()


def query_client(client_id: str) -> Client | None:
    app = db.session.scalar(select(App).where(App.client_id == client_id))
    return Client(app) if app is not None else None


def _live_connection(connection_id: str) -> Connection | None:
    conn = db.session.get(Connection, connection_id)
    return conn if conn is not None and conn.live(clock.utcnow()) else None


def save_token(token: dict, request) -> None:
    """Keep the hashes only; answer with the patient in context (SMART). A refresh token is kept
    only when the holder's grant includes offline_access."""
    conn: Connection = request.user
    scope = token.get("scope", "")
    if "offline_access" not in scope.split():
        token.pop("refresh_token", None)
    db.session.add(
        Token(
            access_hash=tokens.digest(token["access_token"]),
            refresh_hash=tokens.digest(token["refresh_token"]) if token.get("refresh_token") else None,
            app_id=conn.app_id,
            connection_id=conn.id,
            patient_id=conn.patient_id,
            scope=scope,
            issued_at=clock.utcnow(),
            expires_in=int(token.get("expires_in") or ACCESS_SECONDS),
        )
    )
    if "launch/patient" in scope.split():
        token["patient"] = conn.patient_id
    db.session.commit()


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code, request):
        conn: Connection = request.user
        data = request.payload.data
        db.session.add(
            AuthorizationCode(
                code_hash=tokens.digest(code),
                app_id=conn.app_id,
                connection_id=conn.id,
                patient_id=conn.patient_id,
                redirect_uri=request.payload.redirect_uri,
                scope=purposes.granted(request.scope or "", conn.purposes),  # what the holder allowed
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method") or "plain",
                nonce=(data.get("nonce") or "")[:255] or None,
            )
        )

    def query_authorization_code(self, code, client):
        row = db.session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == tokens.digest(code)))
        if row is None or row.app_id != client.app.id:
            return None
        if row.used_at is not None:  # a code used twice: the first tokens are revoked too (RFC 6749 4.1.2)
            revoke_connection_tokens(row.connection_id)
            db.session.commit()
            return None
        if clock.aware(row.created_at) + timedelta(seconds=CODE_SECONDS) <= clock.utcnow():
            return None
        return CodeRecord(row)

    def delete_authorization_code(self, authorization_code):
        authorization_code.row.used_at = clock.utcnow()

    def authenticate_user(self, authorization_code):
        return _live_connection(authorization_code.row.connection_id)


class S256Only(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        return super().validate_code_challenge(grant, redirect_uri)


class OpenID(OpenIDCode):
    """`openid fhirUser`: an id_token naming the holder, signed RS256 (keys at /oauth/jwks)."""

    def exists_nonce(self, nonce, request):
        return db.session.scalar(select(AuthorizationCode.id).where(AuthorizationCode.nonce == nonce)) is not None

    def resolve_client_private_key(self, client):
        return signing.signing_key()

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": signing.signing_key().kid}

    def get_client_claims(self, client):
        return {"iss": url_for("fhir.metadata", _external=True).rsplit("/", 1)[0], "aud": [client.get_client_id()]}

    def generate_user_info(self, user, scope):
        info = UserInfo(sub=user.patient_id)
        if "fhirUser" in scope.split():
            info["fhirUser"] = url_for("fhir.read_Patient", rid=user.patient_id, _external=True)
        return info


class RefreshTokenGrant(grants.RefreshTokenGrant):
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotated: each refresh token works once
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def authenticate_refresh_token(self, refresh_token):
        row = db.session.scalar(select(Token).where(Token.refresh_hash == tokens.digest(refresh_token)))
        if row is None:
            return None
        if row.revoked_at is not None:  # a rotated refresh token used again: stolen, end the lot
            revoke_connection_tokens(row.connection_id)
            db.session.commit()
            return None
        app = db.session.get(App, row.app_id)
        return TokenRecord(row, app.client_id)

    def authenticate_user(self, refresh_token):
        return _live_connection(refresh_token.row.connection_id)

    def revoke_old_credential(self, refresh_token):
        refresh_token.row.revoked_at = clock.utcnow()
        db.session.commit()


def _query_token(token_string: str, hint: str | None) -> TokenRecord | None:
    digest = tokens.digest(token_string or "")
    row = db.session.scalar(select(Token).where((Token.access_hash == digest) | (Token.refresh_hash == digest)))
    if row is None:
        return None
    return TokenRecord(row, db.session.get(App, row.app_id).client_id)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string, token_type_hint):
        return _query_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        token.row.revoked_at = clock.utcnow()
        db.session.commit()


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string, token_type_hint):
        return _query_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.check_client(client)

    def introspect_token(self, token):
        row = token.row
        conn = db.session.get(Connection, row.connection_id)
        active = not token.is_revoked() and not token.is_expired() and conn is not None and conn.live(clock.utcnow())
        if not active:
            return {"active": False}
        issued = int(clock.aware(row.issued_at).timestamp())
        return {
            "active": True,
            "client_id": token.client_id,
            "scope": row.scope,
            "token_type": "Bearer",
            "iat": issued,
            "exp": issued + row.expires_in,
            "patient": row.patient_id,
        }


def revoke_connection_tokens(connection_id: str) -> None:
    db.session.execute(
        update(Token)
        .where(Token.connection_id == connection_id, Token.revoked_at.is_(None))
        .values(revoked_at=clock.utcnow())
    )


server = AuthorizationServer(query_client=query_client, save_token=save_token)
server.register_grant(AuthorizationCodeGrant, [S256Only(required=True), OpenID(require_nonce=False)])
server.register_grant(RefreshTokenGrant)
server.register_endpoint(Revocation)
server.register_endpoint(Introspection)


def init_app(flask_app) -> None:
    flask_app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    flask_app.config.setdefault(
        "OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": ACCESS_SECONDS, "refresh_token": ACCESS_SECONDS}
    )
    server.init_app(flask_app)
