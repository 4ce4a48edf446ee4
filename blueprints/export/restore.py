"""Reading an export back into an empty space (the operator's `flask spaces import-export`).

It reads carnet/espace.jsonl (blueprints/export/portable.py) line by line and the documents'
originals from the zip, and recreates them: documents byte-identical (each file's SHA-256 must
be the one its line records, and its type is decided from its bytes as at upload), with their
categories, dates, titles, authors and hidden flag; measures with their values, units, times
and sources; the whole profile. All of it in one transaction: a refused line leaves the space
as empty as it was (the files written for it are removed on rollback, core.blobs)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import func, insert, select

from blueprints.documents.models import Document
from blueprints.documents.previews import image_previews, page_previews, put_first_page
from blueprints.documents.services import max_bytes
from blueprints.export import portable
from blueprints.measures.models import Measure
from core import audit, blobs
from core.db import db, new_id
from core.files import pages, sniff
from core.people import Patient
from core.storage import BlobTooLarge

LINES = "carnet/espace.jsonl"
MEASURE_BATCH = 2000


class Refused(Exception):
    """Why nothing was imported, in words the operator can act on."""


def target(nir: str) -> Patient:
    """The space to fill: it must exist and hold nothing yet."""
    patient = db.session.scalar(select(Patient).where(Patient.nir == (nir or "").replace(" ", "")))
    if patient is None:
        raise Refused("No space has this NIR: create it first (flask patients provision), then import.")
    if patient.status == "closed":
        raise Refused("This space is closed: reopen it before importing into it.")
    for model in portable.TABLES:
        if db.session.scalar(select(func.count()).select_from(model).where(model.patient_id == patient.id)):
            raise Refused(
                f"This space is not empty (it holds {model.__tablename__}): an export is only imported "
                "into an empty space, so nothing is mixed or counted twice."
            )
    return patient


def import_zip(path: Path, nir: str) -> dict:
    patient = target(nir)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise Refused("This file is not a zip file: give the file Carnet's export made.") from None
    with zf:
        if LINES not in zf.namelist():
            raise Refused(f"This zip is not a Carnet export: it has no {LINES}.")
        try:
            done = _import(zf, patient.id)
        except Refused:
            db.session.rollback()
            raise
        except (ValueError, KeyError, TypeError) as exc:
            db.session.rollback()
            raise Refused(f"This export could not be read ({exc}): nothing was imported.") from None
    audit.record(audit.SYSTEM, audit.Action.SPACE_IMPORTED, patient_id=patient.id, detail=done)
    db.session.commit()
    return {"patient_id": patient.id, **done}


def _import(zf: zipfile.ZipFile, patient_id: str) -> dict:
    ids: dict[str, dict[str, str]] = {name: {} for name in portable.BY_NAME}
    done = {"documents": 0, "measures": 0, "profile": 0}
    measures: list[dict] = []
    with zf.open(LINES) as raw:
        for text in io.TextIOWrapper(raw, encoding="utf-8"):
            if not text.strip():
                continue
            line = json.loads(text)
            model = portable.BY_NAME.get(line.get("table"))
            if model is None:
                continue  # a table a newer Carnet exports: not known here
            values = portable.load(model, line["row"])
            old_id = values.pop("id", None)
            for (table, column), points_to in portable.LINKS.items():
                if table == model.__tablename__ and values.get(column) is not None:
                    values[column] = ids[points_to].get(values[column])
            values["patient_id"] = patient_id
            if model is Measure:
                values["id"] = new_id()
                measures.append(values)
                if len(measures) >= MEASURE_BATCH:
                    done["measures"] += _measures(measures)
                continue
            if model is Document:
                values.update(_document_file(zf, line.get("file") or "", values, patient_id))
                done["documents"] += 1
            else:
                done["profile"] += 1
            row = model(**values)
            db.session.add(row)
            db.session.flush()
            if old_id is not None:
                ids[model.__tablename__][old_id] = row.id
    done["measures"] += _measures(measures)
    return done


def _measures(batch: list[dict]) -> int:
    n = len(batch)
    if batch:
        db.session.execute(insert(Measure), batch)
        batch.clear()
    return n


def _document_file(zf: zipfile.ZipFile, name: str, values: dict, patient_id: str) -> dict:
    """Store the original as it is in the zip, checked: its type from its bytes, its SHA-256."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise Refused(f"The file {name!r} named by the export is missing from the zip.") from None
    limit = max_bytes()
    if info.file_size > limit:
        raise Refused(f"The file {name!r} is larger than Carnet accepts.")
    with zf.open(info) as fh:
        head = fh.read(sniff.SNIFF_BYTES)
    try:
        ftype = sniff.detect(head, values.get("original_name") or name)
    except sniff.UnsupportedFile:
        raise Refused(f"The file {name!r} is not of a type Carnet accepts (PDF, JPEG, PNG, TIFF, text).") from None
    with zf.open(info) as fh:
        try:
            stored = blobs.put(fh, patient_id, max_size=limit)
        except BlobTooLarge:
            raise Refused(f"The file {name!r} is larger than Carnet accepts.") from None
    if stored.sha256 != values.get("sha256"):
        raise Refused(f"The file {name!r} is not the one the export recorded (its SHA-256 differs).")
    thumb, layout, first_page = None, None, None
    if ftype.kind in pages.KINDS:
        with zf.open(info) as fh:
            data = fh.read()
        thumb, _locked, layout, drawn = page_previews(data, ftype.kind)
        first_page = put_first_page(drawn, patient_id)
    elif ftype.kind != "text":
        with zf.open(info) as fh:
            data = fh.read()
        thumb, drawn, photo = image_previews(io.BytesIO(data), ftype.kind)
        first_page = put_first_page(drawn, patient_id, photo)
    thumb_id = blobs.put(io.BytesIO(thumb), patient_id).blob_id if thumb else None
    return {
        "blob_id": stored.blob_id,
        "thumb_blob_id": thumb_id,
        "pdf_layout": layout,
        "first_page": first_page,
        "kind": ftype.kind,
        "size": stored.size,
    }
