"""Upload type detection, image metadata removal, names and thumbnails.

Plain Python (no Flask). The type of an upload is decided by its first bytes
against an allow-list (PDF, JPEG, PNG, TIFF, plain text); the file name's extension
must agree, or be absent. Everything else -- SVG, HTML, XML, archives, executables,
RTF, office files -- is refused.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, TiffImagePlugin

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "IMAGE_KINDS",
    "MAX_PIXELS",
    "SNIFF_BYTES",
    "THUMBNAIL_MIME",
    "FileType",
    "UnsupportedFile",
    "detect",
    "safe_filename",
    "strip_image_metadata",
    "thumbnail",
    "title_from_filename",
]

#: How many leading bytes callers should pass to :func:`detect`.
SNIFF_BYTES = 8192
#: Largest image accepted, in pixels per page (a 300 dpi A3 scan is ~17 Mpx).
MAX_PIXELS = 80_000_000
#: Most pages kept from a multi-page TIFF.
MAX_TIFF_PAGES = 500
THUMBNAIL_SIZE = 320
THUMBNAIL_MIME = "image/jpeg"

IMAGE_KINDS = frozenset({"jpeg", "png", "tiff"})

# Pillow's own guard: warn above MAX_IMAGE_PIXELS, raise above twice that. Our
# explicit check against MAX_PIXELS below is the real limit.
if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS


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


def _extension(filename: str) -> str | None:
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
            charset is None
            or _looks_like_markup(head)
            or stripped[:5].lower() == b"{\\rtf"  # RTF can embed objects
        ):
            raise UnsupportedFile("type")
        ftype = FileType("text", "text/plain", "txt", charset)

    ext = _extension(filename)
    if ext is not None and ext not in ACCEPTED_EXTENSIONS[ftype.kind]:
        raise UnsupportedFile("mismatch")
    return ftype


# --------------------------------------------------------------------------- images

_PIL_FORMATS = {"jpeg": ["JPEG", "MPO"], "png": ["PNG"], "tiff": ["TIFF"]}
# Image.info keys that carry rendering information, not metadata.
_KEEP_INFO = ("icc_profile", "dpi", "transparency", "gamma")


def _check_pixels(im: Image.Image) -> None:
    width, height = im.size
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise UnsupportedFile("damaged")


def _clean_frame(frame: Image.Image) -> Image.Image:
    """Pixels only: orientation applied, every metadata block dropped."""
    _check_pixels(frame)
    frame.load()
    upright = ImageOps.exif_transpose(frame)  # a plain Image (copy or transposed)
    info = {k: frame.info[k] for k in _KEEP_INFO if k in frame.info}
    upright.info = info
    return upright


def _save_kwargs(im: Image.Image) -> dict:
    kwargs: dict = {}
    if "icc_profile" in im.info:
        kwargs["icc_profile"] = im.info["icc_profile"]
    if "dpi" in im.info:
        kwargs["dpi"] = tuple(round(float(v)) or 72 for v in im.info["dpi"])
    return kwargs


def _save_jpeg(im: Image.Image, dst: BinaryIO) -> None:
    if im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    im.save(dst, "JPEG", quality=92, optimize=True, **_save_kwargs(im))


def _save_png(im: Image.Image, dst: BinaryIO) -> None:
    kwargs = _save_kwargs(im)
    if "transparency" in im.info:
        kwargs["transparency"] = im.info["transparency"]
    im.save(dst, "PNG", **kwargs)


def _save_tiff_pages(src_im: Image.Image, dst: BinaryIO) -> None:
    """Write every page of ``src_im`` one at a time (bounded memory)."""
    n_frames = getattr(src_im, "n_frames", 1)
    if n_frames > MAX_TIFF_PAGES:
        raise UnsupportedFile("damaged")
    # AppendingTiffWriter needs a readable, seekable target.
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
        with TiffImagePlugin.AppendingTiffWriter(spool) as tf:
            for index in range(n_frames):
                src_im.seek(index)
                page = _clean_frame(src_im)
                compression = "group4" if page.mode == "1" else "tiff_adobe_deflate"
                page.save(tf, "TIFF", compression=compression, **_save_kwargs(page))
                tf.newFrame()
        spool.seek(0)
        while block := spool.read(1024 * 1024):
            dst.write(block)


def strip_image_metadata(src: BinaryIO, kind: str, dst: BinaryIO) -> None:
    """Re-encode a JPEG, PNG or TIFF without its metadata.

    EXIF (GPS, camera, dates), XMP, IPTC, comments and PNG text chunks are dropped;
    the EXIF orientation is applied to the pixels first. The ICC profile and the
    resolution are kept. JPEG is re-encoded at quality 92; PNG and TIFF losslessly;
    every TIFF page is kept. Raises ``UnsupportedFile("damaged")`` for an image
    that cannot be decoded or is larger than :data:`MAX_PIXELS`.
    """
    if kind not in IMAGE_KINDS:
        raise ValueError(f"not an image kind: {kind!r}")
    try:
        with Image.open(src, formats=_PIL_FORMATS[kind]) as im:
            _check_pixels(im)
            if kind == "tiff":
                _save_tiff_pages(im, dst)
                return
            clean = _clean_frame(im)
            if kind == "jpeg":
                _save_jpeg(clean, dst)
            else:
                _save_png(clean, dst)
    except UnsupportedFile:
        raise
    except Image.DecompressionBombError as exc:
        raise UnsupportedFile("damaged") from exc
    except Exception as exc:  # noqa: BLE001
        # Pillow reports malformed input through many exception types.
        raise UnsupportedFile("damaged") from exc


# --------------------------------------------------------------------------- names

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
    """"compte_rendu-IRM_2024.pdf" -> "Compte rendu IRM 2024"."""
    base = safe_filename(name)
    stem, dot, ext = base.rpartition(".")
    if dot and _extension(base) is not None:
        base = stem
    base = base.replace("_", " ")
    base = re.sub(r"(?<!\d)-|-(?!\d)", " ", base)  # keep dates such as 2024-03-01
    base = re.sub(r"\s+", " ", base).strip(" .")
    if not base or base == "document":
        return "Document"
    return base[0].upper() + base[1:]


# --------------------------------------------------------------------------- thumbnails

# PDFium is not thread-safe: serialise every call into it.
_PDFIUM_LOCK = threading.Lock()

Source = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO | Iterable[bytes]


def _as_file(src: Source) -> BinaryIO:
    if isinstance(src, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(src))
    if isinstance(src, (str, os.PathLike)):
        return open(Path(src), "rb")  # noqa: SIM115 - closed by the caller
    if hasattr(src, "read"):
        return src  # type: ignore[return-value]
    return io.BytesIO(b"".join(src))


def _encode_thumbnail(im: Image.Image) -> bytes:
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGB", im.size, "white")
        background.paste(im, mask=im.getchannel("A"))
        im = background
    elif im.mode != "RGB":
        im = im.convert("RGB")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _image_thumbnail(fh: BinaryIO, kind: str) -> bytes:
    with Image.open(fh, formats=_PIL_FORMATS[kind]) as im:
        _check_pixels(im)
        if kind == "jpeg":
            im.draft("RGB", (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))  # cheap DCT scaling
        im.load()
        upright = ImageOps.exif_transpose(im)
    upright.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return _encode_thumbnail(upright)


def _pdf_thumbnail(fh: BinaryIO) -> bytes:
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        # A seekable file is read by PDFium on demand: a large PDF never sits whole in memory.
        pdf = pdfium.PdfDocument(fh if hasattr(fh, "seek") else fh.read())
        try:
            page = pdf[0]
            try:
                width, height = page.get_size()
                if width <= 0 or height <= 0:
                    raise ValueError("empty page")
                # ~320 px wide; very tall pages are capped at twice that height
                scale = min(THUMBNAIL_SIZE / width, 2 * THUMBNAIL_SIZE / height)
                bitmap = page.render(scale=scale)
                try:
                    im = bitmap.to_pil().copy()
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            pdf.close()
    im.thumbnail((THUMBNAIL_SIZE, 2 * THUMBNAIL_SIZE))
    return _encode_thumbnail(im)


def thumbnail(src: Source, kind: str) -> bytes | None:
    """JPEG thumbnail (at most 320 px wide) of an image or of a PDF's first page.

    ``src`` may be bytes, a path, a binary file or an iterable of byte chunks (such
    as ``BlobStore.open(...)``). Returns None for text, or on any failure.
    """
    if kind not in IMAGE_KINDS and kind != "pdf":
        return None
    fh = None
    try:
        fh = _as_file(src)
        if kind == "pdf":
            return _pdf_thumbnail(fh)
        return _image_thumbnail(fh, kind)
    except Exception:  # noqa: BLE001 - a missing thumbnail is never fatal
        return None
    finally:
        if fh is not None and isinstance(src, (str, os.PathLike)):
            fh.close()
