"""Documents: add (streamed, encrypted, metadata stripped), browse, open, edit, hide, delete.
What a document shows besides its file (thumbnail, pages drawn, a photo's drawings) is
blueprints.documents.previews.

Plain Python over the request-scoped session: services add and flush, the request
commits once. Every query goes through the gate (`access.scope` / `access.get_or_404`).
A document's files either fully exist or are fully absent: `core.blobs` stores them and
removes them on rollback, and shreds them after the commit that deletes the document.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import BinaryIO

from flask import abort, current_app
from sqlalchemy import bindparam, func, select, tuple_

from blueprints.documents import categories, previews
from blueprints.documents.models import Document, fold
from core import access, audit, blobs, clock
from core.access import Viewer
from core.compiled import Fixed
from core.db import before_slow_work, db
from core.files import images, names, pages, sniff
from core.formatting import date_text
from core.grants import Share
from core.i18n import current_locale, gettext as _
from core.people import profession_label
from core.storage import BlobCorrupt, BlobTooLarge, SeekableBlob

PAGE_SIZE = 30
TEXT_PREVIEW_BYTES = 200_000


# --------------------------------------------------------------------------- storage


def max_bytes() -> int:
    return int(current_app.config["UPLOAD_MAX_MB"]) * 1024 * 1024


# --------------------------------------------------------------------------- adding


class UploadRefused(ValueError):
    """A file was refused; nothing from the request was stored."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(reason)
        self.filename = filename
        self.reason = reason  # empty | type | mismatch | damaged | size

    def message(self, max_mb: int) -> str:
        name = names.safe_filename(self.filename) if self.filename else _("This file")
        accepted = {"name": name, "mb": max_mb}
        if self.reason == "empty":
            return _("“%(name)s” is empty: choose another file.", **accepted)
        if self.reason == "mismatch":
            return _(
                "“%(name)s” is not accepted: its name does not match its content. Send a PDF, a photo "
                "(JPEG, PNG, TIFF) or a text file, %(mb)s MB at most.",
                **accepted,
            )
        if self.reason == "damaged":
            return _(
                "“%(name)s” could not be read: it may be damaged. Send a PDF, a photo (JPEG, PNG, TIFF) "
                "or a text file, %(mb)s MB at most.",
                **accepted,
            )
        if self.reason == "size":
            return _("“%(name)s” is too large. Send a file of %(mb)s MB at most.", **accepted)
        return _(
            "“%(name)s” is not accepted: send a PDF, a photo (JPEG, PNG, TIFF) or a text file, %(mb)s MB at most.",
            **accepted,
        )


@dataclass
class Upload:
    """One incoming file: a readable stream (FileStorage.stream) and the name the browser gave."""

    stream: BinaryIO
    filename: str


@dataclass
class _Prepared:
    ftype: sniff.FileType
    content: BinaryIO
    thumb: bytes | None
    name: str
    owned: bool  # a temp file of ours (stripped image), closed once stored
    needs_password: bool = False  # a PDF that opens only with its password
    pdf_layout: dict | None = None  # a PDF's pages, stored on the document (pages.Info.layout)
    first_page: dict | None = None  # a PDF's page 1 drawn at each width (pages.Info.first_page)
    photo: dict | None = None  # a photo's upright width and its drawings' (those are in first_page)


def _prepare(upload: Upload, limit: int, first_page: bool = False) -> _Prepared:
    """Decide the type from the bytes, strip image metadata, make the thumbnail (and a PDF's
    first page images, when asked)."""
    name = upload.filename or ""
    stream = upload.stream
    size = previews.size_of(stream)
    if size is not None and size > limit:
        raise UploadRefused(name, "size")
    head = stream.read(sniff.SNIFF_BYTES)
    try:
        ftype = sniff.detect(head, name)
    except sniff.UnsupportedFile as exc:
        raise UploadRefused(name, exc.reason) from exc
    stream.seek(0)
    if ftype.kind in sniff.IMAGE_KINDS:
        clean = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
        try:
            images.strip_image_metadata(stream, ftype.kind, clean)
        except sniff.UnsupportedFile as exc:
            clean.close()
            raise UploadRefused(name, exc.reason) from exc
        clean.seek(0)
        content: BinaryIO = clean
    else:
        content = stream
    owned = content is not stream
    needs_password, layout, drawn, photo = False, None, None, None
    if ftype.kind in pages.KINDS:
        data = content.read(limit + 1)
        if len(data) > limit:
            raise UploadRefused(name, "size")
        thumb, needs_password, layout, drawn = previews.page_previews(data, ftype.kind, first_page)
        del data
    elif ftype.kind != "text":
        thumb, drawn, photo = previews.image_previews(content, ftype.kind, draw=first_page)
    else:
        thumb = None
    content.seek(0)
    name = names.safe_filename(name or f"document.{ftype.extension}")
    return _Prepared(ftype, content, thumb, name, owned, needs_password, layout, drawn, photo)


