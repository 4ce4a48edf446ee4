"""A TIFF (a fax, a scanner's file) is shown as pictures of its pages, drawn on the server as a
PDF's are (core/files/pages.py): browsers show no TIFF, and a kiosk cannot download.
The files are real, as a fax server and a scanner's software write them (fixtures/README.md)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image, ImageStat

from blueprints.documents import previews
from blueprints.documents.models import Document
from core import audit
from core.db import db
from core.files import pages
from tests.helpers import add_text, events, use_code

FIXTURES = Path(__file__).parent / "fixtures"
#: Three pages of 1,728 x 2,156 pixels at 204 x 196 dpi, CCITT G3, written by Ghostscript.
FAX = (FIXTURES / "fax-3-pages-g3.tif").read_bytes()
#: One page of 4,160 x 870 pixels in colour, old-style JPEG, written by a Kofax scanner.
COLOUR_SCAN = (FIXTURES / "scan-couleur-kofax.tif").read_bytes()
#: The fax's page as shown: its height stretched back by 204 / 196.
FAX_SHOWN = (1728.0, 2156 * 204 / 196)


def _add(client, upload, data: bytes, name: str) -> str:
    r = upload(client, [(data, name)])
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    return r.headers["Location"].rsplit("/", 1)[-1]


def _doc(app, doc_id: str) -> Document:
    with app.app_context():
        return db.session.get(Document, doc_id)


def _image(response) -> Image.Image:
    assert response.status_code == 200, response.status_code
    return Image.open(io.BytesIO(response.data))


def test_a_fax_of_three_pages_is_shown_page_by_page(app, holder, upload):
    client, _ = holder
    doc_id = _add(client, upload, FAX, "fax-labo.tif")
    doc = _doc(app, doc_id)
    assert doc.kind == "tiff" and doc.pdf_layout["page_count"] == 3
    assert doc.pdf_layout["sizes"] == [list(FAX_SHOWN)] * 3
    assert doc.first_page["mime"] == "image/png" and {"normal", "grande"} <= doc.first_page.keys()
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    images = re.findall(r'<img class="pdf-page-image"[^>]*>', page)
    assert len(images) == 3 and "Reduced preview" not in page and "Aperçu réduit" not in page
    assert f'srcset="/documents/{doc_id}/pages/2 1000w, /documents/{doc_id}/pages/2?taille=grande 2000w"' in images[1]
    assert 'width="1000" height="1299"' in images[0]  # 1,000 px wide in the fax's proportions
    assert f'href="/documents/{doc_id}/plein-ecran"' in page  # full screen, as a PDF's pages


def test_a_fax_page_is_drawn_lossless_in_greys_and_never_enlarged(app, holder, upload):
    client, _ = holder
    doc_id = _add(client, upload, FAX, "fax-labo.tif")
    normal = _image(client.get(f"/documents/{doc_id}/pages/2"))
    assert normal.format == "PNG" and normal.mode == "L" and normal.size == (1000, 1299)
    # letters reduced keep grey edges, not black and white strokes that break up
    assert len(normal.getcolors(256)) > 2 and ImageStat.Stat(normal).mean[0] > 200  # a page, mostly white
    large = _image(client.get(f"/documents/{doc_id}/pages/2?taille=grande"))
    assert large.size == (1728, 2244)  # the fax's own pixels across: 2,000 px would only enlarge it
    first = _image(client.get(f"/documents/{doc_id}/pages/1?taille=grande"))  # drawn at upload
    assert first.size == (1728, 2244)
    assert client.get(f"/documents/{doc_id}/pages/4").status_code == 404


def test_a_colour_scan_is_drawn_as_a_jpeg_in_its_colours(app, holder, upload):
    client, _ = holder
    doc_id = _add(client, upload, COLOUR_SCAN, "scan.tif")
    doc = _doc(app, doc_id)
    assert doc.pdf_layout["page_count"] == 1 and doc.first_page["mime"] == "image/jpeg"
    drawn = _image(client.get(f"/documents/{doc_id}/pages/1"))
    assert drawn.format == "JPEG" and drawn.mode == "RGB" and drawn.size == (1000, 209)
    # the target's cyan, yellow and magenta discs stay in colour
    red, green, blue = drawn.convert("RGB").getpixel((round(1000 * 0.53), round(209 * 0.18)))
    assert blue > red + 60, (red, green, blue)


def test_the_preview_of_a_tiff_opens_its_pages_in_full_screen_traced_once(app, holder, upload):
    client, _ = holder
    doc_id = _add(client, upload, FAX, "fax-labo.tif")
    r = client.get(f"/documents/{doc_id}/apercu")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/documents/{doc_id}/plein-ecran")
    before = len(events(app, audit.Action.DOCUMENT_OPENED))
    full = client.get(f"/documents/{doc_id}/plein-ecran").get_data(as_text=True)
    assert len(re.findall(r'<img class="pdf-page-image"', full)) == 3
    assert client.get(f"/documents/{doc_id}/pages/3?taille=grande").status_code == 200
    opened = events(app, audit.Action.DOCUMENT_OPENED)[before:]
    assert [e.detail["how"] for e in opened] == ["preview"]  # the page, not each image


def test_a_tiff_whose_pages_cannot_be_drawn_shows_its_thumbnail(app, holder, upload, monkeypatch):
    def refused(*_args, **_kw):
        raise pages.RenderError("the child stopped")

    monkeypatch.setattr(pages, "inspect", refused)
    client, _ = holder
    doc_id = _add(client, upload, FAX, "fax-labo.tif")
    doc = _doc(app, doc_id)
    assert doc.pdf_layout == pages.UNREADABLE and doc.thumb_blob_id is not None  # drawn by Pillow here
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert f'<img class="doc-image" src="/documents/{doc_id}/vignette"' in page and "pdf-page-image" not in page
    r = client.get(f"/documents/{doc_id}/apercu")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/documents/{doc_id}/vignette")
    r = client.get(f"/documents/{doc_id}/plein-ecran")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/documents/{doc_id}")


def test_a_professional_reads_a_fax_page_by_page_traced_as_one_opening(
    app, client, make_holder, make_document, make_share
):
    account, _ = make_holder()
    doc_id = make_document(account, FAX, "fax-labo.tif", category="BIOLOGIE").id
    share_id, code, _ = make_share(account.patient_id)
    assert use_code(client, code).status_code == 303
    base = f"/pro/dossier/{share_id}/documents/{doc_id}"
    before = len(events(app, audit.Action.DOCUMENT_OPENED))
    page = client.get(base).get_data(as_text=True)
    assert len(re.findall(r'<img class="pdf-page-image"', page)) == 3
    assert f'srcset="{base}/pages/3 1000w, {base}/pages/3?taille=grande 2000w"' in page
    assert _image(client.get(f"{base}/pages/3")).size == (1000, 1299)
    opened = events(app, audit.Action.DOCUMENT_OPENED)[before:]
    assert [e.detail["how"] for e in opened] == ["preview"]  # the page traced it; its images are covered
    r = client.get(f"{base}/apercu")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{base}/plein-ecran")


def test_a_professional_is_shown_the_thumbnail_of_a_tiff_that_cannot_be_drawn(
    app, client, make_holder, make_document, make_share, monkeypatch
):
    def refused(*_args, **_kw):
        raise pages.RenderError("the child stopped")

    account, _ = make_holder()
    with monkeypatch.context() as broken:
        broken.setattr(pages, "inspect", refused)
        doc_id = make_document(account, FAX, "fax-labo.tif", category="BIOLOGIE").id
    share_id, code, _ = make_share(account.patient_id)
    assert use_code(client, code).status_code == 303
    base = f"/pro/dossier/{share_id}/documents/{doc_id}"
    page = client.get(base).get_data(as_text=True)
    assert f'<img class="doc-image" src="{base}/apercu"' in page and "pdf-page-image" not in page
    before = len(events(app, audit.Action.DOCUMENT_OPENED))
    reduced = client.get(f"{base}/apercu")
    assert reduced.mimetype == "image/jpeg" and _image(reduced).width <= 320
    opened = events(app, audit.Action.DOCUMENT_OPENED)[before:]
    assert [e.detail["how"] for e in opened] == ["thumbnail"]
    r = client.get(f"{base}/plein-ecran")
    assert r.status_code == 302 and r.headers["Location"].endswith(base)


def test_tiffs_stored_before_are_drawn_by_the_first_pages_command(app, space, monkeypatch):
    with monkeypatch.context() as before:  # stored by a version that showed a TIFF's thumbnail only
        before.setattr(previews, "page_previews", lambda data, kind, first_page=True: (None, False, None, None))
        old = add_text(space, FAX, "fax-labo.tif")
    db.session.commit()
    assert old.first_page is None and old.pdf_layout is None
    shown = previews.paged_preview(space, old)  # its page reads the layout once, and keeps it
    assert shown["page_count"] == 3 and [p["number"] for p in shown["pages"]] == [1, 2, 3]
    db.session.expire_all()
    assert old.pdf_layout["page_count"] == 3
    result = app.test_cli_runner().invoke(args=["storage", "first-pages"])
    assert "1 first pages and photos drawn and stored; 0 left" in result.output, result.output
    db.session.expire_all()
    assert old.first_page["mime"] == "image/png"
    assert previews.stored_first_page(space, old.id, "grande")[0] == "image/png"


def test_a_fax_in_normal_mode_is_stretched_back_to_its_proportions():
    """Fax normal mode scans 204 dots an inch across and 98 down: shown as drawn, a page would be
    half as tall as the paper. (Written by Pillow: the real fax above is in fine mode.)"""
    page = Image.new("1", (1728, 1078), 1)
    out = io.BytesIO()
    page.save(out, "TIFF", compression="group3", dpi=(204, 98))
    info = pages.inspect(out.getvalue())
    assert info.page_count == 1 and info.sizes == [(1728.0, 1078 * 204 / 98)]
    mime, drawn = pages.render(out.getvalue(), 1, "normal")
    assert mime == "image/png" and Image.open(io.BytesIO(drawn)).size == (1000, 1299)
