"""A PDF's pages drawn as images: lossless for what is not a photo, one channel when grey."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from blueprints.documents import previews
from core.db import db
from core.files import pages, thumbnails
from tests.documents.file_samples import jpeg_pdf, quadrant_image
from tests.documents.pdf_samples import FONT, _stream, build, encrypted_pdf, multipage_pdf, report, text_pdf
from tests.helpers import add_text, blob_files, statements


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


#: A printed page scanned in black and white at 300 dpi, one bit a pixel in CCITT G4, as an
#: office scanner writes it (tests/documents/fixtures/README.md).
BLACK_AND_WHITE_SCAN = Path(__file__).parent / "fixtures" / "scan-noir-et-blanc.pdf"
#: The same kind of page in JBIG2, as libtiff's tiff2pdf writes it.
BLACK_AND_WHITE_JBIG2 = Path(__file__).parent / "fixtures" / "scan-noir-et-blanc-jbig2.pdf"


@pytest.mark.parametrize("scan", [BLACK_AND_WHITE_SCAN, BLACK_AND_WHITE_JBIG2], ids=["ccitt", "jbig2"])
@pytest.mark.parametrize("size", sorted(pages.WIDTHS))
def test_a_page_scanned_in_black_and_white_is_drawn_lossless_and_lighter_than_its_jpeg(size, scan):
    data = scan.read_bytes()
    mime, im = drawn(data, size)
    assert (mime, im.mode) == ("image/png", "L")  # text, not a photo: its letters as PDFium drew them
    before = drawn_as_before(data, size)
    assert im.size == before.size
    assert im.convert("RGB").tobytes() == before.tobytes()
    as_a_photo = io.BytesIO()
    before.save(as_a_photo, "JPEG", quality=85)  # how it was drawn before: heavier, and blurred
    assert len(pages.render(data, 1, size)[1]) < 0.8 * as_a_photo.tell()


def test_a_black_and_white_scan_uploaded_keeps_its_first_page_as_a_png(app, space):
    doc = add_text(space, BLACK_AND_WHITE_SCAN.read_bytes(), "courrier-scanne.pdf")
    db.session.commit()
    assert doc.first_page["mime"] == "image/png"
    mime, image = previews.page_image(space, doc, 1, "normal")
    assert mime == "image/png" and Image.open(io.BytesIO(image)).size == (1000, 1414)


def test_a_page_with_a_picture_in_greys_is_still_a_photo_beside_black_and_white():
    pdf = pages._open(BLACK_AND_WHITE_SCAN.read_bytes())
    try:
        assert pages._photo(pdf[0]) is False
    finally:
        pdf.close()
    pdf = pages._open(jpeg_pdf(quadrant_image().convert("L")))
    try:
        assert pages._photo(pdf[0]) is True
    finally:
        pdf.close()


def test_a_grey_page_is_written_with_zlibs_run_length_strategy():
    """docs/performance.md, 92: the same pixels, found by zlib's run-length strategy."""
    page = drawn_as_before(grey_pdf(), "grande").convert("L")
    mime, body = pages.encode(page.convert("RGB"), photo=False)
    expected = io.BytesIO()
    page.save(expected, "PNG", compress_type=zlib.Z_RLE)
    assert (mime, body) == ("image/png", expected.getvalue())
    assert Image.open(io.BytesIO(body)).tobytes() == page.tobytes()


def test_one_grey_pixel_in_colour_is_enough_to_keep_three_channels():
    im = Image.new("RGB", (40, 30), (120, 120, 120))
    im.putpixel((39, 29), (120, 120, 121))
    mime, body = pages.encode(im, photo=False)
    with Image.open(io.BytesIO(body)) as out:
        assert (mime, out.mode) == ("image/png", "RGB")
        assert out.getpixel((39, 29)) == (120, 120, 121)


@pytest.fixture
def drawings(monkeypatch):
    """Every call into PDFium's bounded child, by operation."""
    calls, real = [], pages._run
    monkeypatch.setattr(pages, "_run", lambda op, *args, **kwargs: calls.append(op) or real(op, *args, **kwargs))
    return calls


