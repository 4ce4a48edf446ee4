"""Secure messaging: threads between one holder and one professional with an account, their
messages and attachments. Attachment files are blobs of the holder's space (core.blobs), kept
like documents' files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.blobs import BlobKey
from core.db import Base, uuid_pk


class Thread(Base):
    """One conversation. The unread counters of each side are kept on the thread, so the count
    the navigation polls is one indexed read."""

    __tablename__ = "message_threads"
    __table_args__ = (
        Index("ix_message_threads_patient", "patient_id", "last_message_at"),
        Index("ix_message_threads_professional", "professional_id", "last_message_at"),
        Index("ix_message_threads_holder_unread", "patient_id", "holder_unread"),
        Index("ix_message_threads_pro_unread", "professional_id", "pro_unread"),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    subject: Mapped[str] = mapped_column(String(200))
    started_by: Mapped[str] = mapped_column(String(12))  # holder | professional
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    last_holder_message_at: Mapped[datetime | None] = mapped_column()
    holder_unread: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pro_unread: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    holder_archived: Mapped[bool] = mapped_column(default=False, server_default=false())
    pro_archived: Mapped[bool] = mapped_column(default=False, server_default=false())
    closed_at: Mapped[datetime | None] = mapped_column()
    # Subject, names and every message's text folded (lower case, no accents), for search.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def audit_label(self) -> str:
        return self.subject


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_thread", "thread_id", "created_at"),)

    id: Mapped[str] = uuid_pk()
    thread_id: Mapped[str] = mapped_column(ForeignKey("message_threads.id", ondelete="CASCADE"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    sender: Mapped[str] = mapped_column(String(12))  # holder | professional
    body: Mapped[str] = mapped_column(Text)  # shown escaped, never as markup
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    read_at: Mapped[datetime | None] = mapped_column()  # the read receipt: when the other side opened it

    attachments: Mapped[list[Attachment]] = relationship(
        lazy="selectin", order_by="Attachment.position", cascade="all, delete-orphan"
    )


class Attachment(Base):
    """A file sent with a message: the documents' upload rules (type from the bytes, metadata
    stripped, encrypted), shown as images drawn on the server, downloaded as attachments."""

    __tablename__ = "message_attachments"

    id: Mapped[str] = uuid_pk()
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))  # display only, escaped
    kind: Mapped[str] = mapped_column(String(10))  # pdf | jpeg | png | tiff | text
    mime: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_id: Mapped[str] = mapped_column(ForeignKey(BlobKey.blob_id))
    thumb_blob_id: Mapped[str | None] = mapped_column(ForeignKey(BlobKey.blob_id))
    pdf_layout: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    saved_document_id: Mapped[str | None] = mapped_column(String(36))  # once saved into Documents
    _blob_key: Mapped[BlobKey] = relationship(foreign_keys=[blob_id], lazy="raise")

    @property
    def audit_label(self) -> str:
        return self.name

    @property
    def original_name(self) -> str:  # what documents.files names a download after
        return self.name

    title = original_name
