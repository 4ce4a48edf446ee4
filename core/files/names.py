"""Names of uploaded files: safe to display and to offer as a download name, and the title a
document gets from its file's name. Plain Python."""

from __future__ import annotations

import re
import unicodedata

from core.files.sniff import extension

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')
MAX_FILENAME_CHARS = 120


def safe_filename(name: str) -> str:
    """A name safe to display and to offer as a download name.

    Keeps the last path component only, drops control and format characters
    (including bidi overrides used to disguise extensions), collapses ``..``,
    NFC-normalises and trims to 120 characters keeping the extension.
    """
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(
        " " if unicodedata.category(ch) == "Zs" or ch == "\t" else ch
        for ch in text
        if ch == "\t" or unicodedata.category(ch) not in _UNSAFE_CATEGORIES
    )
    text = _WINDOWS_RESERVED.sub("_", text)
    text = re.sub(r"\.{2,}", ".", text)
    text = re.sub(r" {2,}", " ", text).strip(" ").rstrip(". ")

    stem, dot, ext = text.rpartition(".")
    if dot and 1 <= len(ext) <= 10 and ext.isalnum():
        ext = "." + ext
    else:
        stem, ext = text, ""
    stem = stem.strip(" ").lstrip(".")  # no hidden-file names
    limit = MAX_FILENAME_CHARS - len(ext)
    stem = stem[:limit].rstrip(" .")
    return (stem or "document") + ext


def title_from_filename(name: str) -> str:
    """ "compte_rendu-IRM_2024.pdf" -> "Compte rendu IRM 2024"."""
    base = safe_filename(name)
    stem, dot, ext = base.rpartition(".")
    if dot and extension(base) is not None:
        base = stem
    base = base.replace("_", " ")
    base = re.sub(r"(?<!\d)-|-(?!\d)", " ", base)  # keep dates such as 2024-03-01
    base = re.sub(r"\s+", " ", base).strip(" .")
    if not base or base == "document":
        return "Document"
    return base[0].upper() + base[1:]
