"""Small files of every accepted kind, made in memory, for the upload-file tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image

from core.files.images import strip_image_metadata
from tests.documents import pdf_samples

GPS_IFD = ExifTags.IFD.GPSInfo  # 0x8825
ORIENTATION = ExifTags.Base.Orientation


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
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


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


def assert_thumbnail(data, max_side=320):
    assert data
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        assert 0 < im.width <= max_side
        return im.size


PEAK_SCRIPT = """
import io, resource, sys
from PIL import Image
from core.files import images, thumbnails

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
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    growth_kb, result = int(out[0]), int(out[1])
    assert result, "the operation produced nothing"
    return growth_kb / 1024


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
        b"<< /Type /XObject /Subtype /Image "
        + image_dict
        + b" /Length %d >>\nstream\n" % len(image_data)
        + image_data
        + b"\nendstream",
    ]
    return pdf_samples.build(dict(enumerate(objs, start=1)))


def jpeg_pdf(im, matrix=None, rotate=0, quality=85, **kw):
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    space = {"RGB": b"/DeviceRGB", "L": b"/DeviceGray"}[im.mode]
    image_dict = b"/Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode" % (
        im.width,
        im.height,
        space,
    )
    return build_pdf(image_dict, buf.getvalue(), matrix or (595, 0, 0, 842, 0, 0), rotate=rotate, **kw)


def quadrant_image():
    """Four colours, so any rotation or flip shows."""
    im = Image.new("RGB", (240, 160), (220, 30, 30))
    im.paste((30, 200, 30), (120, 0, 240, 80))
    im.paste((30, 30, 220), (0, 80, 120, 160))
    im.paste((240, 240, 240), (120, 80, 240, 160))
    return im