@dataclass
class StoredFile:
    """One accepted file, stored encrypted (with its thumbnail): what a document or a message
    attachment keeps of it."""

    name: str
    kind: str
    mime: str
    size: int
    sha256: str
    blob_id: str
    thumb_blob_id: str | None
    pdf_layout: dict | None
    needs_password: bool
    #: A PDF's page 1 as the document's page shows it: {"mime": ..., size: blob id for each width}.
    first_page: dict | None = None

    def columns(self) -> dict:
        """The columns a document and a message's attachment both keep of the file."""
        return {
            "kind": self.kind,
            "mime": self.mime,
            "size": self.size,
            "sha256": self.sha256,
            "blob_id": self.blob_id,
            "thumb_blob_id": self.thumb_blob_id,
            "pdf_layout": self.pdf_layout,
        }


def file_blobs(item) -> list[str]:
    """Every blob of a stored file (a StoredFile or a Document): the file, its thumbnail, its
    first page images."""
    return [b for b in (item.blob_id, item.thumb_blob_id, *previews.first_page_blobs(item.first_page)) if b]


def store_files(patient_id: str, uploads: list[Upload], first_page: bool = False) -> list[StoredFile]:
    """The upload rules every feature shares: the type decided from the bytes, the size bounded,
    image metadata stripped, a thumbnail drawn on the server, the file stored encrypted. Every
    file or none: UploadRefused (nothing stored) for the first bad one. The blobs written are
    removed if the transaction rolls back (core.blobs). first_page: a PDF's first page images
    are drawn and stored too (a document's page shows them on every view)."""
    uploads = [u for u in uploads if u is not None]
    if not uploads:
        raise UploadRefused("", "empty")
    limit = max_bytes()
    prepared: list[_Prepared] = []
    before_slow_work()  # thumbnails and PDF checks hold no write lock
    try:
        for u in uploads:  # refuse before storing anything
            prepared.append(_prepare(u, limit, first_page))
    except UploadRefused:
        _close(prepared)
        raise
    stored: list[StoredFile] = []
    written: list[str] = []
    try:
        for item in prepared:
            try:
                main = blobs.put(item.content, patient_id, max_size=limit)
            except BlobTooLarge as exc:
                raise UploadRefused(item.name, "size") from exc
            written.append(main.blob_id)
            thumb = None
            if item.thumb:
                thumb = blobs.put(io.BytesIO(item.thumb), patient_id, max_size=limit)
                written.append(thumb.blob_id)
            drawn = previews.put_first_page(item.first_page, patient_id, item.photo)
            written += previews.first_page_blobs(drawn)
            stored.append(
                StoredFile(
                    name=item.name[:200],
                    kind=item.ftype.kind,
                    mime=item.ftype.mime
                    if item.ftype.kind != "text"
                    else f"text/plain; charset={item.ftype.charset or 'utf-8'}",
                    size=main.size,
                    sha256=main.sha256,
                    blob_id=main.blob_id,
                    thumb_blob_id=thumb.blob_id if thumb else None,
                    pdf_layout=item.pdf_layout,
                    needs_password=item.needs_password,
                    first_page=drawn,
                )
            )
    except BaseException:
        blobs.forget(written)
        raise
    finally:
        _close(prepared)
    return stored


