import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image, ImageOps, PngImagePlugin

from blueprints.documents.images import strip_image_metadata
from blueprints.documents.names import MAX_FILENAME_CHARS, safe_filename, title_from_filename
from blueprints.documents.sniff import FileType, UnsupportedFile, detect
from blueprints.documents import thumbnails
from blueprints.documents.thumbnails import thumbnail

GPS_IFD = ExifTags.IFD.GPSInfo  # 0x8825
ORIENTATION = ExifTags.Base.Orientation


# ------------------------------------------------------------------ sample files


GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (48.0, 51.0, 24.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (2.0, 21.0, 3.0),
}


def gps_exif(orientation=None):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 15"
    exif[ExifTags.Base.DateTime] = "2024:03:01 08:00:00"
    if orientation:
        exif[ORIENTATION] = orientation
    exif[GPS_IFD] = dict(GPS)
    return exif


def make_jpeg(size=(64, 32), exif=None, **kw):
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))
    buf = io.BytesIO()
    if exif is not None:
        kw["exif"] = exif
    im.save(buf, "JPEG", quality=95, **kw)
    return buf.getvalue()


def make_png(size=(40, 30), mode="RGB", **kw):
    im = Image.new(mode, size, "red" if mode != "P" else 1)
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


def make_tiff(pages=3, gps=False):
    frames = [Image.new("RGB", (30 + i, 20), (i * 60, 100, 100)) for i in range(pages)]
    tiffinfo = {
        270: "Patient Dupont, scanned at home",  # ImageDescription
        271: "PhoneMaker",  # Make
        305: "ScanSoft",  # Software
        700: b'<x:xmpmeta><rdf:Description exif:GPSLatitude="48,51.4N"/></x:xmpmeta>',
    }
    if gps:
        tiffinfo[GPS_IFD] = dict(GPS)
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], tiffinfo=tiffinfo)
    return buf.getvalue()


def make_pdf():
    im = Image.new("RGB", (595, 842), "white")
    im.paste((0, 0, 0), (50, 50, 545, 100))
    buf = io.BytesIO()
    im.save(buf, "PDF", resolution=72)
    return buf.getvalue()


