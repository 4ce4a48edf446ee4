"""What an app may add: an Observation (a measure, checked exactly as a FHIR file import checks
it: codes, units, plausibility, and the same measure twice is one), or a DocumentReference
(a document, through the same upload rules as the holder's own). The app is the source."""

from __future__ import annotations

import base64
import binascii
import io
import json
from datetime import date

from flask_babel import LazyString

from blueprints.documents import categories, services as documents
from blueprints.fhir.outcome import Invalid
from blueprints.measures.imports.importers import fhir as fhir_import
from blueprints.measures.imports.importers.common import Collector
from blueprints.measures.services import record_checked
from core import audit
from core.access import Viewer
from core.i18n import lazy_gettext as _l

MAX_JSON = 64 * 1024  # an Observation; a document's bytes are bounded by the upload limit

REASONS = {
    "implausible": _l("This value cannot be a real measure of this kind (a typo or a wrong unit?)."),
    "bad_date": _l("effectiveDateTime is missing or is not a date."),
    "bad_value": _l("valueQuantity is missing or is not a number."),
    "unknown_unit": _l("This unit cannot be read for this kind of measure."),
    "incomplete": _l("A blood pressure needs its systolic (8480-6) and diastolic (8462-4) components."),
}


def parse_json(raw: bytes, rtype: str) -> dict:
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise Invalid(_l("The body is not JSON."), code="structure") from None
    if not isinstance(body, dict) or body.get("resourceType") != rtype:
        raise Invalid(_l("The body must be a %(type)s resource.", type=rtype), code="structure")
    return body


def create_observation(viewer: Viewer, obs: dict):
    """(the measure, True when new). Invalid (422) when it cannot be kept."""
    col = Collector()
    fhir_import.observation(obs, col)
    if col.ignored:
        raise Invalid(
            _l("This code is not a measure Carnet keeps: send one of the LOINC codes the CapabilityStatement lists."),
            status=422,
            code="not-supported",
            expression="Observation.code",
        )
    if not col.rows:
        reason = next(iter(col.reasons), "bad_value")
        raise Invalid(REASONS.get(reason, REASONS["bad_value"]), status=422, code="processable")
    row = col.rows[0]
    source_name = row[6] or viewer.display_name
    m, created = record_checked(viewer, row, "app", source_name)
    if created:
        detail = {"resource": "Observation", "app": viewer.display_name, "kind": m.kind}
        audit.record(viewer, audit.Action.APP_WROTE, m, detail=detail)
    return m, created


def create_document(viewer: Viewer, ref: dict):
    """A DocumentReference with its content inline (attachment.data): the same checks as an
    upload (type sniffed, size, images cleaned), stored as sent by the app."""
    contents = ref.get("content") or []
    attachment = (contents[0] or {}).get("attachment") if contents and isinstance(contents[0], dict) else None
    if not isinstance(attachment, dict) or not isinstance(attachment.get("data"), str):
        raise Invalid(
            _l("Send the document's bytes in content[0].attachment.data (base64)."),
            status=422,
            expression="DocumentReference.content",
        )
    try:
        data = base64.b64decode(attachment["data"], validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(_l("content[0].attachment.data is not base64."), status=422) from None
    category = _category(ref)
    title = (ref.get("description") or (ref.get("type") or {}).get("text") or attachment.get("title") or "").strip()
    act_date = _act_date(attachment.get("creation") or ((ref.get("context") or {}).get("period") or {}).get("start"))
    name = (attachment.get("title") or title or "document").strip()
    try:
        docs = documents.add_documents(
            viewer,
            [documents.Upload(io.BytesIO(data), name)],
            category=category,
            act_date=act_date,
            title=title or None,
            source="app",
            action=None,
        )
    except documents.UploadRefused as exc:
        refused = exc  # the name `exc` ends with the except block; the message is built later, per language
        mb = documents.max_bytes() // (1024 * 1024)
        raise Invalid(
            LazyString(lambda: refused.message(mb)), status=413 if refused.reason == "size" else 422
        ) from None
    doc = docs[0]
    audit.record(
        viewer, audit.Action.APP_WROTE, doc, detail={"resource": "DocumentReference", "app": viewer.display_name}
    )
    return doc


def _category(ref: dict) -> str:
    for concept in ref.get("category") or []:
        for coding in (concept or {}).get("coding") or []:
            if coding.get("code") in categories.CATEGORIES:
                return coding["code"]
    return "AUTR_DOC"


def _act_date(text) -> date:
    if isinstance(text, str) and len(text) >= 10:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
    raise Invalid(
        _l("Give the document's date in content[0].attachment.creation (YYYY-MM-DD)."),
        status=422,
        expression="DocumentReference.content.attachment.creation",
    )
