"""What a document shows besides its file: the list's thumbnail, the pages of a PDF or a TIFF
drawn as images, a photo's drawings at the page's widths. Drawn at upload (first page, thumbnail,
photo) by the bounded child or Pillow, or on view for the other pages; read through the
document's gate, decrypted as they are sent. The page that shows them traces the view, except a
photo's drawing, which is the opening itself."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import BinaryIO

from flask import abort
from sqlalchemy import bindparam, select, update as sql_update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.exceptions import NotFound

from blueprints.documents.models import Document
from core import access, audit, blobs
from core.access import Viewer
from core.blobs import BlobKey
from core.compiled import Fixed
from core.db import before_slow_work, db, write_intent
from core.files import pages, photos, thumbnails
from core.storage import BlobCorrupt, BlobMissing


def size_of(stream: BinaryIO) -> int | None:
    """A stream's length in bytes; None when it cannot seek."""
    try:
        pos = stream.tell()
        end = stream.seek(0, 2)
        stream.seek(pos)
        return end
    except (AttributeError, OSError, ValueError):
        return None


def page_previews(
    data: bytes, kind: str, first_page: bool = True, thumbnail: bool = True
) -> tuple[bytes | None, bool, dict, dict | None]:
    """A PDF's or a TIFF's (thumbnail, needs a password, layout, first page drawn at each width),
    read in a bounded child (pages.inspect): a hostile file cannot take the worker down. One the
    child cannot read is kept as it came, its layout saying so; a TIFF then keeps the thumbnail
    Pillow draws here, and its page shows that. thumbnail=False: a stored file's, which has one."""
    try:
        info = pages.inspect(data, thumbnail=thumbnail, first_page=first_page)
    except pages.RenderError:
        thumb = thumbnails.thumbnail(data, kind) if thumbnail and kind == "tiff" else None
        return thumb, False, pages.UNREADABLE, None
    return info.thumbnail, info.encrypted, info.layout(), info.first_page


def image_previews(content: BinaryIO, kind: str, draw: bool = True) -> tuple[bytes | None, dict | None, dict | None]:
    """An image's (thumbnail, drawings, {"width", "widths"}): a photo drawn at the page's widths
    (photos.draw), its thumbnail from the smaller drawing; else, or for a photo Pillow cannot draw
    (shown as it came), the thumbnail alone and Nones."""
    found = None
    if draw and kind in photos.KINDS:
        try:
            found = photos.draw(content, kind, size_of(content))
        except Exception:  # noqa: BLE001 - as a thumbnail, a drawing that fails is never fatal
            found = None
    thumb = found.thumbnail if found is not None else None
    if thumb is None:
        content.seek(0)
        thumb = thumbnails.thumbnail(content, kind)
    if found is None:
        return thumb, None, None
    return thumb, found.drawings, {"width": found.width, "widths": found.widths}


def first_page_blobs(first_page: dict | None) -> list[str]:
    """The blobs of a PDF's stored first page images (none for other files, or drawn on view)."""
    return [first_page[size] for size in pages.WIDTHS if size in (first_page or {})]


def put_first_page(
    drawn: dict[str, tuple[str, bytes]] | None, patient_id: str, photo: dict | None = None
) -> dict | None:
    """A PDF's first page images (pages.Info.first_page), or a photo's drawings (photos.Drawn),
    stored encrypted, as the file is: {"mime": ..., size: blob id} for the document's
    `first_page`, with a photo's upright "width" and its drawings' "widths" (its page offers the
    file itself when no large drawing was kept); None when nothing was drawn or measured."""
    if not drawn and photo is None:
        return None
    kept: dict = dict(photo or {})
    for size, (mime, image) in (drawn or {}).items():
        kept[size] = blobs.put(io.BytesIO(image), patient_id).blob_id
        kept["mime"] = mime
    return kept


def photo_drawing(viewer: Viewer, doc: Document, size: str | None):
    """(MIME type, its bytes decrypted as read) of a photo drawn at upload at this size, traced as
    the opening it is (as open_content() traces the file); None when none was drawn at that
    size, or the document is no photo: the file itself is served."""
    if doc.kind not in photos.KINDS or size not in pages.WIDTHS:
        return None
    stored = _stored_drawing(doc.first_page, size)
    if stored is not None:
        audit.record(viewer, audit.Action.DOCUMENT_OPENED, doc, detail={"how": "preview"})
    return stored