HANDMADE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_chunk(kind, data):
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_header_only(width, height):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def png_chunk_types(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


def strip(data, kind):
    out = io.BytesIO()
    strip_image_metadata(io.BytesIO(data), kind, out)
    return out.getvalue()


def reason(excinfo):
    return excinfo.value.reason


# ------------------------------------------------------------------ detect


@pytest.mark.parametrize(
    "make, name, kind, mime",
    [
        (make_pdf, "compte-rendu.pdf", "pdf", "application/pdf"),
        (lambda: HANDMADE_PDF, "CR.PDF", "pdf", "application/pdf"),
        (make_jpeg, "photo.jpg", "jpeg", "image/jpeg"),
        (make_jpeg, "photo.JPEG", "jpeg", "image/jpeg"),
        (make_jpeg, "photo.jfif", "jpeg", "image/jpeg"),
        (make_jpeg, "IMG_20240301_0812", "jpeg", "image/jpeg"),  # camera upload, no extension
        (make_png, "scan.png", "png", "image/png"),
        (make_tiff, "fax.tif", "tiff", "image/tiff"),
        (make_tiff, "fax.tiff", "tiff", "image/tiff"),
        (lambda: b"MM\x00*\x00\x00\x00\x08", "mac.tiff", "tiff", "image/tiff"),
    ],
)
def test_detect_accepted(make, name, kind, mime):
    ftype = detect(make()[:8192], name)
    assert isinstance(ftype, FileType)
    assert (ftype.kind, ftype.mime) == (kind, mime)


def test_detect_path_in_name_is_ignored():
    assert detect(make_pdf()[:64], "C:\\Users\\bob\\Documents\\scan.pdf").kind == "pdf"
    assert detect(make_pdf()[:64], "ordonnance 12.03.2024").kind == "pdf"  # not an extension


@pytest.mark.parametrize(
    "data, charset",
    [
        ("Ordonnance : paracétamol 1 g matin et soir.\r\n\tPendant 5 jours.\f".encode(), "utf-8"),
        ("\ufeffTension 12/8, pouls 72".encode(), "utf-8"),
        ("Compte rendu d’échographie – cœur normal".encode("cp1252"), "windows-1252"),
        ("Résultats : glycémie à jeun 0,95 g/L".encode("latin-1"), "windows-1252"),
        (b"Taux < 5 et > 2 : normal", "utf-8"),
    ],
)
def test_detect_text(data, charset):
    for name in ("notes.txt", "notes.TEXT", "notes"):
        ftype = detect(data, name)
        assert ftype.kind == "text" and ftype.mime == "text/plain"
        assert ftype.charset == charset


def test_detect_text_cut_inside_a_multibyte_character():
    data = ("é" * 10).encode()
    assert detect(data[:7], "a.txt").charset == "utf-8"


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"\xef\xbb\xbf  \n<svg onload=alert(1)>",
        b"<!DOCTYPE html><html><body>hi</body></html>",
        b"<html><script>fetch('/api')</script>",
        b'<?xml version="1.0"?><svg/>',
        b"  <p>paragraph</p>",
        b"Bonjour docteur,\nvoir ci-joint.\n<script>alert(document.cookie)</script>",
        b"Notes\n<SVG/onload=alert(1)>",
        b"hello <!DocType html>",
        b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Bonjour}",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20,  # ZIP / DOCX
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00",  # Windows EXE
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8,
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00",
        b"RIFF\x24\x00\x00\x00WEBPVP8 ",
        b"\x00\x00\x00\x18ftypheic",  # HEIC is not accepted (yet)
        b"text with a \x1b[31mterminal escape",
        b"binary \x01\x02\x03 junk",
        "caf\u0085e".encode(),  # C1 control
        b"\xff\xfeh\x00i\x00",  # UTF-16
        b"\x81\x8d\x8f\x90\x9d",  # undefined in windows-1252, invalid UTF-8
    ],
)
def test_detect_refused_types(data):
    for name in ("upload.txt", "upload", "upload.svg", "upload.html"):
        with pytest.raises(UnsupportedFile) as exc:
            detect(data, name)
        assert reason(exc) == "type"


@pytest.mark.parametrize(
    "make, name",
    [
        (make_png, "image.pdf"),
        (make_pdf, "document.jpg"),
        (make_pdf, "document.html"),
        (make_pdf, "document.svg"),
        (make_jpeg, "photo.png"),
        (make_jpeg, "photo.exe"),
        (make_tiff, "scan.pdf"),
        (lambda: b"just text", "notes.pdf"),
        (lambda: b"just text", "notes.csv"),
        (lambda: b"just text", "notes.html"),
        (lambda: make_jpeg() + b"<html><script>alert(1)</script>", "x.html"),
    ],
)
def test_detect_mismatch(make, name):
    with pytest.raises(UnsupportedFile) as exc:
        detect(make()[:8192], name)
    assert reason(exc) == "mismatch"


def test_detect_jpeg_polyglot_by_magic():
    # bytes that look like HTML later in the head do not change a JPEG's type
    data = make_jpeg() + b"<html><script>alert(1)</script>"
    assert detect(data, "photo.jpg").kind == "jpeg"


def test_detect_empty():
    with pytest.raises(UnsupportedFile) as exc:
        detect(b"", "vide.pdf")
    assert reason(exc) == "empty"


def test_unsupported_file_reason():
    assert str(UnsupportedFile("type")) == "type"
    with pytest.raises(ValueError):
        UnsupportedFile("whatever")


# ------------------------------------------------------------------ metadata stripping


