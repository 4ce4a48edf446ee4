"""Thumbnails of images and of a PDF's first page (core/files/thumbnails.py)."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from core.files import thumbnails
from core.files.thumbnails import thumbnail
from tests.documents.file_samples import (
    HANDMADE_PDF,
    assert_thumbnail,
    build_pdf,
    gps_exif,
    jpeg_pdf,
    make_jpeg,
    make_pdf,
    make_png,
    make_tiff,
    peak_growth_mb,
    quadrant_image,
)

# ------------------------------------------------------------------ thumbnails


def test_thumbnail_jpeg_from_bytes_path_file_and_chunks(tmp_path):
    jpeg = make_jpeg(size=(1200, 800), exif=gps_exif(orientation=6))
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg)
    chunks = [jpeg[i : i + 1000] for i in range(0, len(jpeg), 1000)]
    for src in (jpeg, path, str(path), io.BytesIO(jpeg), iter(chunks)):
        w, h = assert_thumbnail(thumbnail(src, "jpeg"))
        assert max(w, h) == 320 and h > w  # orientation applied
    thumb = thumbnail(jpeg, "jpeg")
    assert b"GPS" not in thumb and b"PhoneMaker" not in thumb


def test_thumbnail_png_with_alpha_and_tiff():
    assert_thumbnail(thumbnail(make_png(size=(500, 500), mode="RGBA"), "png"))
    assert_thumbnail(thumbnail(make_tiff(), "tiff"))


def test_thumbnail_pdf_first_page():
    w, h = assert_thumbnail(thumbnail(make_pdf(), "pdf"))
    assert 300 <= w <= 320 and h > w  # A4 portrait
    with Image.open(io.BytesIO(thumbnail(make_pdf(), "pdf"))) as im:
        assert im.convert("L").getpixel((w // 2, h // 2)) > 200  # white page
    assert_thumbnail(thumbnail(HANDMADE_PDF, "pdf"))


@pytest.mark.parametrize(
    "src, kind",
    [
        (b"%PDF-1.4 broken", "pdf"),
        (b"\xff\xd8\xffbroken", "jpeg"),
        (b"", "png"),
        (b"hello", "text"),
        ("/nonexistent/file.pdf", "pdf"),
        (make_png(), "exe"),
    ],
)
def test_thumbnail_never_raises(src, kind):
    assert thumbnail(src, kind) is None


# ------------------------------------------------------------------ PDF scans


def rendered_thumbnail(data, monkeypatch):
    """The thumbnail PDFium draws, the scan shortcut turned off."""
    with monkeypatch.context() as m:
        m.setattr(thumbnails, "_scan_thumbnail", lambda page, image: None)
        return thumbnail(data, "pdf")


def coarse(data):
    with Image.open(io.BytesIO(data)) as im:
        cells = im.convert("RGB").resize((4, 4), Image.Resampling.BOX).tobytes()
        return im.size, [tuple(cells[i : i + 3]) for i in range(0, len(cells), 3)]


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
@pytest.mark.parametrize(
    "matrix",
    [
        (595, 0, 0, 842, 0, 0),
        (-595, 0, 0, 842, 595, 0),
        (595, 0, 0, -842, 0, 842),
        (-595, 0, 0, -842, 595, 842),
        (0, 842, 595, 0, 0, 0),
        (0, -842, -595, 0, 595, 842),
        (0, 842, -595, 0, 595, 0),
        (0, -842, 595, 0, 0, 842),
    ],
)
def test_pdf_scan_thumbnail_matches_the_rendered_page(matrix, rotate, monkeypatch):
    data = jpeg_pdf(quadrant_image(), matrix, rotate=rotate, quality=95)
    fast = thumbnail(data, "pdf")
    drawn = rendered_thumbnail(data, monkeypatch)
    (size_fast, cells_fast), (size_drawn, cells_drawn) = coarse(fast), coarse(drawn)
    assert abs(size_fast[0] - size_drawn[0]) <= 1 and abs(size_fast[1] - size_drawn[1]) <= 1
    for a, b in zip(cells_fast, cells_drawn):
        assert max(abs(x - y) for x, y in zip(a, b)) < 40, (cells_fast, cells_drawn)


def test_pdf_page_with_a_small_jpeg_is_drawn(monkeypatch):
    # the image covers a corner only: the page itself (white) must show
    data = jpeg_pdf(quadrant_image(), (100, 0, 0, 80, 20, 20))
    w, h = assert_thumbnail(thumbnail(data, "pdf"))
    assert (w, h) == (320, 453)
    with Image.open(io.BytesIO(thumbnail(data, "pdf"))) as im:
        assert im.convert("L").getpixel((w // 2, h // 2)) > 240


def test_pdf_grey_scan_thumbnail():
    im = Image.linear_gradient("L").resize((620, 877))
    w, h = assert_thumbnail(thumbnail(jpeg_pdf(im), "pdf"))
    assert (w, h) == (320, 453)


def test_pdf_page_with_huge_non_jpeg_images_gets_no_thumbnail():
    width, height = 3000, 2000  # 24 MB once decoded by PDFium
    raw = zlib.compress(b"\x80" * (width * height * 3))
    image_dict = b"/Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode" % (
        width,
        height,
    )
    assert thumbnail(build_pdf(image_dict, raw, (595, 0, 0, 842, 0, 0)), "pdf") is None
    small = zlib.compress(b"\x80" * (300 * 200 * 3))
    image_dict = b"/Width 300 /Height 200 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode"
    assert_thumbnail(thumbnail(build_pdf(image_dict, small, (595, 0, 0, 842, 0, 0)), "pdf"))


@pytest.fixture(scope="session")
def scanned_pdf(tmp_path_factory):
    """A PDF whose page 1 is an A4 page scanned at 300 dpi (2480 x 3508 JPEG)."""
    im = Image.linear_gradient("L").resize((2480, 3508)).convert("RGB")
    im.paste((20, 20, 160), (200, 300, 2280, 600))
    path = tmp_path_factory.mktemp("pdfs") / "scan.pdf"
    path.write_bytes(jpeg_pdf(im, quality=50))
    return path


def test_pdf_scan_thumbnail_stays_small(scanned_pdf):
    data = thumbnail(scanned_pdf, "pdf")
    w, h = assert_thumbnail(data)
    assert (w, h) == (320, 453)
    assert len(data) < 40_000
    with Image.open(io.BytesIO(data)) as im:
        r, g, b = im.convert("RGB").getpixel((160, 40))  # the blue band near the top
        assert b > 120 and r < 60
    # decoding the scan at full size, as drawing the page does, would alone take 26 MB
    assert peak_growth_mb("pdf", scanned_pdf) < 16
