"""A PDF's pages drawn as images: lossless for what is not a photo, one channel when grey."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from blueprints.documents import pages
from tests.documents.pdf_samples import FONT, _stream, build, report, text_pdf
from tests.documents.test_thumbnails import jpeg_pdf, quadrant_image


def grey_pdf() -> bytes:
    """A letter printed in black and greys only, as most prescriptions and results are."""
    content = (
        b"BT /F1 14 Tf 72 760 Td 20 TL (Ordonnance du Dr Martin) ' (Paracetamol 1 g, 3 fois par jour.) ' ET\n"
        b"0.5 G 1 w 72 700 m 523 700 l S 0.85 g 72 600 451 60 re f"
    )
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [10 0 R] /Count 1 >>",
        3: FONT,
        10: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
        b" /Contents 11 0 R >>",
        11: _stream(content),
    }
    return build(objects)


def drawn_as_before(data: bytes, size: str) -> Image.Image:
    """The page as it was drawn before one-channel pages: PDFium's BGR bitmap turned to RGB."""
    pdf = pages._open(data)
    page = pdf[0]
    width, height = pages._page_size(page)
    bitmap = page.render(scale=pages._scale(width, height, pages.WIDTHS[size]), may_draw_forms=False)
    try:
        return bitmap.to_pil().convert("RGB")
    finally:
        bitmap.close()
        page.close()
        pdf.close()


def drawn(data: bytes, size: str) -> tuple[str, Image.Image]:
    mime, body = pages._work(data, "render", (1, size, pages.MAX_PAGES))
    with Image.open(io.BytesIO(body)) as im:
        im.load()
        return mime, im


@pytest.mark.parametrize("size", sorted(pages.WIDTHS))
def test_a_grey_page_is_one_channel_with_the_same_pixels(size):
    data = grey_pdf()
    mime, im = drawn(data, size)
    assert (mime, im.mode) == ("image/png", "L")
    before = drawn_as_before(data, size)
    assert im.size == before.size
    assert im.convert("RGB").tobytes() == before.tobytes()  # lossless: not one pixel differs
    assert len(im.getcolors(256)) > 2  # anti-aliased text and the greys, not a thresholded page


@pytest.mark.parametrize("size", sorted(pages.WIDTHS))
def test_a_page_in_colour_keeps_every_colour(size):
    data = text_pdf(report(1))  # a blue frame around the text
    mime, im = drawn(data, size)
    assert (mime, im.mode) == ("image/png", "RGB")
    assert im.tobytes() == drawn_as_before(data, size).tobytes()


def test_a_scan_is_still_a_jpeg():
    mime, im = drawn(jpeg_pdf(quadrant_image()), "normal")
    assert (mime, im.format, im.mode) == ("image/jpeg", "JPEG", "RGB")


def test_one_grey_pixel_in_colour_is_enough_to_keep_three_channels():
    im = Image.new("RGB", (40, 30), (120, 120, 120))
    im.putpixel((39, 29), (120, 120, 121))
    mime, body = pages.encode(im, photo=False)
    with Image.open(io.BytesIO(body)) as out:
        assert (mime, out.mode) == ("image/png", "RGB")
        assert out.getpixel((39, 29)) == (120, 120, 121)