def test_jpeg_gps_exif_removed_and_orientation_kept():
    original = make_jpeg(
        size=(64, 32),
        exif=gps_exif(orientation=6),
        comment=b"Chez M. Dupont, 12 rue X",
        xmp=b'<x:xmpmeta><rdf:Description exif:GPSLatitude="48,51.4N"/></x:xmpmeta>',
        icc_profile=b"",
    )
    with Image.open(io.BytesIO(original)) as im:
        assert im.getexif().get_ifd(GPS_IFD)  # the sample really carries GPS data
        assert im.getexif()[ORIENTATION] == 6

    cleaned = strip(original, "jpeg")
    assert b"GPS" not in cleaned and b"PhoneMaker" not in cleaned and b"2024:03:01" not in cleaned
    assert b"Dupont" not in cleaned and b"xmpmeta" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as im:
        assert im.format == "JPEG"
        exif = im.getexif()
        assert dict(exif) == {ORIENTATION: 6}  # viewers still turn it upright
        assert not exif.get_ifd(GPS_IFD) and not exif.get_ifd(ExifTags.IFD.Exif)
        assert "comment" not in im.info and "xmp" not in im.info
        assert im.size == (64, 32)  # pixels untouched
        upright = ImageOps.exif_transpose(im)
        assert upright.size == (32, 64)
        # colours survive: left half of the original (blue) is on top once turned
        r, g, b = upright.convert("RGB").getpixel((16, 8))
        assert b > 150 and r < 100


def test_jpeg_without_orientation_gets_no_exif():
    cleaned = strip(make_jpeg(exif=gps_exif()), "jpeg")
    assert b"Exif\x00\x00" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as im:
        assert dict(im.getexif()) == {}


def test_jpeg_icc_profile_kept():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    cleaned = strip(make_jpeg(exif=gps_exif(), icc_profile=icc), "jpeg")
    with Image.open(io.BytesIO(cleaned)) as im:
        assert im.info.get("icc_profile") == icc
        assert dict(im.getexif()) == {}


def test_png_text_and_exif_chunks_removed():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "48.8566 N, 2.3522 E")
    info.add_itxt("Author", "Jean Dupont", lang="fr")
    info.add_text("Software", "x", zip=True)  # zTXt
    original = make_png(size=(40, 30), pnginfo=info, exif=gps_exif(orientation=8), dpi=(300, 300))
    kinds = png_chunk_types(original)
    assert b"Dupont" in original
    assert b"tEXt" in kinds and b"iTXt" in kinds and b"eXIf" in kinds

    cleaned = strip(original, "png")
    kinds = png_chunk_types(cleaned)
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert chunk not in kinds
    assert b"Dupont" not in cleaned and b"48.8566" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as im:
        assert im.size == (30, 40)  # orientation 8 applied
        assert dict(im.getexif()) == {}
        assert round(im.info["dpi"][0]) == 300


def test_png_palette_transparency_kept():
    im = Image.new("P", (10, 10), 0)
    im.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    im.putpixel((5, 5), 1)
    buf = io.BytesIO()
    im.save(buf, "PNG", transparency=0)
    cleaned = strip(buf.getvalue(), "png")
    with Image.open(io.BytesIO(cleaned)) as out:
        assert out.mode == "P" and out.info.get("transparency") == 0
        assert out.getpixel((5, 5)) == 1


def test_tiff_all_pages_kept_and_metadata_removed():
    original = make_tiff(pages=3, gps=True)
    assert b"Dupont" in original and b"xmpmeta" in original
    with Image.open(io.BytesIO(original)) as im:
        assert im.n_frames == 3
        assert 270 in im.tag_v2 and 700 in im.tag_v2
        assert im.getexif().get_ifd(GPS_IFD)

    cleaned = strip(original, "tiff")
    assert b"Dupont" not in cleaned and b"PhoneMaker" not in cleaned and b"xmpmeta" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as im:
        assert im.format == "TIFF"
        assert im.n_frames == 3
        for i in range(3):
            im.seek(i)
            assert im.size == (30 + i, 20)
            assert not im.getexif().get_ifd(GPS_IFD)
            for tag in (270, 271, 272, 305, 306, 700, 33723, 34377, 34853):
                assert tag not in im.tag_v2
            assert im.convert("RGB").getpixel((0, 0)) == (i * 60, 100, 100)


