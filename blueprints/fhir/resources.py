"""The space's records as FHIR R4 resources (JSON dicts), one function per resource type.

Measures follow the vital signs profile where FHIR has one for the kind (blood pressure: one
Observation, its two values as components); the rest keep their LOINC code and UCUM unit."""

from __future__ import annotations

from datetime import UTC, date, datetime

from blueprints.measures import kinds
from blueprints.measures.kinds import Kind

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SD = "http://hl7.org/fhir/StructureDefinition/"
# The vital signs profile of each kind that has one (FHIR R4 "Vital Signs" profiles).
VITAL_PROFILES = {
    "weight": "bodyweight",
    "height": "bodyheight",
    "bmi": "bmi",
    "heart_rate": "heartrate",
    "blood_pressure": "bp",
    "temperature": "bodytemp",
    "respiratory_rate": "resprate",
    "spo2": "oxygensat",
    "head": "headcircum",
}
# The profile's own code, where it differs from the one Carnet keeps the kind under.
PROFILE_CODES = {"spo2": "2708-6", "head": "9843-4"}
CATEGORIES = {"glucose": "laboratory", "hba1c": "laboratory", "steps": "activity", "pain": "survey", "waist": "exam"}
CATEGORY_DISPLAY = {
    "vital-signs": "Vital Signs",
    "laboratory": "Laboratory",
    "activity": "Activity",
    "survey": "Survey",
    "exam": "Exam",
}
_CONTEXT_CODES = {key: code for key, (_label, code) in kinds.MEAL_CONTEXTS.items()}


