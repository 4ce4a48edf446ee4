"""Names of uploaded files (core/files/names.py)."""

from __future__ import annotations

import pytest

from core.files.names import MAX_FILENAME_CHARS, safe_filename, title_from_filename

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
