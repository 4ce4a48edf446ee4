"""What an upload is, decided from its first bytes against an allow-list (PDF, JPEG, PNG,
TIFF, plain text); the file name's extension must agree, or be absent. Everything else --
SVG, HTML, XML, archives, executables, RTF, office files -- is refused. Plain Python."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

#: How many leading bytes callers should pass to :func:`detect`.
SNIFF_BYTES = 8192

IMAGE_KINDS = frozenset({"jpeg", "png", "tiff"})


class UnsupportedFile(ValueError):
    """Refused upload. ``reason`` is one of "empty", "type", "mismatch", "damaged"."""

    REASONS = ("empty", "type", "mismatch", "damaged")

    def __init__(self, reason: str) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FileType:
    kind: str  # "pdf" | "jpeg" | "png" | "tiff" | "text"
    mime: str
    extension: str  # canonical extension, without the dot
    charset: str | None = None  # for text: "utf-8" or "windows-1252" (guessed from the head)


_PDF = FileType("pdf", "application/pdf", "pdf")
_JPEG = FileType("jpeg", "image/jpeg", "jpg")
_PNG = FileType("png", "image/png", "png")
_TIFF = FileType("tiff", "image/tiff", "tiff")

ACCEPTED_EXTENSIONS: dict[str, frozenset[str]] = {
    "pdf": frozenset({"pdf"}),
    "jpeg": frozenset({"jpg", "jpeg", "jfif", "jpe"}),
    "png": frozenset({"png"}),
    "tiff": frozenset({"tif", "tiff"}),
    "text": frozenset({"txt", "text"}),
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_ALLOWED_CONTROLS = frozenset("\t\n\r\f")
# Markup or active content that a browser (or a careless viewer) could interpret.
_MARKUP_MARKERS = (
    b"<script",
    b"<svg",
    b"<html",
    b"<!doctype",
    b"<?xml",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<body",
    b"<head",
    b"<meta",
    b"<style",
    b"<link",
    b"<base",
    b"<form",
    b"<img",
    b"<!entity",
    b"<x:xmpmeta",
)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def extension(filename: str) -> str | None:
    """Lower-case extension of a file name, or None when it has none.

    Only a short alphanumeric suffix containing a letter counts, so names like
    "ordonnance 12.03.2024" or "Dr. Martin" are treated as having no extension.
    """
    base = re.split(r"[\\/]", filename or "")[-1].strip().rstrip(". ")
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip(". "):
        return None
    ext = ext.lower()
    if 1 <= len(ext) <= 5 and ext.isascii() and ext.isalnum() and not ext.isdigit():
        return ext
    return None


def _text_charset(head: bytes) -> str | None:
    """Return the charset if ``head`` looks like plain text, else None."""
    if b"\x00" in head:
        return None
    body = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
        charset = "utf-8"
    except UnicodeDecodeError:
        try:
            # Windows-1252 is the superset of Latin-1 that French Windows software
            # writes (’, œ, € live in 0x80-0x9F); undefined bytes fail to decode.
            text = body.decode("cp1252")
            charset = "windows-1252"
        except UnicodeDecodeError:
            return None
    for ch in text:
        if (ch < " " or ch == "\x7f") and ch not in _TEXT_ALLOWED_CONTROLS:
            return None
        if "\x80" <= ch <= "\x9f":  # C1 controls (only reachable through UTF-8)
            return None
    return charset


def _looks_like_markup(head: bytes) -> bool:
    body = head
    for bom in _BOMS:
        if body.startswith(bom):
            body = body[len(bom) :]
            break
    if body.lstrip().startswith(b"<"):
        return True
    lowered = body.lower()
    return any(marker in lowered for marker in _MARKUP_MARKERS)


def detect(head: bytes, filename: str) -> FileType:
    """Decide the type of an upload from its first bytes (pass ~:data:`SNIFF_BYTES`).

    Raises :class:`UnsupportedFile` with reason "empty", "type" or "mismatch".
    """
    if not head:
        raise UnsupportedFile("empty")
    head = bytes(head)

    if head.startswith(b"%PDF-"):
        ftype = _PDF
    elif head.startswith(b"\xff\xd8\xff"):
        ftype = _JPEG
    elif head.startswith(_PNG_SIGNATURE):
        ftype = _PNG
    elif head.startswith((b"II*\x00", b"MM\x00*")):
        ftype = _TIFF
    else:
        charset = _text_charset(head)
        stripped = head.lstrip(b"".join(_BOMS) + b" \t\r\n\f")
        if (
            charset is None or _looks_like_markup(head) or stripped[:5].lower() == b"{\\rtf"  # RTF can embed objects
        ):
            raise UnsupportedFile("type")
        ftype = FileType("text", "text/plain", "txt", charset)

    ext = extension(filename)
    if ext is not None and ext not in ACCEPTED_EXTENSIONS[ftype.kind]:
        raise UnsupportedFile("mismatch")
    return ftype
