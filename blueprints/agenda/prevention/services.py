"""The holder's prevention calendar: the rules applied to their age, sex and vaccinations,
with their marks (done, dismissed) and the switch that turns it all off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort
from sqlalchemy import select

from blueprints.agenda.models import AgendaSettings, PreventionMark
from blueprints.agenda.prevention import rules as R
from blueprints.documents.models import Document
from blueprints.profile.models import Vaccination
from core import access, audit, clock
from core.access import Viewer
from core.db import db
from core.i18n import current_locale, gettext as _
from core.people import Patient

LINKABLE_DOCUMENTS = 30  # the latest documents offered to link to an item
STATE_LABELS = {
    "late": lambda: _("Late"),
    "due": lambda: _("To do now"),
    "coming": lambda: _("Coming"),
    "done": lambda: _("Done"),
    "dismissed": lambda: _("Dismissed"),
}
KIND_LABELS = {
    "vaccine": lambda: _("Vaccination"),
    "exam": lambda: _("Child examination"),
    "dental": lambda: _("Dental check-up"),
    "screening": lambda: _("Screening"),
}
KIND_ICONS = {"vaccine": "syringe", "exam": "stethoscope", "dental": "circle-check", "screening": "search"}


@dataclass
class ItemRow:
    key: str
    kind: str
    kind_label: str
    icon: str
    title: str
    when: str  # "à 52 ans", "automne 2026"
    due: date
    state: str
    state_label: str
    why: str
    source: str
    source_url: str
    done_on: date | None
    from_profile: bool
    vaccination: str | None
    document_id: str | None
    document_title: str | None


def settings(patient_id: str) -> AgendaSettings:
    found = db.session.get(AgendaSettings, patient_id)
    return found if found is not None else AgendaSettings(patient_id=patient_id, prevention_off=False)


def _settings_row(patient_id: str) -> AgendaSettings:
    found = db.session.get(AgendaSettings, patient_id)
    if found is None:
        found = AgendaSettings(patient_id=patient_id, prevention_off=False, feed_details=False)
        db.session.add(found)
    return found


def set_enabled(viewer: Viewer, enabled: bool) -> None:
    row = _settings_row(viewer.patient_id)
    if row.prevention_off == (not enabled):
        return
    row.prevention_off = not enabled
    db.session.flush()
    audit.record(viewer, audit.Action.PREVENTION_SETTINGS_UPDATED, detail={"enabled": enabled})


def _vaccinations(viewer: Viewer) -> list[R.Vaccination]:
    stmt = access.scope(viewer, select(Vaccination.id, Vaccination.name, Vaccination.on_date))
    return [R.Vaccination(v.id, v.name, v.on_date) for v in db.session.execute(stmt)]


def _marks(viewer: Viewer) -> dict[str, R.Mark]:
    stmt = access.scope(viewer, select(PreventionMark))
    return {m.item: R.Mark(m.status, m.done_on, m.document_id, m.vaccination_id) for m in db.session.scalars(stmt)}


def _person(viewer: Viewer) -> tuple[date, str | None]:
    found = db.session.execute(select(Patient.birth_date, Patient.sex).where(Patient.id == viewer.patient_id)).one()
    return found.birth_date, found.sex


def _when(item: R.Item, born: date) -> str:
    if item.rule.season is not None:
        return _("autumn %(year)s", year=item.age)
    age = R.Age.parse(item.age)
    if age.years >= 2 or (age.years and not age.months):
        years = age.years
        if age.months:
            return _("at %(years)d years and %(months)d months", years=years, months=age.months)
        return _("at %(num)d years", num=years) if years != 1 else _("at 1 year")
    months = age.years * 12 + age.months
    if months:
        return _("at %(num)d months", num=months)
    if age.days % 7 == 0 and age.days >= 14:
        return _("in the week %(num)d", num=age.days // 7)
    return _("within %(num)d days of birth", num=age.days)


def calendar(viewer: Viewer) -> dict:
    """The items to show, grouped; or only the switch when the holder turned it off."""
    own = settings(viewer.patient_id)
    if own.prevention_off:
        return {"enabled": False, "groups": [], "sex_known": True, "vaccinations": [], "documents": []}
    born, sex = _person(viewer)
    vaccinations = _vaccinations(viewer)
    items = R.items_for(born, sex, clock.paris_today(), vaccinations, _marks(viewer))
    # a helper whose scope has no documents (or no health profile) sees neither in the calendar
    shown = _shown_vaccinations(viewer, vaccinations)
    names = {v.id: v.name for v in shown}
    documents = _linkable_documents(viewer)
    doc_titles = {d["id"]: d["title"] for d in documents}
    missing = {i.document_id for i in items if i.document_id and i.document_id not in doc_titles}
    if missing and access.can(viewer, "documents"):
        stmt = access.scope(viewer, select(Document.id, Document.title)).where(Document.id.in_(missing))
        doc_titles.update(dict(db.session.execute(stmt).all()))
    rows = [_row(i, born, names, doc_titles) for i in items]
    order = (("now", ("late", "due")), ("coming", ("coming",)), ("done", ("done", "dismissed")))
    return {
        "enabled": True,
        "sex_known": sex in ("F", "M"),
        "groups": [(name, [r for r in rows if r.state in states]) for name, states in order],
        "vaccinations": [{"id": v.id, "label": _vaccination_label(v)} for v in shown],
        "documents": documents,
    }


def _vaccination_label(v: R.Vaccination) -> str:
    return f"{v.name} ({v.on_date.strftime('%d/%m/%Y')})" if v.on_date else v.name


def _row(item: R.Item, born: date, names: dict, doc_titles: dict) -> ItemRow:
    locale = str(current_locale() or "fr")
    source = R.load().sources[item.rule.source]
    return ItemRow(
        key=item.key,
        kind=item.rule.kind,
        kind_label=KIND_LABELS[item.rule.kind](),
        icon=KIND_ICONS[item.rule.kind],
        title=R.text(item.rule.title, locale),
        when=_when(item, born),
        due=item.due,
        state=item.state,
        state_label=STATE_LABELS[item.state](),
        why=R.text(item.rule.why, locale),
        source=R.text(source, locale),
        source_url=source.get("url", ""),
        done_on=item.done_on,
        from_profile=item.from_profile,
        vaccination=names.get(item.vaccination_id) if item.vaccination_id else None,
        document_id=item.document_id,
        document_title=doc_titles.get(item.document_id) if item.document_id else None,
    )


def _shown_vaccinations(viewer: Viewer, vaccinations: list) -> list:
    """The health profile's vaccinations, named only to who may read the profile."""
    return vaccinations if access.can(viewer, "profile") else []


