"""A photo is drawn at upload at the widths its page shows (core/files/photos.py): the
page offers the drawings (srcset), the file stays whole for download. Two of the photos are real
files as orientation-tagged cameras write them (fixtures/README.md)."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

from PIL import Image, ImageChops, ImageCms, ImageOps, ImageStat

from blueprints.documents import previews
from blueprints.documents.models import Document
from core import audit
from core.db import db
from core.files import photos
from tests.helpers import add_text, blob_files, events, use_code

FIXTURES = Path(__file__).parent / "fixtures"
#: Stored 1,200 x 1,800 with orientation 6: a landscape photo taken with the phone turned.
LANDSCAPE = (FIXTURES / "photo-paysage-orientation-6.jpg").read_bytes()
#: Stored 1,800 x 1,200 with orientation 6, compressed hard: a drawing would weigh more.
PORTRAIT = (FIXTURES / "photo-portrait-orientation-6.jpg").read_bytes()


def _add_photo(client, upload, data: bytes, name: str = "IMG_0042.jpg") -> str:
    r = upload(client, [(data, name)], field="photo")
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    return r.headers["Location"].rsplit("/", 1)[-1]


def _image(response) -> Image.Image:
    return Image.open(io.BytesIO(response.data))


def _doc(app, doc_id: str) -> Document:
    with app.app_context():
        return db.session.get(Document, doc_id)


def _orientation(image: Image.Image):
    return image.getexif().get(0x0112)


def _mean_gap(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def _noisy_photo(width: int, height: int, icc: bytes | None = None) -> bytes:
    """A photo's texture (a gradient and grain): JPEG weighs what a camera's does."""
    rnd = random.Random(7)
    small = Image.new("RGB", (width // 8, height // 8))
    small.putdata(
        [
            (x * 255 // (width // 8), 120 + rnd.randint(-40, 40), 90)
            for _ in range(height // 8)
            for x in range(width // 8)
        ]
    )
    big = small.resize((width, height), Image.Resampling.BILINEAR)
    grain = Image.effect_noise((width, height), 24).convert("RGB")
    out = io.BytesIO()
    Image.blend(big, grain, 0.25).save(out, "JPEG", quality=95, **({"icc_profile": icc} if icc else {}))
    return out.getvalue()


def test_a_phone_photo_is_drawn_upright_and_lighter_and_its_page_offers_both(app, holder, upload):
    client, _ = holder
    doc_id = _add_photo(client, upload, LANDSCAPE)
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    tag = re.search(r'<img class="doc-image"[^>]*>', page).group(0)
    assert f'src="/documents/{doc_id}/apercu?taille=normal"' in tag
    # the small drawing (the upright photo averaged two by two), and the file itself for a larger screen
    assert f'srcset="/documents/{doc_id}/apercu?taille=normal 900w, /documents/{doc_id}/apercu 1800w"' in tag
    assert 'sizes="(min-width: 1100px) 45vw, 100vw"' in tag
    drawn = client.get(f"/documents/{doc_id}/apercu?taille=normal")
    assert drawn.status_code == 200 and drawn.mimetype == "image/jpeg"
    assert len(drawn.data) < 0.6 * len(client.get(f"/documents/{doc_id}/telecharger").data)
    image = _image(drawn)
    assert image.size == (900, 600) and _orientation(image) is None
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(LANDSCAPE))).resize((900, 600))
    assert _mean_gap(image, upright) < 4  # the right way up, not turned nor mirrored
    assert _mean_gap(image, upright.transpose(Image.Transpose.ROTATE_180)) > 20
    # asked for a size with no drawing: the file, as before
    whole = client.get(f"/documents/{doc_id}/apercu?taille=grande")
    assert whole.data == client.get(f"/documents/{doc_id}/apercu").data
    assert _image(whole).size == (1200, 1800)  # stored as the camera wrote it, tagged to turn


def test_a_drawing_no_lighter_than_the_photo_is_not_kept(app, holder, upload):
    client, _ = holder
    doc_id = _add_photo(client, upload, PORTRAIT)
    assert _doc(app, doc_id).first_page == {"width": 1200, "widths": {}}
    assert len(blob_files(app)) == 2  # the file and its thumbnail
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert f'<img class="doc-image" src="/documents/{doc_id}/apercu" alt=' in page and "srcset" not in page
    asked = client.get(f"/documents/{doc_id}/apercu?taille=normal")
    assert asked.data == client.get(f"/documents/{doc_id}/telecharger").data


def test_a_large_photo_gets_both_drawings_with_its_colour_profile(app, holder, upload):
    client, _ = holder
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    doc_id = _add_photo(client, upload, _noisy_photo(4032, 3024, icc))
    doc = _doc(app, doc_id)
    # decoded at half size (DCT scaling) and kept so, then averaged two by two
    assert doc.first_page["widths"] == {"grande": 2016, "normal": 1008} and doc.first_page["width"] == 4032
    tag = re.search(r'<img class="doc-image"[^>]*>', client.get(f"/documents/{doc_id}").get_data(as_text=True))
    assert f"apercu?taille=normal 1008w, /documents/{doc_id}/apercu?taille=grande 2016w" in tag.group(0)
    file_bytes = len(client.get(f"/documents/{doc_id}/telecharger").data)
    for size, width in (("normal", 1008), ("grande", 2016)):
        drawn = client.get(f"/documents/{doc_id}/apercu?taille={size}")
        image = _image(drawn)
        assert image.size == (width, width * 3 // 4) and image.info["icc_profile"] == icc
        assert len(drawn.data) < file_bytes / 3
    assert len(blob_files(app)) == 4  # the file, its thumbnail, two drawings


def test_a_photo_taken_upright_is_decoded_at_half_size_for_both_drawings(app, holder, upload):
    """A phone held upright stores 4,032 x 3,024 turned (orientation 6): 3,024 px wide upright.
    Its half (1,512 px) serves as the large drawing; the small one is drawn from it."""
    client, _ = holder
    turned = Image.open(io.BytesIO(_noisy_photo(4032, 3024)))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    turned.save(out, "JPEG", quality=90, exif=exif)
    doc_id = _add_photo(client, upload, out.getvalue())
    assert _doc(app, doc_id).first_page["widths"] == {"grande": 1512, "normal": 1000}
    assert _image(client.get(f"/documents/{doc_id}/apercu?taille=grande")).size == (1512, 2016)
    assert _image(client.get(f"/documents/{doc_id}/apercu?taille=normal")).size == (1000, 1333)


def test_a_screenshot_stays_lossless(app, holder, upload):
    client, _ = holder
    shot = Image.new("RGB", (1170, 2532), (250, 250, 250))
    for y in range(100, 2400, 60):  # lines of "text"
        shot.paste((30, 30, 30), (80, y, 80 + (y * 37) % 900 + 100, y + 22))
    out = io.BytesIO()
    shot.save(out, "PNG")
    doc_id = _add_photo(client, upload, out.getvalue(), "Capture.png")
    drawn = client.get(f"/documents/{doc_id}/apercu?taille=normal")
    assert drawn.mimetype == "image/png"
    expected = shot.resize((1000, 2164), Image.Resampling.LANCZOS, reducing_gap=2.0).convert("L")
    assert ImageChops.difference(_image(drawn), expected).getbbox() is None  # every pixel, exactly


def test_a_small_photo_is_shown_as_it_came(app, holder, upload):
    client, _ = holder
    out = io.BytesIO()
    Image.new("RGB", (900, 600), (10, 120, 200)).save(out, "JPEG")
    doc_id = _add_photo(client, upload, out.getvalue())
    assert _doc(app, doc_id).first_page == {"width": 900, "widths": {}}
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert f'<img class="doc-image" src="/documents/{doc_id}/apercu" alt=' in page


def test_a_drawing_is_served_like_the_file_traced_and_only_to_its_holder(
    app, holder, upload, client, make_holder, login_as
):
    owner, _ = holder
    doc_id = _add_photo(owner, upload, LANDSCAPE)
    before = len(events(app, audit.Action.DOCUMENT_OPENED))
    drawn = owner.get(f"/documents/{doc_id}/apercu?taille=normal")
    assert drawn.headers["Content-Security-Policy"].startswith("sandbox")
    assert drawn.headers["X-Content-Type-Options"] == "nosniff" and drawn.headers["Cache-Control"] == "no-store"
    assert drawn.headers["Content-Disposition"].startswith('inline; filename="apercu.jpg"')
    opened = events(app, audit.Action.DOCUMENT_OPENED)[before:]
    assert [e.detail["how"] for e in opened] == ["preview"]
    stranger, _ = make_holder()
    login_as(client, stranger)
    assert client.get(f"/documents/{doc_id}/apercu?taille=normal").status_code == 404


def test_a_professional_is_shown_the_drawing(app, client, make_holder, make_document, make_share):
    account, _ = make_holder()
    doc = make_document(account, LANDSCAPE, "IMG_0042.jpg")
    share_id, code, _ = make_share(account.patient_id)
    assert use_code(client, code).status_code == 303
    base = f"/pro/dossier/{share_id}/documents/{doc.id}"
    page = client.get(base).get_data(as_text=True)
    assert f'srcset="{base}/apercu?taille=normal 900w, {base}/apercu 1800w"' in page
    before = len(events(app, audit.Action.DOCUMENT_OPENED))
    drawn = client.get(f"{base}/apercu?taille=normal")
    assert drawn.status_code == 200 and _image(drawn).size == (900, 600)
    assert len(events(app, audit.Action.DOCUMENT_OPENED)) == before + 1


def test_photos_stored_before_are_drawn_by_the_first_pages_command(app, space, monkeypatch):
    with monkeypatch.context() as before:  # stored by a version that drew no photo
        before.setattr(previews, "put_first_page", lambda *stored: None)
        old = add_text(space, LANDSCAPE, "IMG_0001.jpg")
        small = add_text(space, PORTRAIT, "IMG_0002.jpg")
    db.session.commit()
    assert old.first_page is None and small.first_page is None
    runner = app.test_cli_runner()
    result = runner.invoke(args=["storage", "first-pages"])
    assert "2 first pages and photos drawn and stored; 0 left" in result.output, result.output
    db.session.expire_all()
    assert old.first_page["widths"] == {"normal": 900} and small.first_page == {"width": 1200, "widths": {}}
    assert previews.photo_sources(old) == [("normal", 900), (None, 1800)]
    again = runner.invoke(args=["storage", "first-pages"])
    assert "0 first pages and photos drawn and stored; 0 left" in again.output


def test_a_photo_pillow_cannot_draw_is_shown_as_it_came(app, space, monkeypatch):
    def broken(*_args):
        raise OSError("image file is truncated")

    monkeypatch.setattr(photos, "draw", broken)
    doc = add_text(space, LANDSCAPE, "IMG_0003.jpg")
    assert doc.first_page is None and doc.thumb_blob_id is not None  # its thumbnail, as before
    assert previews.photo_sources(doc) is None


def test_greys_of_sixteen_bits_are_drawn_as_a_browser_shows_them(app, holder, upload):
    """A PNG from imaging software, 16 bits a pixel: scaled to eight, not clipped to white."""
    client, _ = holder
    ramp = Image.new("I;16", (1200, 800))
    ramp.putdata([x * 54 for _y in range(800) for x in range(1200)])  # 0 to 64,746
    out = io.BytesIO()
    ramp.save(out, "PNG")
    doc_id = _add_photo(client, upload, out.getvalue(), "irm.png")
    drawn = _image(client.get(f"/documents/{doc_id}/apercu?taille=normal"))
    assert drawn.mode == "L" and drawn.size == (1000, 667)
    assert drawn.getpixel((0, 300)) < 3 and 120 < drawn.getpixel((500, 300)) < 135 and drawn.getpixel((999, 300)) > 245
    thumb = _image(client.get(f"/documents/{doc_id}/vignette")).convert("L")
    assert 100 < ImageStat.Stat(thumb).mean[0] < 155  # a ramp, not a white page
