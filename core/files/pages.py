"""A stored PDF or TIFF shown as pictures of its pages, drawn on the server.

A browser's PDF viewer runs the document's JavaScript (/OpenAction, /AA, /JS) even under a
`sandbox` CSP, so no Carnet page ever hands a stored PDF to one: the preview is a list of page
images drawn by PDFium (built without a JavaScript engine: no script of the document runs
here either), and the original is only ever downloaded (`Content-Disposition: attachment`).
Browsers do not show TIFF at all: a fax or a scanner's file, often of several pages, is drawn
the same way by Pillow (libtiff), so it can be read on a phone and at a kiosk, which cannot
download.

PDFium and libtiff read hostile input: every call runs in a child of the app's fork server
(PDFium and Pillow already imported) under limits on memory and CPU time and a deadline after
which it is killed, so a file that loops, explodes or crashes its reader costs a bounded
amount and never takes the worker down. At most RENDERERS children per worker draw at once; the rest wait.
The work needs no database: callers end their transaction first (core.db.before_slow_work).

Nothing here reads a request, the app or the database: inspect() at upload and on the document
page, render() per image, each given only the file's bytes.
"""

from __future__ import annotations

import io
import threading
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, TiffImagePlugin

from core import pdf as core_pdf
from core.files import images, thumbnails
from core.files.sniff import UnsupportedFile

#: The kinds of file shown as pictures of their pages.
KINDS = ("pdf", "tiff")
_TIFF = (b"II*\x00", b"MM\x00*")  # as sniff.py recognises a TIFF

#: Pages listed in a preview; past them the page says to download the file.
MAX_PAGES = 60
#: Width in pixels of a page image in the preview, and of the larger one a page links to.
WIDTHS = {"normal": 1000, "grande": 2000}
#: Most pixels of one page image (a very tall page is drawn narrower).
MAX_PIXELS = 2000 * 2900
#: Largest side of a page PDFium is asked about, in points (ISO 32000 allows 14,400).
MAX_POINTS = 14_400
TIMEOUT_SECONDS = 20
MEMORY_MB = 1536
#: How many children of one worker may draw at the same time (the others wait their turn).
RENDERERS = 2
_SLOTS = threading.BoundedSemaphore(RENDERERS)

MODULE = __name__
if MODULE not in core_pdf.FORKSERVER_PRELOAD:
    core_pdf.FORKSERVER_PRELOAD.append(MODULE)


class RenderError(RuntimeError):
    """The PDF (or this page of it) could not be read or drawn within the bounds."""


class NoSuchPage(RenderError):
    pass


@dataclass
class Info:
    """What the document page needs: whether it opens, and each listed page's size in points."""

    encrypted: bool = False  # needs a password to open (a user password; an owner password alone opens)
    page_count: int = 0
    #: The first MAX_PAGES pages' sizes: a PDF's in points, a TIFF's in pixels (its height as
    #: shown, see _tiff_size); only their proportions and a TIFF's pixels are used.
    sizes: list[tuple[float, float]] = field(default_factory=list)
    thumbnail: bytes | None = None  # asked for at upload only
    #: Page 1 drawn at each width, {size: (MIME type, bytes)}: asked for at upload only; None
    #: when it could not be drawn (the page then draws it when shown, and says so if it fails).
    first_page: dict[str, tuple[str, bytes]] | None = None

    @property
    def truncated(self) -> bool:
        return self.page_count > len(self.sizes)

    def layout(self) -> dict:
        """What the document page needs, as stored on the document (JSON)."""
        return {"encrypted": self.encrypted, "page_count": self.page_count, "sizes": [list(s) for s in self.sizes]}


#: The stored layout of a PDF PDFium could not read.
UNREADABLE = {"error": True}


def image_size(width: float, height: float, size: str = "normal") -> tuple[int, int]:
    """Pixel size of the image of a ``width`` x ``height`` page (points) at this size."""
    scale = _scale(width, height, WIDTHS[size])
    return max(1, round(width * scale)), max(1, round(height * scale))


