"""A photo (JPEG or PNG) drawn at upload at the widths a document's page shows, as a PDF's first
page is (pages.py): a phone's 12-megapixel photo of a prescription weighs several megabytes, and
a phone's screen needs a tenth of its pixels. The file itself is kept as it came, for download.
Plain Python (Pillow), in the worker, as the photo's thumbnail always was."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from PIL import Image, ImageOps

from core.files import images, pages, thumbnails

#: The kinds a browser shows itself, so their page shows them (a TIFF shows its thumbnail).
KINDS = ("jpeg", "png")
#: Orientations (EXIF) that swap the photo's width and height.
_SWAPPED = (5, 6, 7, 8)
#: How far a drawing's width may be from pages.WIDTHS (below, above), so that a JPEG decoded at a
#: half or a quarter of its size (DCT scaling) is drawn as it came out, or averaged two by two:
#: resampling a 12-megapixel photo's half by 1 % costs 59 ms, six times its encoding. The large
#: drawing serves the screens that need more than 1,000 px (a phone at density 3: 1,170; a large
#: screen's column at density 2: 1,150): from 1,500 px it serves them all, and a photo taken
#: upright (3,024 px wide) is decoded at half size instead of whole.
_BANDS = {"normal": (0.9, 1.1), "grande": (0.75, 1.1)}


@dataclass
class Drawn:
    """The upright photo's width; its drawings {size: (MIME type, bytes)} and their widths in
    pixels, only those lighter than the file; the list's thumbnail, drawn from the smaller one."""

    width: int
    drawings: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    widths: dict[str, int] = field(default_factory=dict)
    thumbnail: bytes | None = None


def _upright_size(im: Image.Image) -> tuple[int, int]:
    width, height = im.size
    return (height, width) if images.exif_orientation(im) in _SWAPPED else (width, height)


def _plain(im: Image.Image) -> Image.Image:
    """RGB or greys, a transparent background made white (as the page's paper)."""
    im = thumbnails.on_white(im)
    return im if im.mode in ("RGB", "L") else im.convert("RGB")


def _reduced(im: Image.Image, size: str) -> Image.Image:
    """The image about as wide as this size's drawing (_BANDS): as it is when it is already; from
    about twice as wide, averaged two by two (a tenth of a resampling's time)."""
    width, height = im.size
    target, (low, high) = pages.WIDTHS[size], _BANDS[size]
    if width <= target * high:
        return im
    if target * 2 * low <= width <= target * 2 * high:
        return im.reduce(2)
    return im.resize((target, max(1, round(height * target / width))), Image.Resampling.LANCZOS, reducing_gap=2.0)


def draw(src: BinaryIO, kind: str, weight: int | None = None) -> Drawn:
    """Draw the photo at each width narrower than it, from the largest down. A JPEG is decoded
    at the smallest scale that still covers the large drawing (DCT scaling, _BANDS), drawn as a JPEG;
    a PNG (a screenshot, a scan saved losslessly) stays lossless (pages.encode). Orientation is
    applied; the colour profile is kept. A drawing no lighter than the file is not kept: the
    file (of `weight` bytes) is as good to send."""
    src.seek(0)
    im = Image.open(src, formats=images.PIL_FORMATS[kind])  # the caller's file: it closes it
    images.check_pixels(im)
    width, height = _upright_size(im)
    wanted = sorted((s for s in pages.WIDTHS if pages.WIDTHS[s] < width), key=pages.WIDTHS.get, reverse=True)
    if not wanted:
        return Drawn(width)
    if kind == "jpeg":
        scale = pages.WIDTHS[wanted[0]] * _BANDS[wanted[0]][0] / width
        im.draft("RGB", (round(im.size[0] * scale), round(im.size[1] * scale)))
    im.load()
    upright = ImageOps.exif_transpose(im) if images.exif_orientation(im) is not None else im
    current = _plain(upright)
    # a profile of other channels (CMYK, a palette) no longer describes the converted pixels
    icc = upright.info.get("icc_profile") if current is upright else None
    drawn = Drawn(width)
    for size in wanted:
        current = _reduced(current, size)
        mime, data = pages.encode(current, photo=kind == "jpeg", icc=icc)
        if weight is None or len(data) < weight:
            drawn.drawings[size], drawn.widths[size] = (mime, data), current.width
    if "normal" not in drawn.drawings:  # the page shows the file: a large drawing alone is unused
        drawn.drawings, drawn.widths = {}, {}
    drawn.thumbnail = thumbnails.of_drawing(current)  # the last drawn is the smaller
    return drawn
