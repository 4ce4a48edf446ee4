"""Passkey ceremonies (py_webauthn). The challenge lives in the server-side session, is
single use (removed before verifying) and expires with the ceremony."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from core import clock
from core.db import db
from core.people import Account, Credential
from core.sessions import current as current_session

CEREMONY_SECONDS = 300


class PasskeyError(ValueError):
    pass


MAX_PENDING = 4


def _stash(kind: str, challenge: bytes) -> None:
    """Keep a few recent challenges per ceremony kind: an autofill request and a button press
    may overlap on a slow network, and each must find its own challenge."""
    session = current_session()
    pending = dict(session.get(f"webauthn_{kind}") or {})
    pending[bytes_to_base64url(challenge)] = clock.utcnow().isoformat()
    session[f"webauthn_{kind}"] = dict(sorted(pending.items(), key=lambda kv: kv[1])[-MAX_PENDING:])


def parse_credential(credential_json: str) -> dict:
    """The browser's answer as a JSON object with a `response` object, or PasskeyError: any
    other shape is a refusal (400), never an error of ours."""
    try:
        data = json.loads(credential_json)
    except (ValueError, TypeError) as exc:
        raise PasskeyError("malformed credential") from exc
    if not isinstance(data, dict) or not isinstance(data.get("response"), dict):
        raise PasskeyError("malformed credential")
    return data


def _take(kind: str, credential_json: str) -> bytes:
    """Pop the challenge this response answers: whatever happens next, it cannot be used twice."""
    try:
        client_data = json.loads(base64url_to_bytes(parse_credential(credential_json)["response"]["clientDataJSON"]))
        answered = client_data["challenge"]
        if not isinstance(answered, str):
            raise TypeError("challenge")
    except Exception as exc:  # untrusted input: end every pending ceremony of this kind
        current_session().pop(f"webauthn_{kind}", None)
        raise PasskeyError("malformed credential") from exc
    session = current_session()
    pending = dict(session.get(f"webauthn_{kind}") or {})
    started = pending.pop(answered, None)
    session[f"webauthn_{kind}"] = pending
    if started is None:
        raise PasskeyError("no ceremony in progress")
    if clock.utcnow() - datetime.fromisoformat(started) > timedelta(seconds=CEREMONY_SECONDS):
        raise PasskeyError("ceremony expired")
    return base64url_to_bytes(answered)


def registration_options(account: Account) -> str:
    existing = db.session.scalars(select(Credential.credential_id).where(Credential.account_id == account.id))
    options = generate_registration_options(
        rp_id=current_app.config["WEBAUTHN_RP_ID"],
        rp_name=current_app.config["WEBAUTHN_RP_NAME"],
        user_id=account.user_handle,
        user_name=account.email,
        user_display_name=account.display_name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in existing],
        timeout=CEREMONY_SECONDS * 1000,
    )
    _stash("register", options.challenge)
    return options_to_json(options)


def register(account: Account, credential_json: str, name: str) -> Credential:
    challenge = _take("register", credential_json)
    try:
        verified = verify_registration_response(
            credential=credential_json,
            expected_challenge=challenge,
            expected_rp_id=current_app.config["WEBAUTHN_RP_ID"],
            expected_origin=current_app.config["WEBAUTHN_ORIGIN"],
            require_user_verification=True,
        )
    except Exception as exc:  # untrusted input: any parse or verification failure is a refusal
        raise PasskeyError(str(exc)) from exc
    if db.session.scalar(select(Credential.id).where(Credential.credential_id == verified.credential_id)):
        raise PasskeyError("credential already registered")
    transports = []
    try:
        transports = json.loads(credential_json).get("response", {}).get("transports", []) or []
        transports = list(transports) if isinstance(transports, list) else []
    except (ValueError, AttributeError, TypeError):
        pass
    cred = Credential(
        account_id=account.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[str(t) for t in transports][:8],
        name=(name or "Clé d'accès")[:60],
        backed_up=bool(verified.credential_backed_up),
    )
    db.session.add(cred)
    db.session.flush()
    return cred


def authentication_options(kind: str = "login", account: Account | None = None) -> str:
    """Discoverable login (no allow list), or a fresh-auth check limited to this account's keys."""
    allow = None
    if account is not None:
        allow = [
            PublicKeyCredentialDescriptor(id=cid)
            for cid in db.session.scalars(select(Credential.credential_id).where(Credential.account_id == account.id))
        ]
    options = generate_authentication_options(
        rp_id=current_app.config["WEBAUTHN_RP_ID"],
        user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=allow,
        timeout=CEREMONY_SECONDS * 1000,
    )
    _stash(kind, options.challenge)
    return options_to_json(options)


def authenticate(credential_json: str, kind: str = "login", account: Account | None = None) -> Account:
    challenge = _take(kind, credential_json)
    data = parse_credential(credential_json)
    handle = data["response"].get("userHandle")
    try:
        raw_id = base64url_to_bytes(data["rawId"])
        handle = base64url_to_bytes(handle) if handle else None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PasskeyError("malformed credential") from exc
    cred = db.session.scalar(select(Credential).where(Credential.credential_id == raw_id))
    if cred is None:
        raise PasskeyError("unknown credential")
    owner = db.session.get(Account, cred.account_id)
    if owner is None or not owner.active or (account is not None and owner.id != account.id):
        raise PasskeyError("credential not usable here")
    if handle and handle != owner.user_handle:
        raise PasskeyError("user handle mismatch")
    try:
        verified = verify_authentication_response(
            credential=credential_json,
            expected_challenge=challenge,
            expected_rp_id=current_app.config["WEBAUTHN_RP_ID"],
            expected_origin=current_app.config["WEBAUTHN_ORIGIN"],
            credential_public_key=cred.public_key,
            credential_current_sign_count=cred.sign_count,
            require_user_verification=True,
        )
    except Exception as exc:  # untrusted input: any parse or verification failure is a refusal
        raise PasskeyError(str(exc)) from exc
    cred.sign_count = verified.new_sign_count
    cred.last_used_at = clock.utcnow()
    return owner


def list_for(account_id: str) -> list[Credential]:
    return list(
        db.session.scalars(
            select(Credential).where(Credential.account_id == account_id).order_by(Credential.created_at)
        )
    )
