"""Carnet's own copy of the space's records, line by line (carnet/espace.jsonl in the zip).

FHIR says what other systems understand, but not everything Carnet keeps (a measure's local
offset and device, a document's author and hidden flag, the profile's administrative facts).
This file keeps every column, so an export reads back into an empty space identically
(blueprints/export/restore.py). One JSON object per line: {"table", "row"} and, for a
document, "file" (its path in the zip). Ids are the source space's, kept only to link rows
(an allergy to its treatment, the advance directives to their document)."""

from __future__ import annotations

import base64
from datetime import date, datetime

from sqlalchemy import Date, LargeBinary
from sqlalchemy.orm import DeclarativeBase

from blueprints.documents.models import Document
from blueprints.measures.models import Measure
from blueprints.profile.models import Allergy, Condition, Contact, Disability, ProfileFacts, Treatment, Vaccination
from core.db import UTCDateTime

# Order matters on the way back: a row comes after the rows it points to.
TABLES: tuple[type[DeclarativeBase], ...] = (
    Document,
    Treatment,
    Allergy,
    Condition,
    Vaccination,
    Disability,
    Contact,
    ProfileFacts,
    Measure,
)
BY_NAME = {model.__tablename__: model for model in TABLES}
# Columns of the source space that mean nothing in another one (or are made again there).
NOT_CARRIED = {
    "patient_id",
    "blob_id",
    "thumb_blob_id",
    "import_id",
    "grant_id",
    "search_text",
    "pdf_layout",
    "first_page",
}
# Links between the carried rows: (table, column) -> the table it points to.
LINKS = {
    ("profile_allergies", "treatment_id"): "profile_treatments",
    ("profile_facts", "directive_document_id"): "documents",
}


def _columns(model) -> list:
    return [c for c in model.__table__.columns if c.key not in NOT_CARRIED]


def dump(model, row) -> dict:
    """A row as JSON values (dates and times as ISO 8601, bytes as base64)."""
    out = {}
    for col in _columns(model):
        value = getattr(row, col.key)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = base64.b64encode(value).decode()
        out[col.key] = value
    return out


def load(model, data: dict) -> dict:
    """The column values of a dumped row (unknown keys ignored; what is missing keeps its default)."""
    values = {}
    for col in _columns(model):
        if col.key not in data:
            continue
        value = data[col.key]
        if value is not None:
            if isinstance(col.type, UTCDateTime):
                value = datetime.fromisoformat(value)
            elif isinstance(col.type, Date):
                value = date.fromisoformat(value)
            elif isinstance(col.type, LargeBinary):
                value = base64.b64decode(value)
        values[col.key] = value
    return values