def test_tiff_bilevel_fax_page():
    im = Image.new("1", (200, 100), 1)
    im.paste(0, (10, 10, 50, 50))
    buf = io.BytesIO()
    im.save(buf, "TIFF", compression="group4")
    cleaned = strip(buf.getvalue(), "tiff")
    with Image.open(io.BytesIO(cleaned)) as out:
        assert out.mode == "1" and out.getpixel((20, 20)) == 0 and out.getpixel((100, 80)) == 255


def test_decompression_bomb_header_is_damaged():
    bomb = png_header_only(100_000, 100_000)
    assert detect(bomb, "bomb.png").kind == "png"  # the magic alone is fine...
    with pytest.raises(UnsupportedFile) as exc:
        strip(bomb, "png")  # ...decoding is refused before allocating anything
    assert reason(exc) == "damaged"
    assert thumbnail(bomb, "png") is None


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_image_just_above_pixel_limit_is_damaged():
    big = png_header_only(10_000, 9_000)  # 90 Mpx: Pillow would only warn
    with pytest.raises(UnsupportedFile) as exc:
        strip(big, "png")
    assert reason(exc) == "damaged"


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize(
    "data, kind",
    [
        (b"\xff\xd8\xff\xe0garbage", "jpeg"),
        (make_jpeg()[:200], "jpeg"),  # truncated
        (make_png()[:40], "png"),
        (b"II*\x00\xff\xff\xff\xff", "tiff"),
        (make_png(), "jpeg"),  # never decoded with another format's decoder
        (make_pdf(), "png"),
    ],
)
def test_undecodable_images_are_damaged(data, kind):
    with pytest.raises(UnsupportedFile) as exc:
        strip(data, kind)
    assert reason(exc) == "damaged"