def test_a_pdfs_first_page_is_drawn_at_upload_stored_encrypted_and_read_on_view(app, space, drawings):
    data = multipage_pdf(2)
    doc = add_text(space, data, "compte-rendu.pdf")
    db.session.commit()
    assert drawings == ["inspect"]  # drawn in the child that read the file at upload
    assert set(doc.first_page) == {"mime", *pages.WIDTHS}
    on_disk = b"".join(open(p, "rb").read() for p in blob_files(app))
    assert b"\x89PNG" not in on_disk and b"IHDR" not in on_disk  # encrypted at rest, like the file
    for size in pages.WIDTHS:  # what a view drew before: the same bytes, read instead of drawn
        assert previews.page_image(space, doc, 1, size) == pages.render(data, 1, size)
    assert drawings == ["inspect"] + ["render"] * len(pages.WIDTHS)  # the renders above are this test's own
    assert previews.page_image(space, doc, 2, "normal") == pages.render(data, 2, "normal")
    assert drawings[-2:] == ["render", "render"]  # later pages are drawn on view, as before


def test_a_pdf_that_needs_its_password_stores_no_first_page(app, space):
    doc = add_text(space, encrypted_pdf(), "protege.pdf")
    assert doc.first_page is None and previews.page_image(space, doc, 1, "normal") is None


def test_a_first_page_pdfium_cannot_draw_leaves_the_file_readable(monkeypatch):
    def cannot(*args):
        raise MemoryError

    monkeypatch.setattr(pages, "_drawn", cannot)
    info = pages._inspect(multipage_pdf(1), thumbnail=True, max_pages=pages.MAX_PAGES, first_page=True)
    assert info.first_page is None and info.page_count == 1
    assert Image.open(io.BytesIO(info.thumbnail)).width == 320  # the thumbnail is drawn on its own then