def photo_sources(doc: Document) -> list[tuple[str | None, int]] | None:
    """The images a photo's page offers the browser (srcset): (the preview's size, None for the
    file itself; its width in pixels). None: a photo shown as it came (no wider than the page's
    image, or stored before photos were drawn)."""
    drawn = doc.first_page or {}
    if doc.kind not in photos.KINDS or "normal" not in drawn:
        return None
    widths = drawn["widths"]
    large = ("grande", widths["grande"]) if "grande" in drawn else (None, drawn["width"])
    return [("normal", widths["normal"]), large]


def open_thumbnail(viewer: Viewer, doc: Document):
    if not doc.thumb_blob_id:
        return None
    key = blobs.key_or_404(doc.thumb_blob_id)
    return blobs.store().open(doc.thumb_blob_id, key.wrapped_key, key.sha256)


def thumbnail_of(viewer: Viewer, document_id: str):
    """The preview image of a document this viewer may see, decrypted as it is read; None when
    there is none to show (no such document for this viewer, no image, its key shredded). The
    document's gate and the image's key are one statement of plain columns: a list shows one
    image per row, each asked on its own (docs/performance.md, 59). For a viewer gated as its
    kind (the holder's side: six a list on a phone's first screen) the statement is built once
    per kind of viewer (62)."""
    if access.gated_as_its_kind(viewer):
        found = _thumbnail_statement(viewer.kind).first({"patient_id": viewer.patient_id, "document_id": document_id})
    else:
        found = db.session.execute(_thumbnail_select(viewer).where(Document.id == document_id)).first()
    return None if found is None else blobs.store().open(found.thumb_blob_id, found.wrapped_key, found.sha256)


def _thumbnail_select(viewer: Viewer):
    columns = select(Document.thumb_blob_id, BlobKey.wrapped_key, BlobKey.sha256)
    return access.scope(viewer, columns).join(BlobKey, BlobKey.blob_id == Document.thumb_blob_id)


@lru_cache(maxsize=8)
def _thumbnail_statement(kind: str) -> Fixed:
    return Fixed(_thumbnail_select(access.kind_gate(kind)).where(Document.id == bindparam("document_id")))


def _drawing_of(data: bytes, kind: str) -> tuple[dict | None, dict | None]:
    """A stored file's (first page drawings, a photo's widths), as an upload draws them."""
    if kind not in pages.KINDS:
        return image_previews(io.BytesIO(data), kind)[1:]
    return page_previews(data, kind, thumbnail=False)[3], None


def _file_data(doc: Document) -> bytes:
    """The whole stored file (checked against its SHA-256), for PDFium or Pillow; not traced here."""
    key = blobs.key_or_404(doc.blob_id)
    return b"".join(blobs.store().open(doc.blob_id, key.wrapped_key, key.sha256))


def opens_full_screen(viewer: Viewer, doc: Document) -> bool:
    """Whether "aperçu" opens the pages in full screen: always a PDF (never a browser's PDF
    viewer, which runs the document's scripts; full screen says when its pages cannot be
    drawn), a TIFF whose pages can be drawn (no browser shows TIFF); the other files are served
    as they are, or as drawn at upload."""
    return doc.kind == "pdf" or (doc.kind == "tiff" and paged_preview(viewer, doc) is not None)


def paged_preview(viewer: Viewer, doc: Document) -> dict | None:
    """What the page of a PDF or a TIFF shows: its pages (numbered, with their image's size), or
    why a PDF shows none; None for any other file, or a TIFF whose pages cannot be drawn (its page
    shows its thumbnail: browsers show no TIFF). Read from the layout stored at upload: showing the
    page opens no blob. Not traced: the page that shows it traces its view. A lost file is
    BlobMissing (404), as it was when it was read."""
    if doc.kind not in pages.KINDS:
        return None
    if not blobs.store().exists(doc.blob_id):
        raise BlobMissing(f"blob {doc.blob_id} is missing")
    layout = doc.pdf_layout if doc.pdf_layout is not None else _read_layout(doc)
    if layout.get("error") and doc.kind == "tiff":
        return None
    if layout.get("error"):
        return {"error": True, "encrypted": False, "pages": [], "page_count": 0, "truncated": False}
    listed = []
    for number, (width, height) in enumerate(layout["sizes"], start=1):
        w, h = pages.image_size(width, height)
        listed.append({"number": number, "width": w, "height": h})
    return {
        "error": False,
        "encrypted": layout["encrypted"],
        "pages": listed,
        "page_count": layout["page_count"],
        "truncated": layout["page_count"] > len(listed),
    }


