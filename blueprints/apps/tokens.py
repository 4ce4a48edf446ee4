"""Secrets an app holds (tokens, codes, client secrets) are kept as SHA-256 hashes: they are
long random strings, so a plain hash cannot be reversed, and a lookup by hash is one index read."""

from __future__ import annotations

import hashlib


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
