"""Thumbnails of images and of a PDF's first page, small in memory whatever the file's size.
Plain Python (Pillow, PDFium)."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps

from core.files import images
from core.files.sniff import IMAGE_KINDS

THUMBNAIL_SIZE = 320
THUMBNAIL_MIME = "image/jpeg"


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


def on_white(im: Image.Image) -> Image.Image:
    """An image in eight bits as a browser shows it: greys of 16 bits (a PNG from imaging
    software) scaled, not clipped to white; transparency laid on white (the page's paper)."""
    if im.mode == "I" or im.mode.startswith("I;16"):
        return im.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGB", im.size, "white")
        background.paste(im, mask=im.getchannel("A"))
        return background
    return im


def _encode_thumbnail(im: Image.Image) -> bytes:
    im = on_white(im)
    if im.mode != "RGB":
        im = im.convert("RGB")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _image_thumbnail(fh: BinaryIO, kind: str) -> bytes:
    with Image.open(fh, formats=images.PIL_FORMATS[kind]) as im:
        images.check_pixels(im)
        if kind == "jpeg":
            # DCT scaling: decode at 1/2 to 1/8 of the size, never below the thumbnail's.
            im.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        im.load()
        if images.exif_orientation(im) is not None:
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
_SWAPS_AXES = (
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_270,
)
# /Rotate of the page (clockwise) -> Pillow transpose (counter-clockwise names).
_PAGE_ROTATION = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}


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


#: The codings of an image of one bit a pixel, black and white: how office scanners write a page.
BILEVEL_FILTERS = frozenset({"CCITTFaxDecode", "JBIG2Decode"})


def bilevel(image) -> bool:
    """An image in black and white, one bit a pixel (CCITT fax or JBIG2 coding)."""
    return not BILEVEL_FILTERS.isdisjoint(image.get_filters())


def page_images(page) -> tuple[object | None, int]:
    """The largest image drawn directly on the page, and what all its images decode to."""
    largest, largest_px, decoded = None, 0, 0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        width, height = obj.get_px_size()
        decoded += width * height // 8 if bilevel(obj) else width * height * 4
        if obj.level == 0 and width * height > largest_px:
            largest, largest_px = obj, width * height
    return largest, decoded


def covers_page(page, image) -> bool:
    """The image covers (almost) the whole page: a scan."""
    left, bottom, right, top = image.get_bounds()
    c_left, c_bottom, c_right, c_top = page.get_cropbox()
    covered = (min(right, c_right) - max(left, c_left)) * (min(top, c_top) - max(bottom, c_bottom))
    page_area = (c_right - c_left) * (c_top - c_bottom)
    return page_area > 0 and covered >= _SCAN_COVERAGE * page_area


def _scan_thumbnail(page, image) -> Image.Image | None:
    """Thumbnail of a page that is one JPEG (a scan), decoded at reduced size by Pillow."""
    if image is None or image.get_filters() != ["DCTDecode"]:
        return None
    usable, transpose = _scan_transpose(image.get_matrix().get())
    if not usable:
        return None
    if not covers_page(page, image):
        return None
    left, bottom, right, top = image.get_bounds()
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
        images.check_pixels(im)
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
    with _PDFIUM_LOCK:
        # A seekable file is read by PDFium on demand: a large PDF never sits whole in memory.
        pdf = pdfium.PdfDocument(fh if hasattr(fh, "seek") else fh.read())
        try:
            page = pdf[0]
            try:
                width, height = page.get_size()
                if width <= 0 or height <= 0:
                    raise ValueError("empty page")
                largest, decoded = page_images(page)
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


#: A drawn page is first halved by averaging (Pillow's reduce) when it is at least three times
#: the thumbnail's width: from a 1,000 px drawing, half the time of a full Lanczos pass to
#: 320 px, within 0.2 levels of 255 of it on average for a letter (docs/performance.md, 65).
DRAWING_REDUCING_GAP = 1.5


def of_drawing(im: Image.Image) -> bytes:
    """Thumbnail of a page already drawn larger (a PDF's first page drawn at upload)."""
    return _encode_thumbnail(im.resize(_fit(*im.size), Image.Resampling.LANCZOS, reducing_gap=DRAWING_REDUCING_GAP))


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