@pytest.mark.parametrize("dpi", [75, 300])
def test_the_first_pages_drawings_and_thumbnail_come_from_one_loaded_page(monkeypatch, dpi):
    """At upload the two widths are drawn from one loaded page (its scan decoded once), with the
    very bytes a view's drawing gives, and the thumbnail is made from the normal drawing."""
    data = jpeg_pdf(quadrant_image().resize((dpi * 827 // 100, dpi * 1169 // 100)))
    alone = {size: pages._render(data, 1, size, pages.MAX_PAGES) for size in pages.WIDTHS}
    loaded, drawn_from = [], []
    open_page = pages._open

    def counted(data):
        pdf = open_page(data)
        loaded.append(pdf)
        return pdf

    real = pages._drawn

    def watched(page, size):
        drawn_from.append(page)
        return real(page, size)

    monkeypatch.setattr(pages, "_open", counted)
    monkeypatch.setattr(pages, "_drawn", watched)
    monkeypatch.setattr(thumbnails, "thumbnail", lambda *a: pytest.fail("drawn again for the thumbnail"))
    info = pages._inspect(data, thumbnail=True, max_pages=pages.MAX_PAGES, first_page=True)
    assert len(loaded) == 1 and len(drawn_from) == len(pages.WIDTHS) and len(set(map(id, drawn_from))) == 1
    assert info.first_page == alone
    thumb = Image.open(io.BytesIO(info.thumbnail))
    assert thumb.format == "JPEG" and thumb.width == 320 and abs(thumb.height - 452) <= 1
    quarters = thumb.resize((2, 2))  # each quadrant's colour where it was
    assert quarters.getpixel((0, 0))[0] > 150 and quarters.getpixel((1, 0))[1] > 150


def test_a_scan_is_drawn_no_wider_than_its_own_pixels():
    scan = quadrant_image().resize((620, 877))  # 75 dpi across A4: fewer pixels than either width
    data = jpeg_pdf(scan)
    for size in pages.WIDTHS:
        mime, im = drawn(data, size)
        assert mime == "image/jpeg" and im.size in ((620, 877), (620, 878))  # the scan's own pixels
        # the same picture: each quadrant's colour where it was
        assert im.resize((4, 2)).getpixel((0, 0))[0] > 150 and im.resize((4, 2)).getpixel((3, 0))[1] > 150
    sharp = quadrant_image().resize((2480, 3508))  # 300 dpi: both widths are drawn as asked
    assert [drawn(jpeg_pdf(sharp), size)[1].width for size in sorted(pages.WIDTHS)] == [2000, 1000]
    assert drawn(text_pdf(report(1)), "grande")[1].width == 2000  # a page of text is not a scan
    # a form printed over a low-resolution background: its text is drawn at the width asked
    form = jpeg_pdf(scan, extra_content=b" BT /F1 18 Tf 72 700 Td (Nom : Martin) Tj ET")
    assert drawn(form, "grande")[1].width == 2000


def test_pdfs_stored_before_first_pages_get_theirs_from_the_command(app, space, drawings, monkeypatch):
    with monkeypatch.context() as before:  # stored by a version that drew no first page
        before.setattr(previews, "put_first_page", lambda *stored: None)
        old = add_text(space, multipage_pdf(2), "ancien.pdf")
        locked = add_text(space, encrypted_pdf(), "protege.pdf")
        add_text(space)  # not a PDF: nothing to draw
    db.session.commit()
    assert old.first_page is None and locked.first_page is None
    runner = app.test_cli_runner()
    result = runner.invoke(args=["storage", "first-pages"])
    assert result.exit_code == 0, result.output
    assert "1 first pages and photos drawn and stored; 1 left as they are" in result.output
    db.session.expire_all()
    assert set(old.first_page) == {"mime", *pages.WIDTHS}
    before = len(drawings)
    assert previews.page_image(space, old, 1, "grande") == pages.render(multipage_pdf(2), 1, "grande")
    assert drawings[before:] == ["render"]  # the test's own drawing: the page read the stored one
    again = runner.invoke(args=["storage", "first-pages"])
    assert "0 first pages and photos drawn and stored; 1 left" in again.output


def test_a_drawn_pages_thumbnail_is_halved_by_averaging_first(monkeypatch):
    """docs/performance.md, 65: a 1,000 px drawing is halved by Pillow's reduce before the
    Lanczos pass to 320 px (half its time), and the thumbnail stays within a fraction of a level
    of the full pass; the JPEG encoding is the same either way."""
    data = text_pdf(report(1))
    pdf = pages._open(data)
    try:
        page = pdf[0]
        with pages._drawn(page, "normal") as drawing:
            im = drawing.copy()
        page.close()
    finally:
        pdf.close()
    assert im.width == pages.WIDTHS["normal"]
    reduced, encoded = [], []
    real_reduce = Image.Image.reduce

    def watched(self, factor, box=None):
        reduced.append(factor)
        return real_reduce(self, factor, box)

    monkeypatch.setattr(Image.Image, "reduce", watched)
    monkeypatch.setattr(thumbnails, "_encode_thumbnail", lambda small: encoded.append(small) or b"")
    thumbnails.of_drawing(im)
    assert reduced == [(2, 2)]
    (small,) = encoded
    full = im.resize(small.size, Image.Resampling.LANCZOS)
    assert small.width == 320
    assert max(ImageStat.Stat(ImageChops.difference(full, small)).mean) < 0.5


def test_a_holders_first_page_is_read_through_statements_built_once(app, holder, make_holder, make_document, login_as):
    """The image a document's page shows first (docs/performance.md, 74): on the holder's side,
    its gate, its drawing and its key are read by statements built once, no SQLAlchemy statement;
    the same bytes as drawn; another space gets a 404, and later pages are drawn as before."""
    client, account = holder
    data = multipage_pdf(2)
    doc = make_document(account, data, "compte-rendu.pdf")
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        shown = {size: client.get(f"/documents/{doc.id}/pages/1?taille={size}") for size in pages.WIDTHS}
    assert [s for s in seen if "documents" in s or "blob_keys" in s] == []
    for size, answer in shown.items():
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        assert (answer.mimetype, answer.get_data()) == pages.render(data, 1, size)
    second = client.get(f"/documents/{doc.id}/pages/2")
    assert second.status_code == 200 and second.get_data() == pages.render(data, 2, "normal")[1]
    assert previews._first_page_statement.cache_info().currsize >= 1
    other, _code = make_holder()
    login_as(client, other)
    assert client.get(f"/documents/{doc.id}/pages/1").status_code == 404
    assert client.get(f"/documents/{doc.id}/pages/1?taille=grande").status_code == 404
