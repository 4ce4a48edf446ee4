"""The medical profile and the administrative data: read, add, change, remove.

Plain Python over the request-scoped session: services add and flush, the request commits
once. Every query goes through the gate (`access.scope` / `access.get_or_404`); every change
leaves one trace naming the section, never the health data itself.

The blocks and list sections the screens show are registered in `sections.py`.
"""

from __future__ import annotations

from datetime import date

from flask import abort, url_for
from sqlalchemy import select

from blueprints.documents import services as documents
from blueprints.profile import choices
from blueprints.profile.models import ProfileFacts
from blueprints.profile.sections import (
    BLOCK_LIST,
    BLOCKS,
    DIRECTIVES,
    SECTION_BY_KEY,
    SECTION_LIST,
    SECTIONS,
    Block,
    Section,
)
from core import access, audit, clock
from core.access import Viewer
from core.db import db
from core.formatting import day
from core.forms import options
from core.i18n import gettext as _
from core.identifiers import clean_nir, format_nir
from core.people import Patient


def block_or_404(slug: str) -> Block:
    block = BLOCKS.get(slug)
    if block is None:
        abort(404)
    return block


def section_or_404(slug: str) -> Section:
    section = SECTIONS.get(slug)
    if section is None:
        abort(404)
    return section


# --------------------------------------------------------------------------- reading


def facts(viewer: Viewer) -> ProfileFacts | None:
    return db.session.scalar(access.scope(viewer, select(ProfileFacts)))


def _facts_for_write(viewer: Viewer) -> ProfileFacts:
    row = facts(viewer)
    if row is None:
        row = ProfileFacts(patient_id=viewer.patient_id)
        db.session.add(row)
    return row


def patient(viewer: Viewer) -> Patient:
    if viewer.patient_id is None:
        abort(404)
    return db.session.get(Patient, viewer.patient_id)


def items(viewer: Viewer, section: Section) -> list:
    model = section.model
    return list(db.session.scalars(access.scope(viewer, select(model)).order_by(*section.order)))


def item(viewer: Viewer, section: Section, item_id: str):
    return access.get_or_404(viewer, section.model, item_id)


def treatment_names(viewer: Viewer) -> dict[str, str]:
    return {t.id: t.name for t in items(viewer, SECTION_BY_KEY["treatments"])}


def directive_documents(viewer: Viewer) -> list[dict]:
    """The holder's own advance-directive documents, through the documents service and its gate."""
    return documents.listing(viewer, category=DIRECTIVES, limit=50, with_counts=False)["rows"]


# --------------------------------------------------------------------------- views (plain data)


def _field_value(field) -> str:
    data = field.data
    if data in (None, ""):
        return ""
    if field.type == "SelectField":
        return {str(c.value): str(c.label) for c in field.choices}.get(str(data), str(data))
    if isinstance(data, date):
        return day(data)
    if field.type == "BooleanField":
        return _("Yes") if data else _("No")
    return str(data)


def block_target(viewer: Viewer, block: Block, facts_row: ProfileFacts | None, patient_row: Patient | None):
    if block.on_patient:
        return patient_row or patient(viewer)
    return facts_row or ProfileFacts(patient_id=viewer.patient_id)


def build_form(viewer: Viewer, block: Block, target, directives: list[dict] | None = None, formdata=True):
    kwargs = {} if formdata else {"formdata": None, "meta": {"csrf": False}}
    form = block.form(obj=target, **kwargs)
    if block.key == "directives":
        docs = directives if directives is not None else directive_documents(viewer)
        form.directive_document_id.choices = options(
            [("", _("None"))] + [(d["id"], f"{d['title']} ({day(d['act_date'])})") for d in docs]
        )
    if block.key == "identity" and formdata and not form.is_submitted():
        form.nir.data = format_nir(target.nir)
    return form


def block_view(viewer: Viewer, block: Block, facts_row=None, patient_row=None, directives=None) -> dict:
    target = block_target(viewer, block, facts_row, patient_row)
    view = {
        "key": block.key,
        "slug": block.slug,
        "title": str(block.title),
        "icon": block.icon,
        "edit_url": url_for("profile.block_edit", slug=block.slug),
        "rows": [],
    }
    if block.key == "directives":
        docs = directives if directives is not None else directive_documents(viewer)
        chosen = next((d for d in docs if d["id"] == target.directive_document_id), None)
        view.update(document=chosen, has_documents=bool(docs))
        return view
    form = build_form(viewer, block, target, formdata=False)
    for f in form:
        if f.type == "CSRFTokenField":
            continue
        value = format_nir(target.nir) if f.name == "nir" else _field_value(f)
        view["rows"].append({"label": f.label.text, "value": value})
    view["filled"] = any(r["value"] for r in view["rows"])
    if block.key == "contact":  # the login: shown here, changed nowhere in the profile
        view["rows"].insert(0, {"label": _("Email"), "value": viewer.account.email, "fixed": True})
    return view


def section_view(viewer: Viewer, section: Section, rows: list | None = None, ctx: dict | None = None) -> dict:
    rows = items(viewer, section) if rows is None else rows
    if ctx is None:
        ctx = {"treatments": treatment_names(viewer)} if section.key == "allergies" else {}
    return {
        "key": section.key,
        "slug": section.slug,
        "title": str(section.title),
        "icon": section.icon,
        "add_label": str(section.add_label),
        "empty_title": str(section.empty_title),
        "empty_text": str(section.empty_text),
        "add_url": url_for("profile.item_add", slug=section.slug),
        "rows": [row_view(section, obj, ctx) for obj in rows],
    }


