"""The holder's appointments as FHIR R4 Appointment resources.

Carnet's five states map onto FHIR's: a professional's proposal waiting for the holder is
"proposed", a time the holder asked to change is "pending" (waiting for the professional),
confirmed is "booked", and declined or cancelled are both "cancelled" (the reason says which)."""

from __future__ import annotations

from datetime import timedelta

from blueprints.fhir.resources import instant

STATUS = {
    "proposed": "proposed",
    "countered": "pending",
    "confirmed": "booked",
    "declined": "cancelled",
    "cancelled": "cancelled",
}
# FHIR status → Carnet's states, for `status=` searches.
BY_FHIR: dict[str, tuple[str, ...]] = {}
for _carnet, _fhir in STATUS.items():
    BY_FHIR[_fhir] = (*BY_FHIR.get(_fhir, ()), _carnet)
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CANCELLED_BY = "urn:carnet:appointment-cancelled-by"


def appointment(a) -> dict:
    """Who, when, where and why; the holder's private notes are not part of it."""
    start = a.starts_at
    patient_status = "accepted" if a.status in ("confirmed", "countered") else "needs-action"
    if a.status in ("declined", "cancelled"):
        patient_status = "declined" if a.status == "declined" else "accepted"
    participants = [
        {"actor": {"reference": f"Patient/{a.patient_id}"}, "required": "required", "status": patient_status},
        {
            "type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF", "display": "primary performer"}]}],
            "actor": {"display": a.with_name},
            "required": "required",
            "status": "accepted" if a.status != "countered" else "tentative",
        },
    ]
    if a.place:
        participants.append(
            {
                "type": [{"coding": [{"system": PARTICIPATION, "code": "LOC", "display": "location"}]}],
                "actor": {"display": a.place},
                "required": "information-only",
                "status": "accepted",
            }
        )
    res = {
        "resourceType": "Appointment",
        "id": a.id,
        "meta": {"lastUpdated": instant(a.updated_at)},
        "status": STATUS.get(a.status, "proposed"),
        "start": instant(start),
        "end": instant(start + timedelta(minutes=a.duration_minutes or 0)),
        "created": instant(a.created_at)[:10],
        "participant": participants,
    }
    if a.status in ("declined", "cancelled"):
        by = "patient" if a.status == "declined" else "other"
        res["cancelationReason"] = {"coding": [{"system": CANCELLED_BY, "code": by}]}
    if a.duration_minutes:
        res["minutesDuration"] = a.duration_minutes
    if a.reason:
        res["description"] = a.reason
    if a.status == "countered" and a.counter_starts_at is not None:
        res["requestedPeriod"] = [{"start": instant(a.counter_starts_at)}]
    return res
