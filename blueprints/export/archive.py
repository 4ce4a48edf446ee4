"""Writing the zip, member by member, each from chunks: a document's original comes out of the
blob store a chunk at a time, the Bundle a resource at a time, the CSVs a batch at a time. Only
a chunk, a page of rows and zipfile's own buffers are ever in memory, whatever the space holds.

The folder (LISEZMOI.txt describes it in French):
  LISEZMOI.txt, fhir/bundle.json, documents/<date>-<title>.<ext>, synthese.pdf, mesures.csv,
  historique.csv, carnet/espace.jsonl."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import render_template
from sqlalchemy import select

from blueprints.documents.models import Document
from blueprints.export import bundle, portable
from blueprints.history import services as history
from blueprints.measures import export as measures_csv
from blueprints.profile.synthesis import printing
from core import access, blobs, clock, pdf
from core.access import Viewer
from core.blobs import BlobKey

log = logging.getLogger(__name__)
EXTENSIONS = {"pdf": "pdf", "jpeg": "jpg", "png": "png", "tiff": "tif", "text": "txt"}
PACKED = ("jpeg", "png", "pdf")  # already compressed: stored as they are


def file_name(act_date, title: str, kind: str, taken: set[str]) -> str:
    """documents/<date>-<title>.<ext>: plain ASCII letters, digits and dashes, unique in the zip."""
    plain = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower()[:60].strip("-") or "document"
    stem, ext = f"documents/{act_date.isoformat()}-{slug}", EXTENSIONS.get(kind, "bin")
    name, n = f"{stem}.{ext}", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.{ext}"
    taken.add(name)
    return name


def _member(zf: zipfile.ZipFile, name: str, when: datetime, stored: bool = False):
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return zf.open(info, "w", force_zip64=True)


def _text(zf, name: str, when: datetime, chunks: Iterable[str]) -> None:
    with _member(zf, name, when) as out:
        for chunk in chunks:
            out.write(chunk.encode())


def _documents(viewer: Viewer) -> Iterable[tuple[Document, BlobKey]]:
    """Every document of the space (hidden ones too: it is the holder's), oldest first."""
    stmt = access.scope(viewer, select(Document, BlobKey)).join(BlobKey, BlobKey.blob_id == Document.blob_id)
    return bundle.stream(stmt.order_by(Document.created_at, Document.id))


def build(zf: zipfile.ZipFile, viewer: Viewer, base: str, counts: dict, tick: Callable[[int], None]) -> dict:
    """Write every member; returns what the folder holds (for the README and the trace)."""
    now = clock.utcnow()
    when = clock.paris(now)
    store = blobs.store()
    taken: set[str] = set()
    made = {"documents": 0, "resources": 0}
    for doc, key in _documents(viewer):  # zipfile writes one member at a time: the files first
        with _member(zf, file_name(doc.act_date, doc.title, doc.kind, taken), when, stored=doc.kind in PACKED) as out:
            for chunk in store.open(key.blob_id, key.wrapped_key, key.sha256):
                out.write(chunk)
        made["documents"] += 1
        tick(1)
    taken.clear()  # then their lines, in the same order: the same names
    with _member(zf, "carnet/espace.jsonl", when) as lines:
        for doc, _key in _documents(viewer):
            name = file_name(doc.act_date, doc.title, doc.kind, taken)
            line = {"table": "documents", "file": name, "row": portable.dump(Document, doc)}
            lines.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
        for model in portable.TABLES[1:]:
            for row in _rows(viewer, model):
                line = {"table": model.__tablename__, "row": portable.dump(model, row)}
                lines.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    with _member(zf, "fhir/bundle.json", when) as out:
        made["resources"] = bundle.write(out, viewer, base, now.isoformat(timespec="seconds"), tick)
    _text(zf, "mesures.csv", when, measures_csv.rows(viewer))
    tick(counts.get("measures", 0))
    _text(zf, "historique.csv", when, history.csv_chunks(viewer, history.Filters()))
    tick(counts.get("traces", 0))
    try:  # the summary is a convenience: the data is all in the other files
        summary = printing.a4_pdf(viewer, "fr")
    except pdf.PdfError:
        log.warning("space export: the summary PDF could not be made")
        summary = None
    if summary is not None:
        with _member(zf, "synthese.pdf", when, stored=True) as out:
            out.write(summary)
    made["summary"] = summary is not None
    del summary
    tick(1)
    readme = render_template("export/LISEZMOI.txt", made=made, counts=counts, when=when)
    _text(zf, "LISEZMOI.txt", when, [readme.replace("\n", "\r\n")])
    return made


def _rows(viewer: Viewer, model) -> Iterable:
    """Every row of a carried table."""
    return bundle.stream(access.scope(viewer, select(model)).order_by(model.id))