def row_view(section: Section, obj, ctx: dict) -> dict:
    data = section.describe(obj, ctx)
    data.update(
        id=obj.id,
        edit_url=url_for("profile.item_edit", slug=section.slug, item_id=obj.id),
        remove_url=url_for("profile.item_remove", slug=section.slug, item_id=obj.id),
    )
    return data


def _all_items(viewer: Viewer) -> tuple[dict, dict]:
    lists = {s.key: items(viewer, s) for s in SECTION_LIST}
    ctx = {"treatments": {t.id: t.name for t in lists["treatments"]}}
    return lists, ctx


def profile_page(viewer: Viewer) -> dict:
    facts_row = facts(viewer)
    directives = directive_documents(viewer)
    lists, ctx = _all_items(viewer)
    blocks = [block_view(viewer, b, facts_row, directives=directives) for b in BLOCK_LIST if b.page == "index"]
    return {
        "blocks": {b["key"]: b for b in blocks},
        "sections": {s.key: section_view(viewer, s, lists[s.key], ctx) for s in SECTION_LIST},
    }


def administrative_page(viewer: Viewer) -> dict:
    facts_row, patient_row = facts(viewer), patient(viewer)
    return {"blocks": [block_view(viewer, b, facts_row, patient_row) for b in BLOCK_LIST if b.page == "administrative"]}


def summary(viewer: Viewer) -> dict:
    """ "Ma santé en résumé": what a professional needs first, on one screen."""
    facts_row = facts(viewer) or ProfileFacts()
    lists, ctx = _all_items(viewer)
    sections = {
        key: section_view(viewer, SECTION_BY_KEY[key], lists[key], ctx)
        for key in ("allergies", "treatments", "conditions", "vaccinations", "contacts")
    }
    p = patient(viewer)
    return {
        "name": f"{p.given_names} {p.used_name or p.family_name}",
        "birth_date": p.birth_date,
        "blood_group": choices.label(choices.BLOOD_GROUPS, facts_row.blood_group),
        "doctor": {"name": facts_row.doctor_name, "phone": facts_row.doctor_phone},
        "sections": sections,
        "today": clock.utcnow(),
    }


# --------------------------------------------------------------------------- changing


def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _apply(form, obj, skip=()) -> list[str]:
    """Copy the form onto the record; the names of the fields that changed."""
    changed = []
    for f in form:
        if f.type == "CSRFTokenField" or f.name in skip:
            continue
        value = _clean(f.data)
        if getattr(obj, f.name) != value:
            setattr(obj, f.name, value)
            changed.append(f.name)
    return changed


def nir_taken(viewer: Viewer, nir: str) -> bool:
    """Another space already holds this number (the column is unique)."""
    return db.session.scalar(select(Patient.id).where(Patient.nir == nir, Patient.id != viewer.patient_id)) is not None


def save_block(viewer: Viewer, block: Block, form) -> str | None:
    """Save one block; a message for the form when it cannot be saved, else None."""
    access.require(viewer, "profile", "write")
    if block.on_patient:
        target = patient(viewer)
        form.nir.data = clean_nir(form.nir.data)
        if form.nir.data != target.nir and nir_taken(viewer, form.nir.data):
            return _("This number cannot be saved: check it. If it is right, contact the support.")
        changed = _apply(form, target)
    else:
        target = _facts_for_write(viewer)
        changed = _apply(form, target)
    if changed:
        db.session.flush()
        audit.record(viewer, audit.Action.PROFILE_UPDATED, target, detail={"section": block.key, "fields": changed})
    return None


def _apply_item(section: Section, form, obj) -> list[str]:
    changed = _apply(form, obj)
    if section.key == "treatments" and obj.ongoing and obj.until is not None:
        obj.until = None
    if section.key == "treatments":
        obj.ongoing = bool(obj.ongoing)
    return changed


def new_form(viewer: Viewer, section: Section, obj=None):
    if section.key == "allergies":
        return section.form(obj=obj, treatments=list(treatment_names(viewer).items()))
    return section.form(obj=obj)


def add_item(viewer: Viewer, section: Section, form):
    access.require(viewer, "profile", "write")
    obj = section.model(patient_id=viewer.patient_id)
    _apply_item(section, form, obj)
    db.session.add(obj)
    db.session.flush()
    audit.record(viewer, audit.Action.PROFILE_ITEM_ADDED, obj, detail={"section": section.key})
    return obj


def update_item(viewer: Viewer, section: Section, obj, form) -> None:
    access.require(viewer, "profile", "write")
    changed = _apply_item(section, form, obj)
    if changed:
        db.session.flush()
        audit.record(viewer, audit.Action.PROFILE_UPDATED, obj, detail={"section": section.key, "fields": changed})


def remove_item(viewer: Viewer, section: Section, obj) -> None:
    access.require(viewer, "profile", "write")
    audit.record(viewer, audit.Action.PROFILE_ITEM_REMOVED, obj, detail={"section": section.key})
    db.session.delete(obj)
    db.session.flush()