def _scale(width: float, height: float, target: int) -> float:
    scale = target / width
    if width * height * scale * scale > MAX_PIXELS:
        scale = (MAX_PIXELS / (width * height)) ** 0.5
    return scale


# --------------------------------------------------------------------------- in the child


def _open(data: bytes):
    return pdfium.PdfDocument(data)


def _password_error(exc: BaseException) -> bool:
    return getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD


def _page_size(page) -> tuple[float, float]:
    width, height = page.get_size()  # after the page's /Rotate, as drawn
    if not (0 < width <= MAX_POINTS and 0 < height <= MAX_POINTS):
        raise RenderError("page size out of bounds")
    return float(width), float(height)


def _inspect(data: bytes, thumbnail: bool, max_pages: int, first_page: bool = False) -> Info:
    try:
        pdf = _open(data)
    except pdfium.PdfiumError as exc:
        if _password_error(exc):
            return Info(encrypted=True)
        raise
    drawn = thumb = None
    try:
        count = len(pdf)
        if count < 1:
            raise RenderError("no page")
        sizes = []
        for index in range(min(count, max_pages)):
            page = pdf[index]
            try:
                sizes.append(_page_size(page))
            finally:
                page.close()
        if first_page:
            drawn, thumb = _first_page(pdf, thumbnail)
    finally:
        pdf.close()
    if thumbnail and thumb is None:
        thumb = thumbnails.thumbnail(data, "pdf")
    return Info(page_count=count, sizes=sizes, thumbnail=thumb, first_page=drawn)


def _first_page(pdf, thumbnail: bool) -> tuple[dict[str, tuple[str, bytes]] | None, bytes | None]:
    """Page 1 at each width, and (if asked) the list's thumbnail made from its normal drawing.
    All from one loaded page, the larger drawing first: PDFium then decodes its pictures once."""
    try:
        page = pdf[0]
        try:
            photo = _photo(page)
            drawn, thumb = {}, None
            for size in sorted(WIDTHS, key=WIDTHS.get, reverse=True):
                with _drawn(page, size) as im:
                    drawn[size] = encode(im, photo)
                    if thumbnail and size == "normal":
                        thumb = thumbnails.of_drawing(im)
            return drawn, thumb
        finally:
            page.close()
    except Exception:  # a page PDFium cannot draw does not make the file unreadable
        return None, None


#: What a page may draw over a full-page picture that the picture's resolution would blur.
_DRAWN_OVER = [pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_SHADING]


def _scan_density(page) -> float | None:
    """Pixels per point of a page that is one image (a scan), None for any other page. A 150 dpi
    scan is 1,240 px across A4: its 2,000 px drawing was that many pixels enlarged, at twice the
    cost and three times the weight; the browser enlarges it as well."""
    image, _decoded = thumbnails.page_images(page)
    if image is None or not thumbnails.covers_page(page, image):
        return None
    if any(True for _obj in page.get_objects(filter=_DRAWN_OVER)):
        return None  # text or lines over the picture (a form, a letterhead) are sharper than it
    left, bottom, right, top = image.get_bounds()
    pixels = max(image.get_px_size())
    return pixels / max(right - left, top - bottom, 1.0) if pixels > 0 else None


def _photo(page) -> bool:
    """The page holds a picture in greys or colours: drawn as a JPEG. A page whose pictures are
    all black and white (a letter through an office scanner) is text, drawn lossless: its JPEG
    weighed more than the PNG (docs/performance.md, 92)."""
    return any(
        not thumbnails.bilevel(obj) for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)
    )


def _render(data: bytes, number: int, size: str, max_pages: int) -> tuple[str, bytes]:
    pdf = _open(data)
    try:
        if not 1 <= number <= min(len(pdf), max_pages):
            raise NoSuchPage(str(number))
        page = pdf[number - 1]
        try:
            with _drawn(page, size) as im:
                return encode(im, photo=_photo(page))
        finally:
            page.close()
    finally:
        pdf.close()


