"""Image metadata removal: a photo's EXIF (GPS, camera, dates), XMP, IPTC and comments never
reach the store; its orientation, colour profile and resolution do. Plain Python (Pillow)."""

from __future__ import annotations

import re
import tempfile
from typing import BinaryIO

from PIL import Image, ImageOps, TiffImagePlugin

from core.files.sniff import IMAGE_KINDS, UnsupportedFile

#: Largest image accepted, in pixels per page (a 300 dpi A3 scan is ~17 Mpx).
MAX_PIXELS = 80_000_000
#: Most pages kept from a multi-page TIFF.
MAX_TIFF_PAGES = 500

# Pillow's own guard: warn above MAX_IMAGE_PIXELS, raise above twice that. Our
# explicit check against MAX_PIXELS below is the real limit.
if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS


PIL_FORMATS = {"jpeg": ["JPEG", "MPO"], "png": ["PNG"], "tiff": ["TIFF"]}
# Image.info keys that carry rendering information, not metadata.
_KEEP_INFO = ("icc_profile", "dpi", "transparency", "gamma")


def check_pixels(im: Image.Image) -> None:
    width, height = im.size
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise UnsupportedFile("damaged")


_ORIENTATION = 0x0112  # EXIF / TIFF tag


def exif_orientation(im: Image.Image) -> int | None:
    """The EXIF orientation when it asks for a rotation or a flip (2-8), else None."""
    try:
        value = im.getexif().get(_ORIENTATION)
    except Exception:  # noqa: BLE001 - a corrupt EXIF block has no usable orientation
        return None
    return value if isinstance(value, int) and 2 <= value <= 8 else None


def _clean_frame(frame: Image.Image) -> Image.Image:
    """Pixels only: orientation applied, every metadata block dropped."""
    check_pixels(frame)
    frame.load()
    info = {k: frame.info[k] for k in _KEEP_INFO if k in frame.info}
    if exif_orientation(frame) is not None:
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
    with Image.open(src, formats=PIL_FORMATS["jpeg"]) as im:
        check_pixels(im)
        orientation = exif_orientation(im)
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
        with Image.open(src, formats=PIL_FORMATS[kind]) as im:
            check_pixels(im)
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
