"""What an upload is, decided from its first bytes (core/files/sniff.py)."""

from __future__ import annotations

import pytest

from core.files.sniff import FileType, UnsupportedFile, detect
from tests.documents.file_samples import HANDMADE_PDF, make_jpeg, make_pdf, make_png, make_tiff, reason

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
