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


_ORIENTATION = 0x0112  # EXIF / TIFF tag


def _orientation(im: Image.Image) -> int | None:
    """The EXIF orientation when it asks for a rotation or a flip (2-8), else None."""
    try:
        value = im.getexif().get(_ORIENTATION)
    except Exception:  # noqa: BLE001 - a corrupt EXIF block has no usable orientation
        return None
    return value if isinstance(value, int) and 2 <= value <= 8 else None


def _clean_frame(frame: Image.Image) -> Image.Image:
    """Pixels only: orientation applied, every metadata block dropped."""
    _check_pixels(frame)
    frame.load()
    info = {k: frame.info[k] for k in _KEEP_INFO if k in frame.info}
    if _orientation(frame) is not None:
        upright = ImageOps.exif_transpose(frame)  # a new, transposed plain Image
    else:
        # A plain Image over the same pixels: no copy, and none of the file's own tags
        # (a TIFF file object would carry its XMP/IPTC tags into the saved copy).
        upright = frame._new(frame.im)
    upright.info = info
    return upright


def _save_kwargs(im: Image.Image) -> dict:
    kwargs: dict = {}
    if "icc_profile" in im.info:
        kwargs["icc_profile"] = im.info["icc_profile"]
    if "dpi" in im.info:
        kwargs["dpi"] = tuple(round(float(v)) or 72 for v in im.info["dpi"])
    return kwargs


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
                del page
                tf.newFrame()
        spool.seek(0)
        while block := spool.read(1024 * 1024):
            dst.write(block)


# JPEG segments are copied as they are, without decoding the pixels.
_JPEG_CHUNK = 1024 * 1024
# A marker inside entropy-coded data: 0xFF followed by neither a stuffed 0x00, a
# restart marker (RST0-7, part of the scan) nor a fill byte.
_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# Segments that describe the image: SOFn, DHT, DAC (0xC0-0xCF), SOS, DQT, DNL, DRI, DHP, EXP.
_JPEG_STRUCTURE = frozenset(range(0xC0, 0xD0)) | frozenset(range(0xDA, 0xE0))


