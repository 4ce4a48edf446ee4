"""Files sent with messages: the documents' upload rules (blueprints.documents.services.store_files:
type from the bytes, size, image metadata stripped, encrypted storage), a thumbnail drawn on the
server as their only preview, downloads that never run (documents.files.serve: sandboxed,
attachment, nosniff). One tap saves one into Documents; a professional attaches a document of
the record their grant lets them see."""

from __future__ import annotations

import io

from flask import abort
from sqlalchemy import select

from blueprints.documents import categories, files, services as documents
from blueprints.documents.models import Document
from blueprints.messaging.models import Attachment, Message, Thread
from core import access, audit, blobs, clock
from core.access import Viewer
from core.db import db
from core.files import names
from core.grants import Grant
from core.people import Professional

MAX_FILES = 5
RECORD_CHOICES = 50  # the record's latest documents a professional may pick from


def row(viewer: Viewer, a: Attachment) -> dict:
    return {
        "id": a.id,
        "name": a.name,
        "kind": a.kind,
        "size": a.size,
        "has_thumb": a.thumb_blob_id is not None,
        "saved_document_id": a.saved_document_id if viewer.is_holder else None,
    }


def store(viewer: Viewer, patient_id: str, uploads: list, document_ids: list[str]) -> list:
    """Files from the device (holder or professional) and documents of the record (a
    professional with a grant), checked and stored before any message row exists: all of them,
    or none (documents.UploadRefused, TooMany)."""
    uploads = [u for u in uploads if u is not None]
    document_ids = [d for d in dict.fromkeys(document_ids) if d]
    if len(uploads) + len(document_ids) > MAX_FILES:
        raise TooMany()
    copies = [_record_copy(viewer, patient_id, d) for d in document_ids]
    return documents.store_files(patient_id, uploads + copies) if uploads or copies else []


def attach(message: Message, stored: list) -> list[Attachment]:
    """The stored files as the message's attachments."""
    found = []
    for n, item in enumerate(stored):
        a = Attachment(
            message_id=message.id,
            patient_id=message.patient_id,
            position=n,
            name=item.name,
            **item.columns(),
        )
        db.session.add(a)
        found.append(a)
    db.session.flush()
    return found


class TooMany(ValueError):
    """More than MAX_FILES files on one message."""


def _record_copy(viewer: Viewer, patient_id: str, document_id: str) -> documents.Upload:
    """A document the professional may see in this record (through their grant, as the record
    pages show it), read as a fresh upload: the attachment is a copy of its own, so deleting
    either never removes the other. Traced as an opening of the document."""
    on_record = record_viewer(viewer, patient_id)
    if on_record is None or not access.can(on_record, access.RECORD_DOCUMENTS):
        abort(404)
    doc = documents.get(on_record, str(document_id)[:36])
    with documents.open_content(on_record, doc, "attachment", audit.Action.DOCUMENT_OPENED) as content:
        data = content.read()
    return documents.Upload(io.BytesIO(bytes(data)), files.download_name(doc))


def record_viewer(viewer: Viewer, patient_id: str) -> Viewer | None:
    """The professional acting on this holder's record through their live grant, or None."""
    if viewer.is_holder or viewer.professional is None:
        return None
    grant_id = db.session.scalar(
        select(Grant.id).where(
            Grant.patient_id == patient_id, Grant.professional_id == viewer.professional.id, Grant.ended_at.is_(None)
        )
    )
    if grant_id is None or access.blocked(patient_id, viewer.professional.rpps):
        return None
    return access.record_viewer(viewer, grant_id)


def record_choices(viewer: Viewer, patient_id: str) -> list[dict]:
    """The record's latest documents a professional may attach (none without a live grant)."""
    on_record = record_viewer(viewer, patient_id)
    if on_record is None or not access.can(on_record, access.RECORD_DOCUMENTS):
        return []
    return documents.listing(on_record, limit=RECORD_CHOICES, with_counts=False)["rows"]


def get(viewer: Viewer, attachment_id: str) -> tuple[Attachment, Thread]:
    """The attachment if its thread is one this viewer may read; 404 otherwise."""
    found = db.session.execute(
        access.scope_threads(viewer, select(Thread, Attachment))
        .join(Message, Message.thread_id == Thread.id)
        .join(Attachment, Attachment.message_id == Message.id)
        .where(Attachment.id == str(attachment_id)[:36])
    ).first()
    if found is None:
        abort(404)
    thread, attachment = found
    return attachment, thread


def _trace(viewer: Viewer, thread: Thread, attachment: Attachment, how: str) -> None:
    if not viewer.is_holder:
        audit.record(
            viewer, audit.Action.MESSAGE_THREAD_READ, thread, detail={"attachment": attachment.name, "how": how}
        )


def open_file(viewer: Viewer, attachment: Attachment, thread: Thread):
    key = blobs.key_or_404(attachment.blob_id)
    content = blobs.store().open_seekable(attachment.blob_id, key.wrapped_key)
    _trace(viewer, thread, attachment, "download")
    return content


def open_thumbnail(viewer: Viewer, attachment: Attachment):
    if not attachment.thumb_blob_id:
        return None
    key = blobs.key_or_404(attachment.thumb_blob_id)
    return blobs.store().open(attachment.thumb_blob_id, key.wrapped_key, key.sha256)


def save_to_documents(viewer: Viewer, attachment: Attachment, thread: Thread, *, category: str) -> Document:
    """One tap: the attachment becomes a document of the holder's space, in the category
    chosen, authored by its sender (a copy: deleting the message or the document keeps the other)."""
    access.require(viewer, "documents", "write")
    if not viewer.is_holder or category not in categories.CATEGORIES:
        abort(400)
    message = db.session.get(Message, attachment.message_id)
    with blobs.store().open_seekable(attachment.blob_id, blobs.key_or_404(attachment.blob_id).wrapped_key) as content:
        data = bytes(content.read())
    doc = documents.add_documents(
        viewer,
        [documents.Upload(io.BytesIO(data), attachment.name)],
        category=category,
        act_date=clock.paris(message.created_at).date(),
        title=names.title_from_filename(attachment.name),
        source="message",
        action=None,
    )[0]
    if message.sender == "professional":
        pro = db.session.get(Professional, thread.professional_id)
        doc.author_type, doc.author_name = "professional", pro.display_name
        doc.author_profession, doc.author_rpps = pro.profession, pro.rpps
    attachment.saved_document_id = doc.id
    db.session.flush()
    audit.record(
        viewer, audit.Action.DOCUMENT_ADDED, doc, detail={"category": doc.category, "kind": doc.kind, "from": "message"}
    )
    return doc
