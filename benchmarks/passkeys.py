"""Passkeys of the benchmark's people: one EC P-256 key per account, registered as the app
stores a passkey (COSE public key, credential id), and real WebAuthn assertions signed with it
that py_webauthn verifies through the app's own login endpoints.

Keys are derived from the account's e-mail, so the process that registers them and the one
that signs with them need not share anything.
"""

from __future__ import annotations

import hashlib
import json

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url

#: SECP256R1's order: a derived private value must be below it.
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
FLAGS = 0x01 | 0x04  # user present, user verified (Carnet requires verification)


def private_key(email: str) -> ec.EllipticCurvePrivateKey:
    value = int.from_bytes(hashlib.sha256(b"carnet-bench-passkey:" + email.encode()).digest(), "big")
    return ec.derive_private_key(value % (_ORDER - 1) + 1, ec.SECP256R1())


def credential_id(email: str) -> bytes:
    return hashlib.sha256(b"carnet-bench-credential:" + email.encode()).digest()


def cose_public_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The public key as an authenticator hands it over at registration (COSE_Key, ES256)."""
    numbers = key.public_key().public_numbers()
    return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


def assertion(email: str, user_handle: bytes | None, options: dict, origin: str, sign_count: int = 0) -> str:
    """The PublicKeyCredential JSON a phone sends back for these authentication options:
    authenticatorData = SHA-256(rpId) || flags || signCount, signed with clientDataJSON's hash.
    Synced passkeys (the phones' password managers) send a sign count of 0."""
    client_data = json.dumps(
        {"type": "webauthn.get", "challenge": options["challenge"], "origin": origin, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()
    auth_data = hashlib.sha256(options["rpId"].encode()).digest() + bytes([FLAGS]) + sign_count.to_bytes(4, "big")
    signature = private_key(email).sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
    raw_id = bytes_to_base64url(credential_id(email))
    response = {
        "clientDataJSON": bytes_to_base64url(client_data),
        "authenticatorData": bytes_to_base64url(auth_data),
        "signature": bytes_to_base64url(signature),
    }
    if user_handle:
        response["userHandle"] = bytes_to_base64url(user_handle)
    return json.dumps(
        {"id": raw_id, "rawId": raw_id, "type": "public-key", "response": response, "clientExtensionResults": {}}
    )