def instant(moment: datetime | None) -> str | None:
    """A FHIR instant in UTC (stored times are UTC, naive or aware)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _day(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _meta(updated: datetime | None, profile: str | None = None) -> dict:
    meta = {"lastUpdated": instant(updated)}
    if profile:
        meta["profile"] = [profile]
    return meta


def _patient_ref(patient_id: str) -> dict:
    return {"reference": f"Patient/{patient_id}"}


def category_of(kind: Kind) -> str:
    return CATEGORIES.get(kind.key, "vital-signs")


def _quantity(value: float, kind: Kind) -> dict:
    return {"value": round(value, max(kind.decimals, 1)), "unit": kind.unit_label, "system": UCUM, "code": kind.unit}


def observation(m, app_names: dict | None = None) -> dict:
    """A measure (blueprints.measures.models.Measure) as an Observation."""
    kind = kinds.KINDS[m.kind]
    profile = VITAL_PROFILES.get(kind.key)
    codings = [{"system": LOINC, "code": kind.loinc, "display": str(kind.label)}]
    if kind.key in PROFILE_CODES:
        codings.insert(0, {"system": LOINC, "code": PROFILE_CODES[kind.key]})
    if m.context in _CONTEXT_CODES:  # the meal context is a more precise code of the same analyte
        codings.insert(0, {"system": LOINC, "code": _CONTEXT_CODES[m.context]})
    category = category_of(kind)
    obs = {
        "resourceType": "Observation",
        "id": m.id,
        "meta": _meta(m.created_at, SD + profile if profile else None),
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": category, "display": CATEGORY_DISPLAY[category]}]}],
        "code": {"coding": codings, "text": str(kind.label)},
        "subject": _patient_ref(m.patient_id),
        "effectiveDateTime": m.when.isoformat(timespec="seconds"),
    }
    if kind.pair:
        obs["component"] = [
            {
                "code": {"coding": [{"system": LOINC, "code": kinds.SYSTOLIC}]},
                "valueQuantity": _quantity(m.value, kind),
            },
            {
                "code": {"coding": [{"system": LOINC, "code": kinds.DIASTOLIC}]},
                "valueQuantity": _quantity(m.value2, kind),
            },
        ]
    else:
        obs["valueQuantity"] = _quantity(m.value, kind)
    if m.source_name:
        obs["device"] = {"display": m.source_name}
    return obs


def patient(p) -> dict:
    names = [{"use": "official", "family": p.family_name, "given": p.given_names.split()}]
    if p.used_name:
        names.append({"use": "usual", "family": p.used_name, "given": p.given_names.split()[:1]})
    res = {
        "resourceType": "Patient",
        "id": p.id,
        "meta": _meta(p.activated_at or p.created_at),
        "active": p.status == "active",
        "name": names,
        "birthDate": _day(p.birth_date),
        "telecom": [{"system": "email", "value": p.email}],
    }
    if p.sex in ("F", "M"):
        res["gender"] = "female" if p.sex == "F" else "male"
    return res


def document_reference(doc, base: str) -> dict:
    """A document: its metadata, and its bytes as an attachment served by Binary (never inline)."""
    return {
        "resourceType": "DocumentReference",
        "id": doc.id,
        "meta": _meta(doc.updated_at),
        "status": "current",
        "type": {"text": doc.title},
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": doc.category}]}],
        "subject": _patient_ref(doc.patient_id),
        "date": instant(doc.created_at),
        "description": doc.title,
        "content": [
            {
                "attachment": {
                    "contentType": doc.mime,
                    "url": f"{base}/Binary/{doc.id}",
                    "size": doc.size,
                    "title": doc.original_name,
                    "creation": _day(doc.act_date),
                }
            }
        ],
        "context": {"period": {"start": _day(doc.act_date)}},
    }


CATEGORY_SYSTEM = "urn:carnet:document-category"  # Mon Espace Santé's twelve categories
SEVERITY = {"mild": "mild", "moderate": "moderate", "severe": "severe"}
CLINICAL = "http://terminology.hl7.org/CodeSystem/"


def allergy(a) -> dict:
    res = {
        "resourceType": "AllergyIntolerance",
        "id": a.id,
        "meta": _meta(a.updated_at),
        "clinicalStatus": {"coding": [{"system": CLINICAL + "allergyintolerance-clinical", "code": "active"}]},
        "verificationStatus": {
            "coding": [{"system": CLINICAL + "allergyintolerance-verification", "code": "unconfirmed"}]
        },
        "code": {"text": a.substance},
        "patient": _patient_ref(a.patient_id),
        "recordedDate": instant(a.created_at),
    }
    if a.reaction or a.severity in SEVERITY:
        reaction = {"manifestation": [{"text": a.reaction or a.substance}]}
        if a.severity in SEVERITY:
            reaction["severity"] = SEVERITY[a.severity]
        res["reaction"] = [reaction]
    return res


def medication_statement(t) -> dict:
    res = {
        "resourceType": "MedicationStatement",
        "id": t.id,
        "meta": _meta(t.updated_at),
        "status": "active" if t.ongoing and not t.until else "completed",
        "medicationCodeableConcept": {"text": t.name},
        "subject": _patient_ref(t.patient_id),
        "dateAsserted": instant(t.created_at),
    }
    if t.since or t.until:
        res["effectivePeriod"] = {k: v for k, v in (("start", _day(t.since)), ("end", _day(t.until))) if v}
    if t.dosage:
        res["dosage"] = [{"text": t.dosage}]
    return res


def condition(c) -> dict:
    res = {
        "resourceType": "Condition",
        "id": c.id,
        "meta": _meta(c.updated_at),
        "category": [{"coding": [{"system": CLINICAL + "condition-category", "code": "problem-list-item"}]}],
        "code": {"text": c.label},
        "subject": _patient_ref(c.patient_id),
        "recordedDate": instant(c.created_at),
    }
    if c.on_date:
        res["onsetDateTime"] = _day(c.on_date)
    elif c.year:
        res["onsetDateTime"] = str(c.year)
    if c.note:
        res["note"] = [{"text": c.note}]
    return res


def immunization(v) -> dict:
    res = {
        "resourceType": "Immunization",
        "id": v.id,
        "meta": _meta(v.updated_at),
        "status": "completed",
        "vaccineCode": {"text": v.name},
        "patient": _patient_ref(v.patient_id),
        "primarySource": False,
        "recorded": instant(v.created_at),
    }
    if v.on_date:
        res["occurrenceDateTime"] = _day(v.on_date)
    else:
        res["occurrenceString"] = "unknown"
    if v.lot_number:
        res["lotNumber"] = v.lot_number
    return res


def audit_event(e, sentence: str) -> dict:
    """A trace of the holder's history, worded as the history page words it."""
    return {
        "resourceType": "AuditEvent",
        "id": str(e.id),
        "meta": _meta(e.at),
        "type": {"system": "urn:carnet:audit-action", "code": e.action, "display": sentence},
        "recorded": instant(e.at),
        "outcome": "4" if e.action.endswith(("_failed", "_refused", "_denied")) else "0",
        "outcomeDesc": sentence,
        "agent": [
            {
                "type": {"text": e.actor_type},
                "who": {"display": e.actor_name or e.actor_type},
                "requestor": e.actor_type in ("holder", "app"),
            }
        ],
        "source": {"observer": {"display": "Carnet"}},
        "entity": [{"what": _patient_ref(e.patient_id)}],
    }


def consent(conn, app, scopes: str) -> dict:
    """The app's grant: who allowed what, since and until when."""
    res = {
        "resourceType": "Consent",
        "id": conn.id,
        "meta": _meta(conn.created_at),
        "status": "active" if conn.ended_at is None else "inactive",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": _patient_ref(conn.patient_id),
        "dateTime": instant(conn.created_at),
        "policyRule": {"text": scopes},
        "provision": {
            "type": "permit",
            "actor": [
                {
                    "role": {"coding": [{"system": CLINICAL + "v3-ParticipationType", "code": "IRCP"}]},
                    "reference": {"display": app.name},
                }
            ],
            "purpose": [{"system": "urn:carnet:app-purpose", "code": p} for p in conn.purposes],
        },
    }
    period = {"start": instant(conn.created_at)}
    if conn.expires_at or conn.ended_at:
        period["end"] = instant(conn.ended_at or conn.expires_at)
    res["provision"]["period"] = period
    return res
