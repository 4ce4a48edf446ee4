"""The key that signs OpenID Connect id_tokens (SMART `openid fhirUser`): an RSA key kept in
instance/keys/oidc.pem (mode 600), made on first use; apps check signatures with the public
half, published at /oauth/jwks. Losing it only means apps fetch the new public key."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from joserfc.jwk import RSAKey

_CACHE: dict[str, RSAKey] = {}  # file path -> key: the same key for every process reading it


def _path() -> Path:
    return Path(current_app.instance_path) / "keys" / "oidc.pem"


def signing_key() -> RSAKey:
    path = _path()
    key = _CACHE.get(str(path))
    if key is not None:
        return key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: read theirs
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
    key = RSAKey.import_key(path.read_bytes())
    key.ensure_kid()
    _CACHE[str(path)] = key
    return key


def jwks() -> dict:
    public = signing_key().as_dict(private=False)
    return {"keys": [{**public, "use": "sig", "alg": "RS256"}]}