class _JpegReader:
    """Buffered reading of a JPEG stream in chunks of at most about 1 MiB."""

    def __init__(self, src: BinaryIO) -> None:
        self.src = src
        self.buf = b""
        self.pos = 0

    def _more(self, wanted: int = _JPEG_CHUNK) -> None:
        block = self.src.read(max(wanted, _JPEG_CHUNK))
        if not block:
            raise UnsupportedFile("damaged")  # ends in the middle of the image
        self.buf = self.buf[self.pos :] + block
        self.pos = 0

    def read(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n:
            self._more(n)
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def copy_entropy(self, dst: BinaryIO) -> None:
        """Copy the entropy-coded data of a scan, up to the next marker (not included)."""
        while True:
            found = _ENTROPY_END.search(self.buf, self.pos)
            if found:
                dst.write(memoryview(self.buf)[self.pos : found.start()])
                self.pos = found.start()
                return
            end = len(self.buf)
            if end > self.pos and self.buf[end - 1] == 0xFF:
                end -= 1  # may be the first byte of a marker: keep it for the next search
            dst.write(memoryview(self.buf)[self.pos : end])
            self.pos = end
            self._more()


def _keep_jpeg_segment(marker: int, payload: bytes) -> bytes | None:
    """The payload to write back for a segment, or None to drop it."""
    if marker in _JPEG_STRUCTURE:
        return payload
    if marker == 0xE0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
        return payload[:12] + b"\x00\x00"  # JFIF density kept, embedded thumbnail dropped
    if marker == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"):
        return payload
    if marker == 0xEE and payload.startswith(b"Adobe"):
        return payload  # colour transform of CMYK / YCCK images
    # APP1 (EXIF, XMP), other APPn (MPF, IPTC, maker data), COM and reserved markers.
    return None


def _orientation_segment(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[_ORIENTATION] = orientation
    payload = exif.tobytes()  # b"Exif\0\0" + a TIFF structure holding that one tag
    if not payload.startswith(b"Exif\x00\x00"):
        payload = b"Exif\x00\x00" + payload
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload


def _copy_jpeg_without_metadata(src: BinaryIO, dst: BinaryIO, orientation: int | None) -> None:
    """Copy a JPEG marker by marker, keeping only what rendering needs.

    The entropy-coded data is copied unchanged; anything after the end-of-image marker
    (second MPO pictures, vendor trailers) is dropped.
    """
    reader = _JpegReader(src)
    if reader.read(2) != b"\xff\xd8":
        raise UnsupportedFile("damaged")
    dst.write(b"\xff\xd8")
    pending_exif = _orientation_segment(orientation) if orientation else None
    while True:
        if reader.read(1) != b"\xff":
            raise UnsupportedFile("damaged")
        marker = reader.read(1)[0]
        while marker == 0xFF:  # fill bytes
            marker = reader.read(1)[0]
        if marker == 0xD9:  # EOI
            dst.write(b"\xff\xd9")
            return
        if marker == 0x01:  # TEM: no length, no meaning for decoding
            continue
        if marker in (0x00, 0xD8) or 0xD0 <= marker <= 0xD7:
            raise UnsupportedFile("damaged")  # RSTn only occur inside a scan
        length = int.from_bytes(reader.read(2), "big")
        if length < 2:
            raise UnsupportedFile("damaged")
        payload = reader.read(length - 2)
        if pending_exif is not None and marker != 0xE0:
            dst.write(pending_exif)  # right after SOI and JFIF, as cameras place it
            pending_exif = None
        kept = _keep_jpeg_segment(marker, payload)
        if kept is not None:
            dst.write(b"\xff" + bytes((marker,)) + (len(kept) + 2).to_bytes(2, "big") + kept)
        if marker == 0xDA:  # SOS: its entropy-coded data follows
            reader.copy_entropy(dst)


def _strip_jpeg(src: BinaryIO, dst: BinaryIO) -> None:
    start = src.tell()
    with Image.open(src, formats=_PIL_FORMATS["jpeg"]) as im:
        _check_pixels(im)
        orientation = _orientation(im)
        # Prove the data decodes, at 1/8 scale so no full-size buffer is allocated.
        im.draft(None, (1, 1))
        im.load()
    src.seek(start)
    _copy_jpeg_without_metadata(src, dst, orientation)


def strip_image_metadata(src: BinaryIO, kind: str, dst: BinaryIO) -> None:
    """Write a copy of a JPEG, PNG or TIFF without its metadata.

    EXIF (GPS, camera, dates), XMP, IPTC, comments and PNG text chunks are dropped.
    The ICC profile and the resolution are kept.

    JPEG is not re-encoded: its segments are copied with the compressed pixels
    unchanged, all APPn blocks except JFIF, ICC_PROFILE and Adobe (colour) and all
    comments are dropped, and so is anything after the end of the image. An EXIF
    orientation (2-8) is written back as the only EXIF tag, so viewers still turn the
    photo upright. The image is decoded at 1/8 scale only to check that it decodes,
    so memory stays small whatever the photo's size.

    PNG and TIFF are decoded and re-encoded losslessly with the EXIF orientation
    applied to the pixels; every TIFF page is kept.

    Raises ``UnsupportedFile("damaged")`` for an image that cannot be decoded or is
    larger than :data:`MAX_PIXELS`.
    """
    if kind not in IMAGE_KINDS:
        raise ValueError(f"not an image kind: {kind!r}")
    try:
        if kind == "jpeg":
            _strip_jpeg(src, dst)
            return
        with Image.open(src, formats=_PIL_FORMATS[kind]) as im:
            _check_pixels(im)
            if kind == "tiff":
                _save_tiff_pages(im, dst)
                return
            _save_png(_clean_frame(im), dst)
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
            # DCT scaling: decode at 1/2 to 1/8 of the size, never below the thumbnail's.
            im.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        im.load()
        if _orientation(im) is not None:
            im = ImageOps.exif_transpose(im)
        else:
            im = im._new(im.im)  # no pixel copy
    im.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return _encode_thumbnail(im)


#: Most decoded image data (bytes) PDFium may need to draw a page for a thumbnail;
#: above it a page that is not a plain JPEG scan gets no thumbnail.
PDF_RENDER_IMAGE_BYTES = 20 * 1024 * 1024
#: Share of the page a single JPEG must cover to stand for the whole page.
_SCAN_COVERAGE = 0.85
# Image-space -> thumbnail orientation of an axis-aligned PDF image matrix, keyed by
# the signs of (a, b, c, d); see _scan_transpose.
_PDF_IMAGE_TRANSPOSE = {
    (1, 0, 0, 1): None,
    (-1, 0, 0, 1): Image.Transpose.FLIP_LEFT_RIGHT,
    (1, 0, 0, -1): Image.Transpose.FLIP_TOP_BOTTOM,
    (-1, 0, 0, -1): Image.Transpose.ROTATE_180,
    (0, -1, -1, 0): Image.Transpose.TRANSPOSE,
    (0, 1, 1, 0): Image.Transpose.TRANSVERSE,
    (0, 1, -1, 0): Image.Transpose.ROTATE_90,
    (0, -1, 1, 0): Image.Transpose.ROTATE_270,
}
_SWAPS_AXES = (Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE,
               Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270)
# /Rotate of the page (clockwise) -> Pillow transpose (counter-clockwise names).
_PAGE_ROTATION = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                  270: Image.Transpose.ROTATE_90}


class _BufferFile(io.RawIOBase):
    """A read-only, seekable file over a buffer, without copying it."""

    def __init__(self, buffer) -> None:
        super().__init__()
        self._view = memoryview(buffer).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        chunk = self._view[self._pos : self._pos + len(target)]
        n = len(chunk)
        memoryview(target).cast("B")[:n] = chunk
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view.release()
        super().close()


def _sign(value: float, scale: float) -> int:
    if abs(value) <= scale * 1e-6:
        return 0
    return 1 if value > 0 else -1


def _scan_transpose(matrix: tuple[float, ...]) -> tuple[bool, Image.Transpose | None]:
    """(usable, transpose) for an image drawn with ``matrix`` (a, b, c, d, e, f).

    Image samples (u right, v down) land on the page at X = a*u - c*v, Y = -b*u + d*v
    (Y downwards); only the eight axis-aligned placements are usable.
    """
    a, b, c, d = matrix[:4]
    scale = max(abs(a), abs(b), abs(c), abs(d))
    if not scale:
        return False, None
    key = (_sign(a, scale), _sign(b, scale), _sign(c, scale), _sign(d, scale))
    if key not in _PDF_IMAGE_TRANSPOSE:
        return False, None
    return True, _PDF_IMAGE_TRANSPOSE[key]


def _fit(width: float, height: float) -> tuple[int, int]:
    """Size of a thumbnail of a ``width`` x ``height`` page: 320 px wide, at most 640 high."""
    scale = min(THUMBNAIL_SIZE / width, 2 * THUMBNAIL_SIZE / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _page_images(page) -> tuple[object | None, int]:
    """The largest image drawn directly on the page, and what all its images decode to."""
    import pypdfium2.raw as pdfium_c

    largest, largest_px, decoded = None, 0, 0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        width, height = obj.get_px_size()
        filters = obj.get_filters()
        bilevel = any(f in ("CCITTFaxDecode", "JBIG2Decode") for f in filters)
        decoded += width * height // 8 if bilevel else width * height * 4
        if obj.level == 0 and width * height > largest_px:
            largest, largest_px = obj, width * height
    return largest, decoded


def _scan_thumbnail(page, image) -> Image.Image | None:
    """Thumbnail of a page that is one JPEG (a scan), decoded at reduced size by Pillow."""
    if image is None or image.get_filters() != ["DCTDecode"]:
        return None
    usable, transpose = _scan_transpose(image.get_matrix().get())
    if not usable:
        return None
    left, bottom, right, top = image.get_bounds()
    c_left, c_bottom, c_right, c_top = page.get_cropbox()
    covered = (min(right, c_right) - max(left, c_left)) * (min(top, c_top) - max(bottom, c_bottom))
    page_area = (c_right - c_left) * (c_top - c_bottom)
    if page_area <= 0 or covered < _SCAN_COVERAGE * page_area:
        return None
    rotation = page.get_rotation() % 360
    if rotation in (90, 270):
        size = _fit(top - bottom, right - left)
    else:
        size = _fit(right - left, top - bottom)
    # Image axes swapped on screen by the placement and the page rotation together?
    swap = (transpose in _SWAPS_AXES) != (rotation in (90, 270))
    # the JPEG file as stored, still compressed, read in place (BytesIO would copy it)
    stream = _BufferFile(image.get_data(decode_simple=False))
    with Image.open(stream, formats=["JPEG"]) as im:
        _check_pixels(im)
        # DCT scaling: decode at 1/2 to 1/8 of the size, never below the thumbnail's.
        im.draft("RGB", size[::-1] if swap else size)
        im.load()
        small = im._new(im.im)
    stream.close()
    if transpose is not None:
        small = small.transpose(transpose)
    if rotation in _PAGE_ROTATION:
        small = small.transpose(_PAGE_ROTATION[rotation])
    if small.mode not in ("RGB", "L"):
        small = small.convert("RGB")
    return small.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _pdf_thumbnail(fh: BinaryIO) -> bytes | None:
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
                largest, decoded = _page_images(page)
                try:
                    im = _scan_thumbnail(page, largest)
                except Exception:  # noqa: BLE001 - e.g. a JPEG only PDFium decodes: draw the page
                    im = None
                if im is None:
                    if decoded > PDF_RENDER_IMAGE_BYTES:
                        return None  # PDFium decodes images at full size to draw them
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

    Memory stays small: a JPEG is decoded at reduced size (DCT scaling); a PDF page
    that is one JPEG covering the page (a scan) is thumbnailed the same way from the
    JPEG stored in the PDF, in its placement and the page's rotation; any other page
    is drawn by PDFium at thumbnail size, unless its images would decode to more than
    :data:`PDF_RENDER_IMAGE_BYTES` (PDFium decodes them at full size), in which case
    there is no thumbnail.
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
