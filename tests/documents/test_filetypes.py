import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from blueprints.documents.filetypes import (
    MAX_FILENAME_CHARS,
    FileType,
    UnsupportedFile,
    detect,
    safe_filename,
    strip_image_metadata,
    thumbnail,
    title_from_filename,
)

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


def test_jpeg_gps_exif_removed_and_orientation_applied():
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
    assert b"Exif\x00\x00" not in cleaned
    assert b"GPS" not in cleaned and b"PhoneMaker" not in cleaned
    assert b"Dupont" not in cleaned and b"xmpmeta" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as im:
        assert im.format == "JPEG"
        exif = im.getexif()
        assert dict(exif) == {}
        assert not exif.get_ifd(GPS_IFD)
        assert "exif" not in im.info and "comment" not in im.info and "xmp" not in im.info
        assert im.size == (32, 64)  # rotated upright, so no orientation is needed
        # colours survive: left half of the original (blue) is now on top
        r, g, b = im.convert("RGB").getpixel((16, 8))
        assert b > 150 and r < 100


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