def test_strip_refuses_non_image_kinds():
    with pytest.raises(ValueError):
        strip(make_pdf(), "pdf")


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\Bob\\Mes documents\\scan.pdf", "scan.pdf"),
        ("a\x00b\x1f.pdf", "ab.pdf"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ("tab\there.pdf", "tab here.pdf"),
        ("facture\u202egpj.exe", "facturegpj.exe"),  # right-to-left override removed
        ("e\u0301chographie.pdf", "\u00e9chographie.pdf"),  # NFC
        ("rapport..final..pdf", "rapport.final.pdf"),
        ("..", "document"),
        ("", "document"),
        ("   ", "document"),
        ("/", "document"),
        (".pdf", "document.pdf"),
        ("\x00\x01.pdf", "document.pdf"),
        ("...hidden", "document.hidden"),
        ('<img src=x onerror="alert(1)">.png', "_img src=x onerror=_alert(1)__.png"),
        ("Compte rendu – IRM été 2024.pdf", "Compte rendu – IRM été 2024.pdf"),
        ("trailing dots and spaces. . .", "trailing dots and spaces"),
        ("a\u00a0\u2003b.pdf", "a b.pdf"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_long_names_keep_extension():
    long_name = "compte rendu " * 40 + ".pdf"
    result = safe_filename(long_name)
    assert len(result) <= MAX_FILENAME_CHARS
    assert result.endswith(".pdf") and result.startswith("compte rendu")
    assert not result[:-4].endswith(" ")
    assert len(safe_filename("é" * 500)) == MAX_FILENAME_CHARS
    no_ext = safe_filename("x" * 300 + ".averyveryverylongextension")
    assert len(no_ext) == MAX_FILENAME_CHARS


@pytest.mark.parametrize(
    "name, title",
    [
        ("compte_rendu-IRM_2024.pdf", "Compte rendu IRM 2024"),
        ("bilan_sanguin_2024-03-01.pdf", "Bilan sanguin 2024-03-01"),
        ("IMG_20240301.JPG", "IMG 20240301"),
        ("ordonnance", "Ordonnance"),
        ("ordonnance 12.03.2024", "Ordonnance 12.03.2024"),
        ("../../__--__.pdf", "Document"),
        ("", "Document"),
        ("  échographie   cardiaque .png", "Échographie cardiaque"),
    ],
)
def test_title_from_filename(name, title):
    assert title_from_filename(name) == title


# ------------------------------------------------------------------ thumbnails


def assert_thumbnail(data, max_side=320):
    assert data
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        assert 0 < im.width <= max_side
        return im.size


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


# ------------------------------------------------------------------ JPEG copied without decoding


def jpeg_segments(data):
    """[(marker, payload), ...] of the segments before the first scan, and the bytes from
    the first SOS marker on (the scan headers and the compressed pixels)."""
    assert data[:2] == b"\xff\xd8"
    pos, segments = 2, []
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        if marker == 0xDA:
            return segments, data[pos:]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segments.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length


def noisy_image(size=(96, 64), mode="RGB", seed=1):
    """A photo-like image whose compressed data has many 0xFF bytes (stuffed as FF 00)."""
    im = Image.effect_noise(size, 80).convert(mode)
    band = Image.new(mode, (size[0], size[1] // 3), "blue" if mode != "L" else 40)
    im.paste(band, (0, 0))
    return im


def segment(marker, payload):
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def icc_srgb():
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_jpeg_metadata_removed_without_touching_the_pixels():
    icc = icc_srgb()
    buf = io.BytesIO()
    noisy_image((300, 200)).save(buf, "JPEG", quality=90, exif=gps_exif(orientation=6), icc_profile=icc)
    original = buf.getvalue()
    cleaned = strip(original, "jpeg")

    with Image.open(io.BytesIO(cleaned)) as im:
        assert im.format == "JPEG" and im.size == (300, 200)
        exif = im.getexif()
        assert dict(exif) == {ORIENTATION: 6}
        assert not exif.get_ifd(GPS_IFD) and not exif.get_ifd(ExifTags.IFD.Exif)
        assert im.info.get("icc_profile") == icc
        im.load()
    assert b"GPS" not in cleaned and b"PhoneMaker" not in cleaned and b"Phone 15" not in cleaned

    before, scan_before = jpeg_segments(original)
    after, scan_after = jpeg_segments(cleaned)
    assert scan_after == scan_before  # compressed pixels byte for byte, up to EOI
    assert [p for m, p in after if m == 0xE2] == [p for m, p in before if m == 0xE2]
    for marker in (0xDB, 0xC4, 0xC0):  # quantisation and Huffman tables, frame header
        assert [p for m, p in after if m == marker] == [p for m, p in before if m == marker]
    exif_segments = [p for m, p in after if m == 0xE1]
    assert len(exif_segments) == 1 and exif_segments[0].startswith(b"Exif\x00\x00")
    assert len(exif_segments[0]) < 64  # the orientation alone


def test_jpeg_icc_profile_in_several_chunks_kept():
    icc = icc_srgb() + bytes(range(256)) * 600  # > 64 KiB: split over three APP2 segments
    cleaned = strip(make_jpeg(icc_profile=icc, exif=gps_exif()), "jpeg")
    assert sum(1 for m, _ in jpeg_segments(cleaned)[0] if m == 0xE2) == 3
    with Image.open(io.BytesIO(cleaned)) as im:
        assert im.info["icc_profile"] == icc


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data", "ignore:Image appears to be a malformed MPO")
def test_jpeg_comments_xmp_iptc_and_trailing_data_removed():
    base = make_jpeg(size=(80, 40))
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>Dupont GPS 48.85</x:xmpmeta>"
    extra = (
        segment(0xFE, b"Chez M. Dupont")
        + segment(0xE1, xmp)
        + segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00Dupont")
        + segment(0xE2, b"MPF\x00II*\x00Dupont")
        + segment(0xEF, b"vendor Dupont")
        + segment(0xE0, b"JFXX\x00\x10Dupont")
    )
    second_picture = make_jpeg(size=(16, 16), exif=gps_exif())  # as MPO / vendor trailers append
    original = base[:2] + extra + base[2:] + second_picture + b"SEFT Dupont"
    with Image.open(io.BytesIO(original)) as im:
        assert "comment" in im.info and "xmp" in im.info

    cleaned = strip(original, "jpeg")
    assert b"Dupont" not in cleaned and b"GPS" not in cleaned and b"xmpmeta" not in cleaned
    assert cleaned.endswith(b"\xff\xd9") and cleaned.count(b"\xff\xd8") == 1
    markers = [m for m, _ in jpeg_segments(cleaned)[0]]
    assert 0xFE not in markers and 0xE1 not in markers and 0xED not in markers and 0xEF not in markers
    assert markers.count(0xE0) == 1  # JFIF only
    with Image.open(io.BytesIO(cleaned)) as im:
        assert im.format == "JPEG" and im.size == (80, 40)
        assert "comment" not in im.info and "xmp" not in im.info
        im.load()


def test_jpeg_jfif_embedded_thumbnail_dropped():
    base = make_jpeg(size=(40, 40))
    segments, _ = jpeg_segments(base)
    assert segments[0][0] == 0xE0 and segments[0][1].startswith(b"JFIF\x00")
    jfif = segments[0][1][:12] + b"\x02\x01" + b"\x99\x98\x97" * 2  # a 2x1 RGB thumbnail
    original = base[:2] + segment(0xE0, jfif) + base[6 + len(segments[0][1]) :]
    cleaned = strip(original, "jpeg")
    app0 = [p for m, p in jpeg_segments(cleaned)[0] if m == 0xE0]
    assert app0 == [jfif[:12] + b"\x00\x00"]
    Image.open(io.BytesIO(cleaned)).load()


@pytest.mark.parametrize(
    "mode, options",
    [
        ("RGB", {}),
        ("RGB", {"progressive": True}),
        ("RGB", {"restart_marker_blocks": 2}),
        ("RGB", {"subsampling": 0, "optimize": True}),
        ("L", {}),
        ("CMYK", {}),
    ],
)
def test_jpeg_copy_decodes_to_the_same_pixels(mode, options):
    buf = io.BytesIO()
    noisy_image((123, 77), mode).save(buf, "JPEG", quality=85, exif=gps_exif(orientation=3), **options)
    original = buf.getvalue()
    cleaned = strip(original, "jpeg")
    assert b"GPS" not in cleaned and b"PhoneMaker" not in cleaned
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(cleaned)) as b:
        assert (b.mode, b.size) == (a.mode, a.size)
        assert b.tobytes() == a.tobytes()
        assert dict(b.getexif()) == {ORIENTATION: 3}


def test_jpeg_stripping_is_streamed(tmp_path):
    src = io.BytesIO(make_jpeg(size=(200, 100)))
    reads = []
    read = src.read

    def tracked_read(n=-1):
        reads.append(n)
        return read(n)

    src.read = tracked_read
    strip_image_metadata(src, "jpeg", io.BytesIO())
    assert reads and all(0 < n <= 1024 * 1024 for n in reads if n is not None)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) * 2 // 3],  # cut inside the compressed pixels
        lambda d: d[:-2],  # no end-of-image marker
        lambda d: d[:-2] + b"\x00\x00",
        lambda d: d[:2] + b"\xff\xe1\x00\x01" + d[2:],  # impossible segment length
        lambda d: d[:2] + b"\xff\xfe\xff\xff" + d[2:],  # segment longer than the file
        lambda d: d[:2] + b"junk" + d[2:],
    ],
)
def test_truncated_or_malformed_jpeg_is_damaged(damage):
    data = damage(make_jpeg(size=(300, 200)))
    with pytest.raises(UnsupportedFile) as exc:
        strip(data, "jpeg")
    assert reason(exc) == "damaged"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_jpeg_above_pixel_limit_is_damaged_before_decoding():
    data = bytearray(make_jpeg(size=(64, 32)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 10_000, 9_000)  # 90 Mpx claimed
    with pytest.raises(UnsupportedFile) as exc:
        strip(bytes(data), "jpeg")
    assert reason(exc) == "damaged"


# ------------------------------------------------------------------ memory


@pytest.fixture(scope="session")
def big_photo(tmp_path_factory):
    """A 24 Mpx JPEG (6000 x 4000), quick to make: smooth content at low quality."""
    path = tmp_path_factory.mktemp("photos") / "24mp.jpg"
    im = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    im.save(path, "JPEG", quality=30, exif=gps_exif(orientation=6))
    return path


PEAK_SCRIPT = """
import io, resource, sys
from PIL import Image
from blueprints.documents import images, thumbnails

def status_kb(field):
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith(field + ":")).split()[1])

small = io.BytesIO()
Image.new("RGB", (64, 64), "white").save(small, "PDF")
thumbnails.thumbnail(small.getvalue(), "pdf")  # libraries loaded before measuring
thumbnails.thumbnail(small.getvalue(), "png")
kind, path = sys.argv[1], sys.argv[2]
try:  # Linux: peak = VmHWM, reset to the current size first, against VmRSS before
    before = status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    peak = lambda: status_kb("VmHWM")
except OSError:  # elsewhere: growth of the peak since the start (weaker)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if kind == "strip":
    with open(path, "rb") as src, open(path + ".out", "wb") as dst:
        images.strip_image_metadata(src, "jpeg", dst)
    result = 1
else:
    thumb = thumbnails.thumbnail(path, kind)
    result = len(thumb) if thumb else 0
print(peak() - before, result)
"""


def peak_growth_mb(kind, path):
    """Peak RSS growth (MB) of a fresh interpreter while it strips or thumbnails ``path``
    (Pillow and PDFium allocate pixels outside tracemalloc's view)."""
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, kind, str(path)],
        cwd=root, capture_output=True, text=True, timeout=120, check=True,
    ).stdout.split()
    growth_kb, result = int(out[0]), int(out[1])
    assert result, "the operation produced nothing"
    return growth_kb / 1024