@contextmanager
def _drawn(page, size: str):
    """The page drawn at this width, as a Pillow image. Pillow takes PDFium's RGB bitmap by copy
    (it shares memory with RGBX, RGBA and L only); PDFium's bitmap is freed when the block ends,
    before the next drawing asks for fresh memory."""
    width, height = _page_size(page)
    scale = _scale(width, height, WIDTHS[size])
    density = _scan_density(page)
    if density is not None:  # wider would only enlarge the scan's own pixels
        scale = min(scale, density)
    # No form environment: forms are drawn from their appearance streams, nothing runs.
    # RGB byte order: the bitmap is the image's pixels as they are, no conversion.
    bitmap = page.render(scale=scale, may_draw_forms=False, rev_byteorder=True)
    try:
        yield bitmap.to_pil()
    finally:
        bitmap.close()


def encode(im, photo: bool, icc: bytes | None = None) -> tuple[str, bytes]:
    """(MIME type, bytes) of a drawn page. A scan or a photo in greys or colours: JPEG, a tenth of
    PNG's weight. Any other page: PNG, lossless, with one grey channel instead of three when every
    pixel is grey (most letters, prescriptions and results): half the bytes, a third of the time.
    A grey page's rows are mostly runs of white: zlib's run-length strategy finds them for half
    the time of its default search (docs/performance.md, 92). icc: a photo's colour profile."""
    out = io.BytesIO()
    if photo:
        im.save(out, "JPEG", quality=85, icc_profile=icc)
        return "image/jpeg", out.getvalue()
    if im.mode == "RGB" and _grey(im):
        # exact: with R = G = B, Pillow's luma weights add up to one; a colour profile describes
        # three channels, not this one
        im, icc = im.convert("L"), None
    if im.mode == "L":
        im.save(out, "PNG", compress_type=zlib.Z_RLE, icc_profile=icc)
    else:
        im.save(out, "PNG", icc_profile=icc)
    return "image/png", out.getvalue()


def _grey(im) -> bool:
    colours = im.getcolors(256)  # None past 256 colours: there are only 256 greys
    return colours is not None and all(red == green == blue for _count, (red, green, blue) in colours)


# --------------------------------------------------------------------------- a TIFF, in the child


def _tiff_size(im) -> tuple[float, float]:
    """A TIFF page's size as it is shown, in pixels: a fax in normal mode is scanned at 204 dpi
    across and 98 down, so its height is stretched back by that ratio."""
    images.check_pixels(im)
    width, height = im.size
    across, down = (im.tag_v2.get(tag) for tag in (TiffImagePlugin.X_RESOLUTION, TiffImagePlugin.Y_RESOLUTION))
    try:
        ratio = float(across) / float(down) if across and down else 1.0
    except (TypeError, ValueError, ZeroDivisionError):
        ratio = 1.0
    if not 0.25 <= ratio <= 4:  # not a scanner's: as it is
        ratio = 1.0
    return float(width), float(height) * ratio


def _open_tiff(data: bytes):
    try:
        return Image.open(io.BytesIO(data), formats=["TIFF"])
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise RenderError("not a TIFF Pillow can read") from exc


def _inspect_tiff(data: bytes, thumbnail: bool, max_pages: int, first_page: bool = False) -> Info:
    drawn = thumb = None
    with _open_tiff(data) as im:
        try:
            count = getattr(im, "n_frames", 1)
            sizes = []
            for index in range(min(count, max_pages)):
                im.seek(index)
                sizes.append(_tiff_size(im))
        except (OSError, ValueError, EOFError, UnsupportedFile, Image.DecompressionBombError) as exc:
            raise RenderError("a page of this TIFF cannot be read") from exc
        if first_page:
            drawn, thumb = _first_tiff_page(im, sizes[0], thumbnail)
    if thumbnail and thumb is None:
        thumb = thumbnails.thumbnail(data, "tiff")
    return Info(page_count=count, sizes=sizes, thumbnail=thumb, first_page=drawn)


