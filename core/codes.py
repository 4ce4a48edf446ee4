"""Secret codes sent to people (activation letters, one-time login codes).

Only a keyed hash is stored; comparison is constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app

# Crockford's base32 without I, L, O, U: nothing to confuse when read from a letter.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def digits(n: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def activation_code(groups: int = 3, size: int = 4) -> str:
    """12 Crockford symbols = 60 bits, printed as XXXX-XXXX-XXXX. One draw of 5 bits per symbol
    (the alphabet has 32): as uniform as a choice per symbol, at a twelfth of the calls."""
    bits = secrets.randbits(5 * groups * size)
    raw = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(groups * size))
    return "-".join(raw[i : i + size] for i in range(0, len(raw), size))


def normalise(code: str) -> str:
    """Accept lower case, spaces and dashes, and the usual misreadings (O→0, I/L→1)."""
    code = (code or "").upper().replace("-", "").replace(" ", "")
    return code.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def keyed_hash(code: str, purpose: str) -> str:
    pepper = current_app.config["CODE_PEPPER"].encode()
    return hmac.new(pepper, f"{purpose}:{normalise(code)}".encode(), hashlib.sha256).hexdigest()


def matches(code: str, stored_hash: str, purpose: str) -> bool:
    return hmac.compare_digest(keyed_hash(code, purpose), stored_hash or "")