def add_documents(
    viewer: Viewer,
    uploads: list[Upload],
    *,
    category: str,
    act_date: date,
    title: str | None = None,
    note: str | None = None,
    source: str = "upload",
    action: audit.Action | None = audit.Action.DOCUMENT_ADDED,
) -> list[Document]:
    """Store every file or none. Raises UploadRefused (nothing stored) for the first bad file.
    A professional on the record deposits through the same checks, when the share or grant allows it,
    and so does a connected app (action=None: the caller traces the documents itself)."""
    if viewer.on_record:
        access.require(viewer, access.RECORD_DOCUMENTS, "deposit")
    elif viewer.kind == "app":  # a connected app the holder allowed to add documents
        access.require(viewer, "fhir.DocumentReference", "create")
    else:
        access.require(viewer, "documents", "write")
    if category not in categories.CATEGORIES:
        raise ValueError("unknown category")
    stored = store_files(viewer.patient_id, uploads, first_page=True)
    docs: list[Document] = []
    title = (title or "").strip()
    try:
        for n, item in enumerate(stored, start=1):
            if title:
                doc_title = title if len(stored) == 1 else f"{title} ({n})"
            else:
                doc_title = names.title_from_filename(item.name)
            doc = Document(
                patient_id=viewer.patient_id,
                title=doc_title[:200],
                category=category,
                act_date=act_date,
                note=(note or "").strip() or None,
                author_type="holder" if viewer.is_holder else viewer.kind,
                author_name=_author_name(viewer),
                source=source,
                author_profession=getattr(viewer.professional, "profession", None) if viewer.on_record else None,
                author_rpps=getattr(viewer.professional, "rpps", None) if viewer.on_record else None,
                grant_id=viewer.grant_id if viewer.on_record else None,
                original_name=item.name,
                first_page=item.first_page,
                **item.columns(),
                hidden=False,
            )
            doc.needs_password = item.needs_password  # not stored: told to the uploader once
            db.session.add(doc)
            docs.append(doc)
        db.session.flush()
    except BaseException:
        for doc in docs:
            if doc in db.session:
                db.session.expunge(doc)
        blobs.forget([b for item in stored for b in file_blobs(item)])
        raise
    for doc in docs if action else ():
        audit.record(viewer, action, doc, detail={"category": doc.category, "kind": doc.kind})
    return docs


def _close(prepared: list[_Prepared]) -> None:
    for item in prepared:
        if item.owned:
            item.content.close()


def _author_name(viewer: Viewer) -> str | None:
    patient = getattr(viewer.account, "patient", None)
    if patient is not None:
        return patient.display_name
    return viewer.display_name or None


# --------------------------------------------------------------------------- reading


def get(viewer: Viewer, document_id: str) -> Document:
    """The document if this viewer may see it; 404 otherwise (another space, hidden...)."""
    return access.get_or_404(viewer, Document, document_id)


def _search(stmt, q: str | None):
    """Every word must appear in the title, author or note, accents and case aside."""
    for word in fold((q or "").strip()[:100]).split()[:8]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Document.search_text.like(pattern, escape="\\"))
    return stmt


def parse_cursor(raw: str | None) -> tuple[date, str] | None:
    """ "2026-03-12~<uuid>" → (date, id); anything else → None (first page)."""
    if not raw or "~" not in raw:
        return None
    day, _sep, doc_id = raw.partition("~")
    try:
        return date.fromisoformat(day), doc_id[:36]
    except ValueError:
        return None


def _month(d: date) -> tuple[str, str]:
    """("2026-03", "Mars 2026"): the list's month headings, one per row."""
    return _month_heading(d.year, d.month, str(current_locale()))


@lru_cache(maxsize=1024)
def _month_heading(year: int, month: int, _locale: str) -> tuple[str, str]:
    """Per month and language: a page of thirty rows falls in a few months (docs/performance.md, 47)."""
    text = date_text(date(year, month, 1), "LLLL y")
    return f"{year:04d}-{month:02d}", text[:1].upper() + text[1:]


# What row() reads: a list's rows come as plain rows of these columns, several times faster to
# load than ORM objects (docs/performance.md, 55); a document's page passes its Document.
_ROW_COLUMNS = (
    Document.id,
    Document.title,
    Document.category,
    Document.act_date,
    Document.author_name,
    Document.author_type,
    Document.kind,
    Document.author_profession,
    Document.size,
    Document.hidden,
    Document.thumb_blob_id,
)


def row(doc) -> dict:
    key, month = _month(doc.act_date)
    return {
        "id": doc.id,
        "title": doc.title,
        "category": doc.category,
        "category_label": categories.label(doc.category),
        "act_date": doc.act_date,
        "author_name": doc.author_name,
        "author_type": doc.author_type,
        "kind": doc.kind,
        "author_profession": profession_label(doc.author_profession) if doc.author_profession else None,
        "size": doc.size,
        "hidden": doc.hidden,
        "has_thumb": doc.thumb_blob_id is not None,
        "month_key": key,
        "month": month,
    }


