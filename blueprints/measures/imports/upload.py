"""The upload: which file it is (an Apple export, in its zip or not; FHIR; CSV), stored
encrypted with its import row; read back (decrypted, inflated) by the job; shredded at the end."""

from __future__ import annotations

import zipfile
import zlib

from blueprints.measures.imports import formats
from blueprints.measures.imports.importers import apple, csvfile, fhir
from blueprints.measures.imports.importers.common import Refused
from blueprints.measures.models import MeasureImport
from core import audit, blobs
from core.db import db
from core.storage import BlobTooLarge

MB = 1024 * 1024
FORMATS = ("apple", "fhir", "csv")
MAX_UPLOAD = 2048 * MB  # what the upload route accepts (a zipped Apple export)
MAX_XML = 16 * 1024 * MB  # export.xml once out of its zip
MAX_RATIO = 100  # how many times its zipped size export.xml may inflate to
ROOT_BYTES = 1 * MB  # read at upload to find the XML's root element
MAX_CSV = 200 * MB
INFLATE_CHUNK = 256 * 1024
_XML_NAMES = ("export.xml", "exportation.xml")  # the French iPhone names it "exportation.xml"


def _apple_member(stream) -> zipfile.ZipInfo | None:
    """The export.xml inside a zip, or None when the file is the bare export.xml; Refused
    when it is neither. The zip is stored as it came: it is inflated by the job, as read."""
    head = stream.read(4)
    stream.seek(0)
    if head != b"PK\x03\x04":
        start = stream.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
        stream.seek(0)
        if not start.startswith(b"<"):
            raise Refused("no_export")
        _check_root(stream.read(ROOT_BYTES))
        stream.seek(0)
        return None
    try:
        with zipfile.ZipFile(stream) as archive:  # a file it was given stays open
            names = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError):
        raise Refused("zip") from None
    finally:
        stream.seek(0)
    found = [i for i in names if i.filename.rsplit("/", 1)[-1] in _XML_NAMES]
    if not found:
        raise Refused("no_export")
    found.sort(key=lambda i: (i.filename.count("/"), i.filename))
    member = found[0]
    if member.flag_bits & 0x1 or member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Refused("zip")  # encrypted, or packed in a way no phone exports
    if member.file_size > MAX_XML:
        raise Refused("too_large")
    if member.file_size == 0:
        raise Refused("empty")
    if member.file_size > MAX_RATIO * max(member.compress_size, 1):
        raise Refused("inflates")  # real exports inflate about twentyfold; a zip bomb, far more
    try:
        with zipfile.ZipFile(stream) as archive, archive.open(member) as xml:
            head = xml.read(ROOT_BYTES)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
        head = b""  # damaged data: the job reads it and says so
    finally:
        stream.seek(0)
    _check_root(head)
    return member


def _check_root(head: bytes) -> None:
    """Refuse an XML file whose root element is not an Apple export's (a GPX route...)."""
    root = apple.root_element(head)
    if root is not None and root != apple.ROOT:
        raise Refused("no_export")


def store_upload(viewer, fmt: str, filename: str, stream, options: dict | None = None) -> MeasureImport:
    """Store the file encrypted and record the import (CSV waits for the person to confirm
    the preview). Raises Refused; nothing is stored then. `options`: a registered format's."""
    member, spec = None, formats.OTHER.get(fmt)
    limit = spec.max_bytes if spec is not None else {"apple": MAX_XML, "fhir": fhir.MAX_BYTES, "csv": MAX_CSV}[fmt]
    if spec is not None:
        start = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        stream.seek(0)
        if spec.first_bytes and not start.startswith(spec.first_bytes):
            raise Refused("json")
    elif fmt == "apple":
        member = _apple_member(stream)
        if member is not None:
            options, limit = {"member": member.filename}, MAX_UPLOAD
    elif fmt == "csv":
        options = csvfile.sniff(stream.read(csvfile.SNIFF_BYTES))
        stream.seek(0)
    else:
        start = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        stream.seek(0)
        if not start.startswith(b"{"):
            raise Refused("json")
    try:
        stored = blobs.put(stream, viewer.patient_id, max_size=limit)
    except BlobTooLarge:
        raise Refused("too_large") from None
    if stored.size == 0:
        blobs.forget([stored.blob_id])
        raise Refused("empty")
    try:
        imp = MeasureImport(
            patient_id=viewer.patient_id,
            format=fmt,
            filename=(filename or fmt)[:255],
            status="preview" if fmt == "csv" else "pending",  # a registered format's file runs at once
            blob_id=stored.blob_id,
            size=member.file_size if member is not None else stored.size,
            options=options,
        )
        db.session.add(imp)
        db.session.flush()
        action = audit.Action(spec.action_started) if spec is not None else audit.Action.MEASURES_IMPORT_STARTED
        audit.record(viewer, action, imp, detail={"format": fmt})
    except BaseException:
        db.session.rollback()
        blobs.forget([stored.blob_id])  # whether or not the rollback reached the database
        raise
    return imp


def blob_chunks(imp: MeasureImport):
    """The file's bytes as the parsers read them: decrypted, and inflated for a zip."""
    key = blobs.key(imp.blob_id) if imp.blob_id else None
    if key is None:
        raise Refused("internal", "file gone")
    member = (imp.options or {}).get("member") if imp.format == "apple" else None
    if member is None:
        return blobs.store().open(key.blob_id, key.wrapped_key, key.sha256)
    return _inflated(blobs.store().open_seekable(key.blob_id, key.wrapped_key), member)


def _inflated(raw, member: str):
    """The export.xml of a stored zip, inflated as it is read (its declared size bounds it).

    The blob is authenticated, so the directory is the one checked at upload; what can still
    go wrong is in the compressed data: a bad deflate stream (zlib.error), a wrong checksum
    (BadZipFile), or data that ends early (EOFError)."""
    try:
        with raw, zipfile.ZipFile(raw) as archive, archive.open(member) as xml:
            while chunk := xml.read(INFLATE_CHUNK):
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise Refused("zip") from None


def preview(imp: MeasureImport) -> dict:
    return csvfile.preview(blob_chunks(imp), imp.options)


def shred(imp: MeasureImport) -> None:
    """Delete the wrapped key, then the file once that commits: the upload is unrecoverable,
    backups included."""
    blob_id, imp.blob_id = imp.blob_id, None
    if blob_id:
        blobs.shred([blob_id], imp.patient_id)
        db.session.commit()