def _first_tiff_page(im, size: tuple[float, float], thumbnail: bool):
    """Page 1 at each width from one decoding, and the list's thumbnail from its normal drawing."""
    try:
        im.seek(0)
        page = _tiff_pixels(im)
        drawn, thumb = {}, None
        for name in sorted(WIDTHS, key=WIDTHS.get, reverse=True):
            shown = _tiff_drawn(page, size, name)
            drawn[name] = _tiff_encode(shown, im)
            if thumbnail and name == "normal":
                thumb = thumbnails.of_drawing(shown)
        return drawn, thumb
    except Exception:  # noqa: BLE001 - a page that cannot be drawn does not make the file unreadable
        return None, None


def _tiff_pixels(im):
    """The current page decoded, in greys or RGB: black and white in greys, so that a reduced fax
    keeps the grey edges of its letters instead of losing strokes."""
    im.load()
    page = thumbnails.on_white(im)
    if page.mode == "1":
        return page.convert("L")
    return page if page.mode in ("L", "RGB") else page.convert("RGB")


def _tiff_drawn(page, size: tuple[float, float], name: str):
    """The page at this width, never wider than the scanner made it (enlarging adds no detail)."""
    width, height = size
    scale = min(_scale(width, height, WIDTHS[name]), 1.0)
    wanted = (max(1, round(width * scale)), max(1, round(height * scale)))
    if wanted == page.size:
        return page
    return page.resize(wanted, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _tiff_encode(shown, im) -> tuple[str, bytes]:
    """A page in black and white (a fax, an office scanner's letter) is drawn lossless, as a PDF's
    (92); greys and colours as a JPEG, with the file's colour profile when the pixels kept its
    colour space."""
    photo = im.mode != "1"
    icc = im.info.get("icc_profile") if photo and shown.mode == im.mode else None
    return encode(shown, photo, icc)


def _render_tiff(data: bytes, number: int, size: str, max_pages: int) -> tuple[str, bytes]:
    with _open_tiff(data) as im:
        if not 1 <= number <= min(getattr(im, "n_frames", 1), max_pages):
            raise NoSuchPage(str(number))
        try:
            im.seek(number - 1)
            shown = _tiff_drawn(_tiff_pixels(im), _tiff_size(im), size)
        except (OSError, ValueError, EOFError, UnsupportedFile, Image.DecompressionBombError) as exc:
            raise RenderError("this page of the TIFF cannot be drawn") from exc
        return _tiff_encode(shown, im)


def _work(data: bytes, op: str, args: tuple):
    if data.startswith(_TIFF):
        return _inspect_tiff(data, *args) if op == "inspect" else _render_tiff(data, *args)
    return _inspect(data, *args) if op == "inspect" else _render(data, *args)


# --------------------------------------------------------------------------- in the worker


def _run(op: str, args: tuple, data: bytes, timeout: float = TIMEOUT_SECONDS, memory_mb: int = MEMORY_MB):
    if not data.startswith((b"%PDF-", *_TIFF)):
        raise RenderError("neither a PDF nor a TIFF")
    if not _SLOTS.acquire(timeout=timeout):
        raise RenderError("too many pages being drawn")
    try:
        return core_pdf.run_bounded(
            _work,
            (op, args),
            data,
            error=RenderError,
            passed=(RenderError,),
            timeout=timeout,
            memory_mb=memory_mb,
            name="pdf-pages",
        )
    finally:
        _SLOTS.release()


def inspect(data: bytes, thumbnail: bool = False, first_page: bool = False) -> Info:
    """A PDF's or a TIFF's page count and sizes, or encrypted=True for a PDF that needs a
    password. At upload, thumbnail=True also draws the list's thumbnail in the same child, and
    first_page=True the first page at each width: what the document's page shows first, drawn
    once rather than on every view (a phone's 2,000 px drawing took a third of a second of CPU).
    Raises RenderError."""
    return _run("inspect", (thumbnail, MAX_PAGES, first_page), data)


def render(data: bytes, number: int, size: str = "normal") -> tuple[str, bytes]:
    """(MIME type, image bytes) of page ``number`` (from 1) of a PDF or a TIFF. Raises NoSuchPage,
    RenderError."""
    if size not in WIDTHS:
        raise ValueError(size)
    return _run("render", (number, size, MAX_PAGES), data)
