"""PDFs written the way real producers write them, object by object, for the tests.

- PDFs carrying JavaScript in each place a viewer runs it (ISO 32000-1, 12.6): the catalog's
  /OpenAction (as Didier Stevens' make-pdf-javascript and Acrobat's "Document JavaScript" write
  it, with the document-level /Names /JavaScript tree beside it), a page's additional actions
  (/AA /O, the script in a Flate stream as Acrobat stores long scripts), and annotations: a link
  whose /A is a JavaScript action, and a form field widget with /AA keystroke/format scripts in
  an /AcroForm.
- A PDF encrypted with the standard security handler, revision 3 (RC4, 128-bit key), as qpdf
  and Acrobat write it: /O and /U from algorithms 3 and 5, every string and stream encrypted
  with its object's key (algorithms 1 and 2 of 7.6.3).
- Plain multi-page text documents.

Every file has a correct cross-reference table, a trailer /ID and a binary comment line.
"""

from __future__ import annotations

import hashlib
import os
import zlib

ALERT = (
    "app.alert({cMsg: 'Votre session a expir\\351. Saisissez votre mot de passe Carnet.', cTitle: 'Carnet', nIcon: 1});"
)


def _fmt(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


def build(
    objects: dict[int, bytes],
    *,
    root: int = 1,
    info: int | None = None,
    encrypt: int | None = None,
    file_id: bytes | None = None,
    version: str = "1.7",
) -> bytes:
    """A PDF file from numbered object bodies (everything between "N 0 obj" and "endobj")."""
    file_id = file_id or os.urandom(16)
    out = bytearray(f"%PDF-{version}\n".encode() + b"%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += f"xref\n0 {size}\n".encode() + b"0000000000 65535 f \n"
    for num in range(1, size):
        out += (f"{offsets[num]:010d} 00000 n \n" if num in offsets else "0000000000 65535 f \n").encode()
    trailer = f"<< /Size {size} /Root {root} 0 R".encode()
    if info:
        trailer += f" /Info {info} 0 R".encode()
    if encrypt:
        trailer += f" /Encrypt {encrypt} 0 R".encode()
    trailer += b" /ID [<" + file_id.hex().encode() + b"> <" + file_id.hex().encode() + b">] >>"
    out += b"trailer\n" + trailer + f"\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"", flate: bool = True) -> bytes:
    if flate:
        data = zlib.compress(data)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length " + _fmt(len(data)) + extra + b" >>\nstream\n" + data + b"\nendstream"


def _text(lines: list[str], size: int = 14) -> bytes:
    body = [f"BT /F1 {size} Tf 72 760 Td {size + 6} TL"]
    for line in lines:
        body.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '")
    body.append("ET")
    # a frame and a rule, so a drawn page is visibly not blank
    body.append("0.2 0.4 0.6 RG 2 w 56 56 483 730 re S 72 730 m 523 730 l S")
    return "\n".join(body).encode("latin-1")


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def text_pdf(
    pages: list[list[str]],
    *,
    catalog_extra: bytes = b"",
    page_extra: dict[int, bytes] | None = None,
    extra_objects: dict[int, bytes] | None = None,
    info_title: str = "Compte rendu",
) -> bytes:
    """An A4 text document, one list of lines per page. Objects 1-4 are the catalog, the page tree,
    the font and the Info dictionary; pages and their contents follow from 10 on."""
    page_extra = page_extra or {}
    kids = []
    objects = {3: FONT, 4: b"<< /Title (" + info_title.encode("latin-1") + b") /Producer (Carnet tests) >>"}
    for n, lines in enumerate(pages):
        page_num, content_num = 10 + 2 * n, 11 + 2 * n
        kids.append(f"{page_num} 0 R")
        objects[page_num] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents " + _fmt(content_num) + b" 0 R" + page_extra.get(n, b"") + b" >>"
        )
        objects[content_num] = _stream(_text(lines))
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R" + catalog_extra + b" >>"
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    objects.update(extra_objects or {})
    return build(objects, info=4)


def report(n_pages: int = 3) -> list[list[str]]:
    return [
        [
            f"Compte rendu de consultation - page {p + 1} sur {n_pages}",
            "",
            "Patiente : Camille Martin",
            "Motif : douleur du genou droit depuis trois semaines.",
            "Examen : pas d'epanchement.",
            "Conclusion : kinesitherapie, 10 seances.",
        ]
        for p in range(n_pages)
    ]


def multipage_pdf(n_pages: int = 3) -> bytes:
    return text_pdf(report(n_pages))


def scripted_pdfs() -> dict[str, bytes]:
    """One PDF per place a viewer runs JavaScript; each also draws readable text."""
    js = ALERT.encode("latin-1")
    open_action = text_pdf(
        report(2),
        catalog_extra=b" /OpenAction 5 0 R /Names << /JavaScript 6 0 R >>",
        extra_objects={
            5: b"<< /Type /Action /S /JavaScript /JS (" + js + b") >>",
            6: b"<< /Names [(Carnet) 7 0 R] >>",
            7: b"<< /S /JavaScript /JS (app.alert\\('document-level script'\\);) >>",
        },
    )
    page_aa = text_pdf(
        report(2),
        page_extra={0: b" /AA << /O 5 0 R /C 6 0 R >>"},
        extra_objects={
            5: b"<< /Type /Action /S /JavaScript /JS 7 0 R >>",
            6: b"<< /Type /Action /S /JavaScript /JS (app.alert\\('page closed'\\);) >>",
            7: _stream(js),
        },
    )
    annotations = text_pdf(
        report(1),
        catalog_extra=b" /AcroForm << /Fields [6 0 R] /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 3 0 R >> >> >>",
        page_extra={0: b" /Annots [5 0 R 6 0 R]"},
        extra_objects={
            5: b"<< /Type /Annot /Subtype /Link /Rect [72 600 300 620] /Border [0 0 0]"
            b" /A << /Type /Action /S /JavaScript /JS (" + js + b") >> >>",
            6: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (nom) /V (Camille) /Rect [72 560 300 580] /P 10 0 R"
            b" /F 4 /DA (/Helv 12 Tf 0 g) /AP << /N 8 0 R >>"
            b" /AA << /K << /S /JavaScript /JS (app.alert\\('keystroke'\\);) >> /F 9 0 R /Fo 9 0 R >> >>",
            8: _stream(
                b"/Tx BMC BT /Helv 12 Tf 0 g 2 5 Td (Camille) Tj ET EMC",
                b" /Type /XObject /Subtype /Form /BBox [0 0 228 20] /Resources << /Font << /Helv 3 0 R >> >>",
            ),
            9: b"<< /S /JavaScript /JS (" + js + b") >>",
        },
    )
    return {"open_action": open_action, "page_additional_action": page_aa, "link_and_widget": annotations}


# --------------------------------------------------------------------------- encryption (RC4, R3)

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _padded(password: str) -> bytes:
    return (password.encode("latin-1") + _PAD)[:32]


def _owner_entry(owner: str, user: str) -> bytes:  # algorithm 3, revision 3
    digest = hashlib.md5(_padded(owner)).digest()
    for _ in range(50):
        digest = hashlib.md5(digest).digest()
    key = digest[:16]
    out = _rc4(key, _padded(user))
    for i in range(1, 20):
        out = _rc4(bytes(b ^ i for b in key), out)
    return out


def _file_key(user: str, o: bytes, p: int, file_id: bytes) -> bytes:  # algorithm 2, revision 3
    digest = hashlib.md5(_padded(user) + o + (p & 0xFFFFFFFF).to_bytes(4, "little") + file_id).digest()
    for _ in range(50):
        digest = hashlib.md5(digest[:16]).digest()
    return digest[:16]


def _user_entry(key: bytes, file_id: bytes) -> bytes:  # algorithm 5
    out = _rc4(key, hashlib.md5(_PAD + file_id).digest())
    for i in range(1, 20):
        out = _rc4(bytes(b ^ i for b in key), out)
    return out + bytes(16)


def encrypted_pdf(user_password: str = "genou", owner_password: str = "cabinet-owner", n_pages: int = 2) -> bytes:
    """A text document that opens only with ``user_password`` (RC4 128-bit, revision 3)."""
    file_id = os.urandom(16)
    p = -3904  # print, copy, ... (bits 3-6, 9-12 set; reserved high bits 1)
    o = _owner_entry(owner_password, user_password)
    key = _file_key(user_password, o, p, file_id)
    u = _user_entry(key, file_id)

    def object_key(num: int) -> bytes:  # algorithm 1
        return hashlib.md5(key + num.to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:16]

    kids, objects = [], {3: FONT}
    title = _rc4(object_key(4), "Compte rendu protégé".encode("latin-1"))
    objects[4] = b"<< /Title <" + title.hex().encode() + b"> >>"
    for n, lines in enumerate(report(n_pages)):
        page_num, content_num = 10 + 2 * n, 11 + 2 * n
        kids.append(f"{page_num} 0 R")
        objects[page_num] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents " + _fmt(content_num) + b" 0 R >>"
        )
        data = _rc4(object_key(content_num), zlib.compress(_text(lines)))
        objects[content_num] = (
            b"<< /Length " + _fmt(len(data)) + b" /Filter /FlateDecode >>\nstream\n" + data + b"\nendstream"
        )
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {n_pages} >>".encode()
    objects[5] = (
        b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P "
        + _fmt(p)
        + b" /O <"
        + o.hex().encode()
        + b"> /U <"
        + u.hex().encode()
        + b"> >>"
    )
    return build(objects, info=4, encrypt=5, file_id=file_id, version="1.4")