@lru_cache(maxsize=16)
def _list_statements(kind: str, author: bool, after: bool) -> tuple[Fixed, Fixed]:
    """The list as it opens (no search, no category) and its chips' counts, built and compiled
    once per gate (access.gate_of(): the kind of viewer, and whether a professional's own hidden
    deposits are shown); `after`: the rows below a cursor."""
    gate = access.kind_gate(kind, author)
    stmt = access.scope(gate, select(*_ROW_COLUMNS))
    if after:
        cursor = tuple_(
            bindparam("act_date", type_=Document.act_date.type), bindparam("doc_id", type_=Document.id.type)
        )
        stmt = stmt.where(tuple_(Document.act_date, Document.id) < cursor)
    rows = Fixed(stmt.order_by(Document.act_date.desc(), Document.id.desc()).limit(bindparam("size")))
    counts = Fixed(access.scope(gate, select(Document.category, func.count())).group_by(Document.category))
    return rows, counts


def listing(
    viewer: Viewer,
    *,
    category: str | None = None,
    q: str | None = None,
    after: str | None = None,
    limit: int | None = None,
    with_counts: bool = True,
) -> dict:
    """One page of the list, newest act first, keyset-paginated on (act_date, id). The next
    rows of an infinite scroll need no chip counts (with_counts=False saves that query)."""
    limit = limit or PAGE_SIZE
    if category not in categories.CATEGORIES:
        category = None
    cursor = parse_cursor(after)
    gate = None if (q or "").strip() or category else access.gate_of(viewer)
    if gate is not None:  # the list as it opens
        rows, counted = _list_statements(*gate, cursor is not None)
        gated = access.gate_params(viewer, gate[1])
        params = {**gated, "size": limit + 1}
        if cursor:
            params["act_date"], params["doc_id"] = cursor
        docs = rows.all(params)
        counts = dict(counted.tuples(gated)) if with_counts else {}
    else:
        stmt = _search(access.scope(viewer, select(*_ROW_COLUMNS)), q)
        if category:
            stmt = stmt.where(Document.category == category)
        if cursor:
            stmt = stmt.where(tuple_(Document.act_date, Document.id) < tuple_(*cursor))
        docs = db.session.execute(stmt.order_by(Document.act_date.desc(), Document.id.desc()).limit(limit + 1)).all()
        counts = {}
        if with_counts:
            counted = _search(access.scope(viewer, select(Document.category, func.count())), q)
            counts = {code: n for code, n in db.session.execute(counted.group_by(Document.category))}
    more = len(docs) > limit
    docs = docs[:limit]
    next_cursor = f"{docs[-1].act_date.isoformat()}~{docs[-1].id}" if more and docs else None
    chips = [
        {"code": code, "label": str(text), "count": counts[code]}
        for code, text in categories.CATEGORIES.items()
        if counts.get(code)
    ]
    return {
        "rows": [row(d) for d in docs],
        "next_cursor": next_cursor,
        "chips": chips,
        "total": sum(counts.values()) if with_counts else None,
        "category": category,
        "q": (q or "").strip()[:100],
        "after": after if cursor else None,
    }


def has_any(viewer: Viewer) -> bool:
    return db.session.scalar(access.scope(viewer, select(Document.id)).limit(1)) is not None


def detail(viewer: Viewer, doc: Document) -> dict:
    data = row(doc)
    data.update(
        {
            "note": doc.note,
            "source": categories.source_label(doc.source),
            "original_name": doc.original_name,
            "created_at": doc.created_at,
            "updated_at": doc.updated_at,
            "mime": doc.mime,
            "previewable": doc.kind in ("pdf", "jpeg", "png", "text") or doc.thumb_blob_id is not None,
            "photo_sources": previews.photo_sources(doc),
            "can_write": access.can(viewer, "documents", "write"),
            "can_delete": access.can(viewer, "documents", "delete"),
            # A file lost from the disk (the operator sees it in `storage check`): the page says so.
            "file_missing": not blobs.store().exists(doc.blob_id),
            "author_identity": author_identity(doc),
        }
    )
    return data


