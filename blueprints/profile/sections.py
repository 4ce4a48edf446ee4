"""The registries that drive the profile's screens:
- BLOCKS: groups of single values (identity on `patients`, the rest on `profile_facts`),
  shown read-only with an inline edit form;
- SECTIONS: lists (one table each), with add / edit / remove in the page, each with the way
  one of its rows is described (title, badge, details).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from blueprints.profile import choices, forms
from blueprints.profile.models import Allergy, Condition, Contact, Disability, Treatment, Vaccination
from core.formatting import day
from core.i18n import gettext as _, lazy_gettext as _l

DIRECTIVES = "DIR_ANT"


@dataclass(frozen=True)
class Block:
    key: str
    slug: str
    title: object
    icon: str
    page: str  # profile | administrative
    form: type
    on_patient: bool = False
    sensitive: bool = False  # identity traits: a recent authentication is asked first

    @property
    def endpoint(self) -> str:
        return f"profile.{self.page}"


@dataclass(frozen=True)
class Section:
    key: str
    slug: str
    model: type
    form: type
    title: object
    icon: str
    add_label: object
    empty_title: object
    empty_text: object
    order: tuple
    describe: Callable[[object, dict], dict]


BLOCK_LIST = (
    Block(
        "identity",
        "identite",
        _l("Identity"),
        "user",
        "administrative",
        forms.IdentityForm,
        on_patient=True,
        sensitive=True,
    ),
    Block("contact", "coordonnees", _l("Contact details"), "mail", "administrative", forms.ContactForm),
    Block(
        "doctor",
        "medecin-traitant",
        _l("Regular doctor (médecin traitant)"),
        "stethoscope",
        "administrative",
        forms.DoctorForm,
    ),
    Block(
        "insurer",
        "complementaire",
        _l("Complementary health insurance"),
        "receipt",
        "administrative",
        forms.InsurerForm,
    ),
    Block("blood", "groupe-sanguin", _l("Blood group"), "droplet", "index", forms.BloodForm),
    Block("lifestyle", "mode-de-vie", _l("Lifestyle"), "activity", "index", forms.LifestyleForm),
    Block("donation", "don-d-organes", _l("Organ donation"), "heart-pulse", "index", forms.DonationForm),
    Block("directives", "directives-anticipees", _l("Advance directives"), "file-text", "index", forms.DirectiveForm),
)
BLOCKS = {b.slug: b for b in BLOCK_LIST}


def _when(value) -> str:
    return day(value) if value else ""


def _condition(c: Condition, ctx: dict) -> dict:
    when = _when(c.on_date) or (str(c.year) if c.year else "")
    return {
        "title": c.label,
        "badge": (choices.label(choices.CONDITION_KINDS, c.kind), "neutral"),
        "meta": [m for m in (when, c.note) if m],
    }


def _treatment(t: Treatment, ctx: dict) -> dict:
    meta = [t.dosage] if t.dosage else []
    if t.since:
        meta.append(_("since %(date)s", date=day(t.since)))
    if not t.ongoing and t.until:
        meta.append(_("until %(date)s", date=day(t.until)))
    badge = (_("Ongoing"), "primary") if t.ongoing else (_("Stopped"), "neutral")
    return {"title": t.name, "badge": badge, "meta": meta}


SEVERITY_BADGE = {"severe": "danger", "moderate": "warning", "mild": "neutral", "unknown": "neutral"}


def _allergy(a: Allergy, ctx: dict) -> dict:
    meta = [a.reaction] if a.reaction else []
    linked = ctx.get("treatments", {}).get(a.treatment_id)
    if linked:
        meta.append(_("linked to the treatment “%(name)s”", name=linked))
    return {
        "title": a.substance,
        "badge": (choices.label(choices.SEVERITIES, a.severity), SEVERITY_BADGE.get(a.severity, "neutral")),
        "meta": meta,
    }


def _vaccination(v: Vaccination, ctx: dict) -> dict:
    meta = [_when(v.on_date)] if v.on_date else []
    if v.lot_number:
        meta.append(_("lot %(lot)s", lot=v.lot_number))
    return {"title": v.name, "badge": None, "meta": meta}


def _disability(d: Disability, ctx: dict) -> dict:
    return {"title": d.label, "badge": None, "meta": [d.note] if d.note else []}


def _contact(c: Contact, ctx: dict) -> dict:
    meta = [m for m in (c.relation, c.phone, c.phone_other, c.email) if m]
    return {
        "title": c.name,
        "badge": (choices.label(choices.CONTACT_ROLES, c.role), "primary"),
        "meta": meta,
        "phones": [p for p in (c.phone, c.phone_other) if p],
    }


SECTION_LIST = (
    Section(
        "allergies",
        "allergies",
        Allergy,
        forms.AllergyForm,
        _l("Allergies"),
        "triangle-alert",
        _l("Add an allergy"),
        _l("No allergy recorded"),
        _l("Note the medicines, foods or substances you react to: it is the first thing a doctor needs."),
        (Allergy.substance,),
        _allergy,
    ),
    Section(
        "treatments",
        "traitements",
        Treatment,
        forms.TreatmentForm,
        _l("Treatments"),
        "pill",
        _l("Add a treatment"),
        _l("No treatment recorded"),
        _l("List the medicines you take, with their dosage, so that any professional can check them."),
        (Treatment.ongoing.desc(), Treatment.since.desc(), Treatment.name),
        _treatment,
    ),
    Section(
        "conditions",
        "antecedents",
        Condition,
        forms.ConditionForm,
        _l("Conditions and history"),
        "stethoscope",
        _l("Add a condition or history"),
        _l("No condition or history recorded"),
        _l("Illnesses, operations, hospital stays and family history help professionals understand your health."),
        (Condition.year.desc(), Condition.on_date.desc(), Condition.label),
        _condition,
    ),
    Section(
        "vaccinations",
        "vaccinations",
        Vaccination,
        forms.VaccinationForm,
        _l("Vaccinations"),
        "syringe",
        _l("Add a vaccination"),
        _l("No vaccination recorded"),
        _l("Copy your vaccinations from your paper health booklet, with the date and the lot number."),
        (Vaccination.on_date.desc(), Vaccination.name),
        _vaccination,
    ),
    Section(
        "disabilities",
        "handicaps",
        Disability,
        forms.DisabilityForm,
        _l("Disabilities"),
        "info",
        _l("Add a disability"),
        _l("No disability recorded"),
        _l("If you live with a disability, saying so here helps professionals adapt their care."),
        (Disability.label,),
        _disability,
    ),
    Section(
        "contacts",
        "contacts",
        Contact,
        forms.ContactPersonForm,
        _l("Contacts"),
        "users",
        _l("Add a contact"),
        _l("No contact recorded"),
        _l("Name who should be called in an emergency, your trusted person and your caregiver."),
        (Contact.role, Contact.name),
        _contact,
    ),
)
SECTIONS = {s.slug: s for s in SECTION_LIST}
SECTION_BY_KEY = {s.key: s for s in SECTION_LIST}


def section_title(key: str | None) -> str:
    """The name of a block or a list section, for history sentences."""
    for entry in (*BLOCK_LIST, *SECTION_LIST):
        if entry.key == key:
            return str(entry.title)
    return ""