def test_stripping_a_24mp_photo_stays_small(big_photo, tmp_path):
    import tracemalloc

    out = tmp_path / "clean.jpg"
    tracemalloc.start()
    try:
        with open(big_photo, "rb") as src, open(out, "wb") as dst:
            strip_image_metadata(src, "jpeg", dst)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
    with Image.open(out) as im:
        assert im.size == (6000, 4000) and dict(im.getexif()) == {ORIENTATION: 6}
    assert peak_growth_mb("strip", big_photo) < 32


def test_thumbnail_of_a_24mp_photo_stays_small(big_photo):
    w, h = assert_thumbnail(thumbnail(big_photo, "jpeg"))
    assert h == 320 and 212 <= w <= 214  # orientation 6 applied to the thumbnail
    assert peak_growth_mb("jpeg", big_photo) < 32


# ------------------------------------------------------------------ PDF scans


def build_pdf(image_dict, image_data, matrix, page_size=(595, 842), rotate=0, extra_content=b""):
    """A one-page PDF drawing one image XObject with ``matrix`` (a b c d e f)."""
    width, height = page_size
    content = b"q %s cm /Im1 Do Q" % b" ".join(b"%g" % v for v in matrix) + extra_content
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Rotate %d /Contents 4 0 R "
        b"/Resources << /XObject << /Im1 5 0 R >> /Font << /F1 << /Type /Font /Subtype /Type1 "
        b"/BaseFont /Helvetica >> >> >> >>" % (width, height, rotate),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image " + image_dict + b" /Length %d >>\nstream\n" % len(image_data)
        + image_data + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def jpeg_pdf(im, matrix=None, rotate=0, quality=85, **kw):
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    space = {"RGB": b"/DeviceRGB", "L": b"/DeviceGray"}[im.mode]
    image_dict = b"/Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode" % (
        im.width, im.height, space)
    return build_pdf(image_dict, buf.getvalue(), matrix or (595, 0, 0, 842, 0, 0), rotate=rotate, **kw)


def rendered_thumbnail(data, monkeypatch):
    """The thumbnail PDFium draws, the scan shortcut turned off."""
    with monkeypatch.context() as m:
        m.setattr(thumbnails, "_scan_thumbnail", lambda page, image: None)
        return thumbnail(data, "pdf")


def quadrant_image():
    """Four colours, so any rotation or flip shows."""
    im = Image.new("RGB", (240, 160), (220, 30, 30))
    im.paste((30, 200, 30), (120, 0, 240, 80))
    im.paste((30, 30, 220), (0, 80, 120, 160))
    im.paste((240, 240, 240), (120, 80, 240, 160))
    return im


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
        width, height)
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