def _read_layout(doc: Document) -> dict:
    """A PDF (or a TIFF) stored before layouts were: read it once (outside any transaction) and
    store its layout on every document of that blob (same bytes, same layout), so no page reads
    it again."""
    data = _file_data(doc)
    alone = before_slow_work()
    try:
        layout = pages.inspect(data).layout()
    except pages.RenderError:
        layout = pages.UNREADABLE
    del data
    if not alone:  # a unit of work is pending: the layout goes with it
        doc.pdf_layout = layout
        return layout
    write_intent()
    db.session.execute(
        sql_update(Document)
        .where(Document.blob_id == doc.blob_id, Document.pdf_layout.is_(None))
        .values(pdf_layout=layout, updated_at=Document.updated_at)  # not a change of the document
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    set_committed_value(doc, "pdf_layout", layout)
    return layout


def page_image(viewer: Viewer, doc: Document, number: int, size: str = "normal") -> tuple[str, bytes] | None:
    """(MIME type, bytes) of one page of a PDF or a TIFF drawn as an image; None when there is no
    such page or it cannot be drawn. Not traced: the page that shows the images traced its view."""
    if doc.kind not in pages.KINDS or size not in pages.WIDTHS or not 1 <= number <= pages.MAX_PAGES:
        return None
    stored = _stored_drawing(doc.first_page, size) if number == 1 else None
    if stored is not None:  # drawn at upload: read, not drawn again
        return stored[0], b"".join(stored[1])
    data = _file_data(doc)
    before_slow_work()
    try:
        return pages.render(data, number, size)
    except pages.RenderError:
        return None


def stored_first_page(viewer: Viewer, document_id: str, size: str):
    """(MIME type, its bytes decrypted as read) of a PDF's first page as drawn at upload, for a
    viewer gated as its kind (a document's page on the holder's side shows it on every view):
    the gate, the drawing and its key read by statements built once (docs/performance.md, 74).
    None: anything else (no such document for this viewer, not drawn, another viewer), which
    page_image() answers as before."""
    if size not in pages.WIDTHS or not access.gated_as_its_kind(viewer):
        return None
    found = _first_page_statement(viewer.kind).first({"patient_id": viewer.patient_id, "document_id": document_id})
    return _stored_drawing(found.first_page, size) if found is not None and found.kind in pages.KINDS else None


def _stored_drawing(first_page: dict | None, size: str):
    """(MIME type, its bytes decrypted as read) of the first page drawn at upload at this size;
    None when none was drawn. Its key row gone: the drawing is shredded (404), as a file is."""
    stored = (first_page or {}).get(size)
    if not stored:
        return None
    key = _KEY.first({"blob_id": stored})
    if key is None:
        abort(404)
    return first_page["mime"], blobs.store().open(stored, key.wrapped_key, key.sha256)


@lru_cache(maxsize=8)
def _first_page_statement(kind: str) -> Fixed:
    columns = select(Document.kind, Document.first_page)
    return Fixed(access.scope(access.kind_gate(kind), columns).where(Document.id == bindparam("document_id")))


_KEY = Fixed(select(BlobKey.wrapped_key, BlobKey.sha256).where(BlobKey.blob_id == bindparam("blob_id")))


def draw_first_pages(limit: int | None = None) -> tuple[int, int]:
    """PDFs, TIFFs and photos stored before their first page or the photo was drawn at upload:
    drawn and stored now, one at a time (read, then drawn outside any transaction, then stored in
    a short one), oldest first. Returns (drawn, left as they are: a PDF that needs its password or
    is unreadable is drawn on view, a photo Pillow cannot draw is shown as it came, a file
    missing)."""
    wanted = select(Document.id).where(Document.kind.in_((*pages.KINDS, *photos.KINDS)), Document.first_page.is_(None))
    ids = list(db.session.scalars(wanted.order_by(Document.created_at, Document.id).limit(limit)))
    drawn = left = 0
    for doc_id in ids:
        doc = db.session.get(Document, doc_id)
        try:
            data = _file_data(doc)
        except (BlobCorrupt, NotFound):  # a lost or damaged file: its page says so
            left += 1
            continue
        before_slow_work()
        drawing, photo = _drawing_of(data, doc.kind)
        if not drawing and photo is None:
            left += 1
            continue
        write_intent()
        doc = db.session.get(Document, doc_id, populate_existing=True)
        if doc is not None and doc.first_page is None:  # not deleted nor drawn meanwhile
            doc.first_page = put_first_page(drawing, doc.patient_id, photo)
            drawn += 1
        db.session.commit()
    db.session.rollback()
    return drawn, left
