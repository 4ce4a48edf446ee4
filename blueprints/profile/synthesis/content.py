"""What "Ma synthèse" and the emergency card show: plain data, read through the gate for the
viewer who asks (the holder, or a professional within the share's scope), in the current
language (printing.py sets it).

A professional gets the profile through `record.summary` (the route's gate), the measures only
with `record.measures` and the documents only with `record.documents`; hidden documents and
earlier summaries never appear on paper, even the holder's: a printout is made to be handed on.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from blueprints.documents import categories
from blueprints.documents.models import Document
from blueprints.measures import charts, drawing, series, services as measures
from blueprints.profile import choices, services as profile
from blueprints.profile.models import ProfileFacts
from blueprints.profile.sections import SECTION_BY_KEY
from blueprints.profile.synthesis import card
from core import access, clock
from core.access import Viewer
from core.db import db
from core.formatting import clock_time, day
from core.i18n import gettext as _, ngettext
from core.people import Patient

RECENT_DOCUMENTS = 10
CHART_SIZE = "small"
SEVERITY_ORDER = {"severe": 0, "moderate": 1, "unknown": 2, "mild": 3}
ROLE_ORDER = {"emergency": 0, "trusted": 1, "caregiver": 2}
MEDICAL_KINDS = ("medical", "surgical", "hospitalisation")


def identity(p: Patient, today: date) -> dict:
    names = p.given_names + " " + (p.used_name or p.family_name)
    born_as = p.family_name if p.used_name and p.used_name != p.family_name else None
    return {
        "name": names,
        "born_as": born_as,
        "birth_date": day(p.birth_date),
        "age": ngettext("%(num)d year old", "%(num)d years old", clock.age(p.birth_date, today)),
        "sex": choices.label(choices.SEXES, p.sex),
    }


def _profile(viewer: Viewer) -> dict:
    """The profile's facts and lists, ordered as a reader needs them (severe allergies first,
    emergency contacts first, current treatments only)."""
    facts = profile.facts(viewer) or ProfileFacts()
    lists = {key: profile.items(viewer, SECTION_BY_KEY[key]) for key in SECTION_BY_KEY}
    treatments = {t.id: t.name for t in lists["treatments"]}
    allergies = sorted(lists["allergies"], key=lambda a: (SEVERITY_ORDER.get(a.severity, 2), a.substance.lower()))
    return {
        "facts": facts,
        "allergies": [
            {
                "substance": a.substance,
                "severity": choices.label(choices.SEVERITIES, a.severity),
                "severe": a.severity == "severe",
                "reaction": a.reaction or "",
                "treatment": treatments.get(a.treatment_id, ""),
            }
            for a in allergies
        ],
        "treatments": [
            {
                "name": t.name,
                "dosage": t.dosage or "",
                "since": _("since %(date)s", date=day(t.since)) if t.since else "",
            }
            for t in lists["treatments"]
            if t.ongoing
        ],
        "conditions": [
            {
                "label": c.label,
                "kind": choices.label(choices.CONDITION_KINDS, c.kind),
                "medical": c.kind in MEDICAL_KINDS,
                "when": day(c.on_date) if c.on_date else (str(c.year) if c.year else ""),
                "note": c.note or "",
            }
            for c in lists["conditions"]
        ],
        "vaccinations": [
            {
                "name": v.name,
                "date": day(v.on_date) if v.on_date else "",
                "lot": v.lot_number or "",
            }
            for v in lists["vaccinations"]
        ],
        "disabilities": [{"label": d.label, "note": d.note or ""} for d in lists["disabilities"]],
        "contacts": [
            {
                "name": c.name,
                "role": choices.label(choices.CONTACT_ROLES, c.role),
                "emergency": c.role == "emergency",
                "relation": c.relation or "",
                "phones": [x for x in (c.phone, c.phone_other) if x],
                "email": c.email or "",
            }
            for c in sorted(lists["contacts"], key=lambda c: (ROLE_ORDER.get(c.role, 3), c.name.lower()))
        ],
    }


def _doctor(facts: ProfileFacts) -> dict | None:
    if not facts.doctor_name:
        return None
    return {"name": facts.doctor_name, "phone": facts.doctor_phone or "", "rpps": facts.doctor_rpps or ""}


def _directives(viewer: Viewer, facts: ProfileFacts) -> dict:
    """Whether advance directives exist and where: the document chosen in the profile, when
    this viewer may see it."""
    chosen = None
    if facts.directive_document_id:
        chosen = db.session.scalar(
            access.scope(viewer, select(Document)).where(Document.id == facts.directive_document_id)
        )
    if chosen is None and facts.directive_document_id:  # a professional whose access leaves it out
        return {"written": True, "text": _("Advance directives written; their document is not part of this access.")}
    if chosen is None:
        return {"written": False, "text": _("No advance directives recorded in Carnet.")}
    return {
        "written": True,
        "text": _(
            "Advance directives written: “%(title)s” (%(date)s), kept in Carnet.",
            title=chosen.title,
            date=day(chosen.act_date),
        ),
    }


def _donation(facts: ProfileFacts) -> dict:
    statement = choices.label(choices.DONATION, facts.donation) if facts.donation else _("Not stated")
    return {"statement": statement, "note": facts.donation_note or "", "stated": bool(facts.donation)}


def measure_charts(viewer: Viewer) -> list[dict]:
    """Each kind with data: its latest value and a small chart of the last year (of all time
    when the last year has none). A chart is its own SVG document (`svg`), handed to the PDF as
    the file `name`: WeasyPrint reads it with an XML parser, where the same markup inline would
    go through its HTML parser and the page's cascade (docs/performance.md, 14)."""
    out = []
    for entry in measures.overview(viewer)["cards"]:
        kind = entry["kind"]
        s = series.load(viewer, kind, "1y", charts.buckets_for(CHART_SIZE))
        if not s.count:
            s = series.load(viewer, kind, "all", charts.buckets_for(CHART_SIZE))
        description = charts.describe(s)
        out.append(
            {
                "label": entry["label"],
                "latest": entry["latest"],
                "when": entry.get("when_text") or day(entry["when"]),
                "badge": entry["badge"][0] if entry["badge"] and entry["badge"][0] else "",
                "range": str(s.range.label),
                "description": description,
                "name": f"chart-{kind.key}.svg",
                "svg": drawing.render(s, description, CHART_SIZE, ids=f"chart-{kind.key}", css=False),
            }
        )
    return out


