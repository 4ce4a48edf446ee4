"""Documents. Their files' keys are rows of `core.blobs.BlobKey` (crypto-shredding lives there)."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.blobs import BlobKey
from core.db import Base, uuid_pk


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_patient_act", "patient_id", "act_date", "id"),
        Index("ix_documents_patient_category", "patient_id", "category"),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))  # indexed first by the two above
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    act_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    author_type: Mapped[str] = mapped_column(String(20), default="holder")
    author_name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(40), default="upload")
    # A professional's deposit: their profession and RPPS, and the share or grant it came through.
    author_profession: Mapped[str | None] = mapped_column(String(40))
    author_rpps: Mapped[str | None] = mapped_column(String(11))
    grant_id: Mapped[str | None] = mapped_column(String(36))
    mime: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))  # pdf | jpeg | png | tiff | text
    original_name: Mapped[str] = mapped_column(String(200))  # display only, escaped
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_id: Mapped[str] = mapped_column(ForeignKey(BlobKey.blob_id))
    thumb_blob_id: Mapped[str | None] = mapped_column(ForeignKey(BlobKey.blob_id))
    # A PDF's or a TIFF's pages as its page lists them ({"encrypted", "page_count", "sizes"} or
    # {"error": true}), read once at upload so that showing the page reads no blob; None: not read
    # yet (older rows, and no other kind of file).
    pdf_layout: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # A PDF's or a TIFF's page 1 drawn at upload at each width ({"mime": ..., "normal": blob id,
    # "grande": blob id}), or a photo's drawings: the document's page shows them on every view.
    # None: drawn on view (older documents, or not drawable).
    first_page: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # Never loaded: it tells a flush to insert the file's key before the document that refers to it.
    _blob_key: Mapped[BlobKey] = relationship(foreign_keys=[blob_id], lazy="raise")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)
    # Title, author and note folded (lower case, no accents): "echo" finds "Échographie".
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def audit_label(self) -> str:
        return self.title


def fold(text: str | None) -> str:
    """Lower case without accents, so a search typed on a phone keyboard finds French titles."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@event.listens_for(Document, "before_insert")
@event.listens_for(Document, "before_update")
def _fold_for_search(_mapper, _connection, doc: Document) -> None:
    doc.search_text = " ".join(fold(part) for part in (doc.title, doc.author_name, doc.note) if part)