def author_identity(doc: Document) -> str:
    """A professional's deposit through a code carries a name and an RPPS the person typed
    ("typed"); through a professional account, checked ones ("verified"); "" for the holder."""
    if doc.author_type != "professional":
        return ""
    through_code = doc.grant_id is not None and db.session.get(Share, doc.grant_id) is not None
    return "typed" if through_code else "verified"


def open_content(
    viewer: Viewer,
    doc: Document,
    purpose: str,
    action: audit.Action = audit.Action.DOCUMENT_OPENED,
    detail: dict | None = None,
) -> SeekableBlob:
    """The document's bytes as a seekable file (a download may ask for a range of them); traced as
    document_opened (preview or download), or under the action the caller names (a professional's
    download: document_downloaded). Every chunk read is authenticated: damaged or swapped data is
    refused (BlobCorrupt), never served."""
    key = blobs.key_or_404(doc.blob_id)
    content = blobs.store().open_seekable(doc.blob_id, key.wrapped_key)
    audit.record(viewer, action, doc, detail={"how": purpose, **(detail or {})})
    return content


def text_preview(viewer: Viewer, doc: Document) -> str | None:
    """The beginning of a plain-text document, decoded for display (escaped by the template);
    None when its file is missing or damaged (the page says so)."""
    try:
        with open_content(viewer, doc, "preview") as content:
            buf = content.read(TEXT_PREVIEW_BYTES)
    except BlobCorrupt:
        return None
    charset = "utf-8"
    if "charset=" in doc.mime:
        charset = doc.mime.split("charset=", 1)[1].strip() or "utf-8"
    text = bytes(buf[:TEXT_PREVIEW_BYTES]).decode(charset, errors="replace")
    return text.removeprefix("\ufeff")


# --------------------------------------------------------------------------- changing


def update(viewer: Viewer, doc: Document, *, title: str, category: str, act_date: date, note: str | None) -> None:
    access.require(viewer, "documents", "write")
    if category not in categories.CATEGORIES:
        raise ValueError("unknown category")
    changed = {}
    for name, value in (
        ("title", title.strip()[:200]),
        ("category", category),
        ("act_date", act_date),
        ("note", (note or "").strip() or None),
    ):
        if getattr(doc, name) != value:
            changed[name] = True
            setattr(doc, name, value)
    if changed:
        doc.updated_at = clock.utcnow()
        audit.record(viewer, audit.Action.DOCUMENT_UPDATED, doc, detail={"fields": sorted(changed)})
    db.session.flush()


def set_hidden(viewer: Viewer, document_ids: list[str], hidden: bool) -> int:
    """Hide from professionals (or show again) the given documents of this space; returns how many
    changed. Any id that is not one of this space's documents: 404, and nothing changes."""
    access.require(viewer, "documents", "write")
    ids = list(dict.fromkeys(document_ids))
    if not ids:
        return 0
    if len(ids) > 500 or not all(isinstance(i, str) and len(i) <= 36 for i in ids):
        abort(404)
    docs = list(db.session.scalars(access.scope(viewer, select(Document).where(Document.id.in_(ids)))))
    if len(docs) != len(ids):
        abort(404)
    n = 0
    for doc in docs:
        if doc.hidden != hidden:
            doc.hidden = hidden
            doc.updated_at = clock.utcnow()
            audit.record(viewer, audit.Action.DOCUMENT_HIDDEN if hidden else audit.Action.DOCUMENT_SHOWN, doc)
            n += 1
    db.session.flush()
    return n


def delete_document(viewer: Viewer, doc: Document) -> None:
    """Crypto-shred: the rows holding the wrapped keys go in this transaction, the files after commit."""
    access.require(viewer, "documents", "delete")
    audit.record(viewer, audit.Action.DOCUMENT_DELETED, doc, detail={"category": doc.category, "size": doc.size})
    blob_ids = file_blobs(doc)
    db.session.delete(doc)
    db.session.flush()
    blobs.shred(blob_ids, viewer.patient_id)


# --------------------------------------------------------------------------- elsewhere


def summary(viewer: Viewer) -> dict:
    """For the home screen: how many documents, and the latest one."""
    found = db.session.execute(
        access.scope(viewer, select(Document, func.count().over()))
        .order_by(Document.act_date.desc(), Document.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return {"count": 0, "latest": None}
    return {"count": found[1], "latest": row(found[0])}
