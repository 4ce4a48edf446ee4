"""French health identifiers: NIR (with its key, Corsica included) and RPPS."""

from __future__ import annotations

import re

_NIR = re.compile(r"^[1-478]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$")


def clean_nir(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def nir_key(body13: str) -> int:
    """Key = 97 - (number mod 97); Corsica's 2A counts as 19 and 2B as 18."""
    body = body13.upper()
    if body[5:7] == "2A":
        body = body[:5] + "19" + body[7:]
    elif body[5:7] == "2B":
        body = body[:5] + "18" + body[7:]
    return 97 - (int(body) % 97)


def valid_nir(value: str) -> bool:
    """A 15-character NIR (13 + 2-digit key) whose key is right."""
    nir = clean_nir(value)
    if not _NIR.match(nir):
        return False
    return nir_key(nir[:13]) == int(nir[13:])


def format_nir(value: str) -> str:
    """1 84 12 75 123 456 78, as printed on a carte Vitale."""
    n = clean_nir(value)
    if len(n) != 15:
        return n
    return f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {n[13:]}"


def mask_nir(value: str) -> str:
    """Shown on screens: enough to recognise it, not enough to copy it."""
    n = clean_nir(value)
    return f"{n[0]} {n[1:3]} •• •• ••• ••• {n[13:]}" if len(n) == 15 else "•••"


def valid_rpps(value: str) -> bool:
    return bool(re.fullmatch(r"\d{11}", (value or "").strip()))