def _linkable_documents(viewer: Viewer) -> list[dict]:
    if not access.can(viewer, "documents"):
        return []
    stmt = (
        access.scope(viewer, select(Document.id, Document.title, Document.act_date))
        .order_by(Document.act_date.desc(), Document.id)
        .limit(LINKABLE_DOCUMENTS)
    )
    return [
        {"id": d.id, "title": d.title, "label": f"{d.title} ({d.act_date.strftime('%d/%m/%Y')})"}
        for d in db.session.execute(stmt)
    ]


def link_choices(viewer: Viewer) -> list[tuple[str, str]]:
    """What an item marked done may point to: a vaccination entry or a document."""
    out = [("", _("Nothing"))]
    vaccinations = _shown_vaccinations(viewer, _vaccinations(viewer))
    out += [(f"v:{v.id}", _("Vaccination: %(label)s", label=_vaccination_label(v))) for v in vaccinations]
    out += [(f"d:{d['id']}", _("Document: %(label)s", label=d["label"])) for d in _linkable_documents(viewer)]
    return out


def _known_item(viewer: Viewer, key: str) -> R.Item:
    """Only an item the rules give this person today can be marked."""
    born, sex = _person(viewer)
    for item in R.items_for(born, sex, clock.paris_today(), _vaccinations(viewer), _marks(viewer)):
        if item.key == key:
            return item
    abort(404)


def _mark_row(viewer: Viewer, key: str) -> PreventionMark:
    found = db.session.scalar(access.scope(viewer, select(PreventionMark)).where(PreventionMark.item == key))
    if found is None:
        found = PreventionMark(patient_id=viewer.patient_id, item=key, status="done")
        db.session.add(found)
    return found


def mark_done(viewer: Viewer, key: str, done_on: date | None, link: str) -> ItemRow:
    item = _known_item(viewer, key)
    mark = _mark_row(viewer, key)
    mark.status, mark.done_on = "done", done_on or clock.paris_today()
    mark.document_id = link[2:] if link.startswith("d:") else None
    mark.vaccination_id = link[2:] if link.startswith("v:") else None
    db.session.flush()
    audit.record(viewer, audit.Action.PREVENTION_MARKED, mark, detail={"rule": item.rule.id, "status": "done"})
    return item_row(viewer, key)


def dismiss(viewer: Viewer, key: str) -> ItemRow:
    item = _known_item(viewer, key)
    mark = _mark_row(viewer, key)
    mark.status, mark.done_on, mark.document_id, mark.vaccination_id = "dismissed", None, None, None
    db.session.flush()
    audit.record(viewer, audit.Action.PREVENTION_MARKED, mark, detail={"rule": item.rule.id, "status": "dismissed"})
    return item_row(viewer, key)


def restore(viewer: Viewer, key: str) -> ItemRow:
    """Undo a mark: the item is to do (or done from the profile) again."""
    item = _known_item(viewer, key)
    found = db.session.scalar(access.scope(viewer, select(PreventionMark)).where(PreventionMark.item == key))
    if found is not None:
        db.session.delete(found)
        db.session.flush()
        audit.record(viewer, audit.Action.PREVENTION_MARKED, detail={"rule": item.rule.id, "status": "restored"})
    return item_row(viewer, key)


def item_row(viewer: Viewer, key: str) -> ItemRow:
    born, sex = _person(viewer)
    vaccinations = _vaccinations(viewer)
    for item in R.items_for(born, sex, clock.paris_today(), vaccinations, _marks(viewer)):
        if item.key == key:
            titles = {}
            if item.document_id:
                stmt = access.scope(viewer, select(Document.id, Document.title)).where(Document.id == item.document_id)
                titles = dict(db.session.execute(stmt).all())
            return _row(item, born, {v.id: v.name for v in vaccinations}, titles)
    abort(404)
