"""Image metadata removal (core/files/images.py): EXIF, XMP, IPTC and comments go; the
pixels, the orientation and the colour profile stay."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import ExifTags, Image, ImageCms, ImageOps, PngImagePlugin

from core.files.images import strip_image_metadata
from core.files.sniff import UnsupportedFile, detect
from core.files.thumbnails import thumbnail
from tests.documents.file_samples import (
    GPS_IFD,
    ORIENTATION,
    gps_exif,
    make_jpeg,
    make_pdf,
    make_png,
    make_tiff,
    png_chunk_types,
    png_header_only,
    reason,
    strip,
)

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