def recent_documents(viewer: Viewer) -> list[dict]:
    stmt = (
        access.scope(viewer, select(Document))
        .where(Document.hidden.is_(False), Document.category != "SYNTHESE")
        .order_by(Document.act_date.desc(), Document.id.desc())
        .limit(RECENT_DOCUMENTS)
    )
    return [
        {
            "title": d.title,
            "date": day(d.act_date),
            "author": d.author_name or "",
            "category": categories.label(d.category),
        }
        for d in db.session.scalars(stmt)
    ]


def a4(viewer: Viewer) -> dict:
    """Everything "Ma synthèse" shows, within what this viewer may see."""
    today = clock.paris_today()
    p = db.session.get(Patient, viewer.patient_id)
    data = _profile(viewer)
    facts = data.pop("facts")
    blood = choices.label(choices.BLOOD_GROUPS, facts.blood_group) if facts.blood_group else ""
    return {
        **data,
        "who": identity(p, today),
        "doctor": _doctor(facts),
        "blood_group": blood,
        "directives": _directives(viewer, facts),
        "donation": _donation(facts),
        "measures": measure_charts(viewer) if _sees(viewer, "measures") else None,
        "documents": recent_documents(viewer) if _sees(viewer, "documents") else None,
        "printed": _("Printed on %(date)s at %(time)s", date=day(today), time=clock_time(clock.utcnow())),
        "printed_by": viewer.display_name if viewer.on_record else None,
    }


def _sees(viewer: Viewer, what: str) -> bool:
    if viewer.is_holder:
        return access.can(viewer, what)
    section = access.RECORD_MEASURES if what == "measures" else access.RECORD_DOCUMENTS
    return access.can(viewer, section)


def emergency_card(viewer: Viewer, items: list[str]) -> dict:
    """What the card shows: the name and date of birth, then the items the holder chose, each
    list cut at card.MOST rows with the number left out."""
    today = clock.paris_today()
    p = db.session.get(Patient, viewer.patient_id)
    data = _profile(viewer)
    facts = data["facts"]

    def cut(rows: list) -> dict:
        more = len(rows) - card.MOST
        return {
            "rows": rows[: card.MOST],
            "more": ngettext("and %(num)d more", "and %(num)d more", more) if more > 0 else "",
        }

    shown = {}
    for code in items:
        if code == "blood":
            shown[code] = choices.label(choices.BLOOD_GROUPS, facts.blood_group) if facts.blood_group else ""
        elif code == "conditions":
            shown[code] = cut([c for c in data["conditions"] if c["medical"]])
        elif code in ("allergies", "treatments", "disabilities", "contacts"):
            shown[code] = cut(data[code])
        elif code == "doctor":
            shown[code] = _doctor(facts)
        elif code == "donation":
            shown[code] = _donation(facts)
        elif code == "directives":
            shown[code] = _directives(viewer, facts)
    return {
        "who": identity(p, today),
        "items": shown,
        "printed": _("Printed on %(date)s", date=day(today)),
    }
