"""A reimbursement line as a FHIR R4 ExplanationOfBenefit, in the CARIN Blue Button shape the
importer reads (blueprints/reimbursements/imports/eob.py): the French fields become the
adjudication categories it maps back (submitted, eligible, benefit, copay, deductible,
memberliability), what it kept unmapped goes back under its own code, and the two fields
CARIN BB has no category for (the complementary insurer's share, the rate) are written under
Carnet's own adjudication system. So an EOB read from Carnet imports into an empty space as
the same line.

A line that holds only a complementary insurer's payment (its AMO line not received yet)
is written as that insurer's EOB: `priorpayerpaid` for the AMO's share, `benefit` for its own."""

from __future__ import annotations

from blueprints.fhir.resources import instant
from blueprints.reimbursements.imports.eob import CARNET_ADJUDICATION, NATURE_SYSTEM

ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
C4BB_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
C4BB_STATUS = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayerAdjudicationStatus"
C4BB_PROFILE = "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
IDENTIFIER_TYPE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType"
REFERENCE_SYSTEM = "urn:carnet:reimbursement-reference"
CLAIM_TYPES = {
    "pharmacie": "pharmacy",
    "dentaire": "oral",
    "optique": "vision",
    "hospitalisation": "institutional",
}
OUTCOMES = {"paid": "complete", "pending": "queued", "rejected": "error"}
_STANDARD = ("submitted", "eligible", "benefit", "copay", "deductible")
_C4BB_CODES = {"noncovered", "coinsurance", "priorpayerpaid", "paidbypatient", "paidtoprovider", "discount"}
_C4BB_STATUSES = {"innetwork", "outofnetwork", "other", "contracted", "noncontracted", "denied", "paid"}


def _category(code: str) -> dict:
    if code in _STANDARD:
        system = ADJUDICATION
    elif code in _C4BB_CODES or code == "memberliability":
        system = C4BB_ADJUDICATION
    elif code in _C4BB_STATUSES:
        system = C4BB_STATUS
    elif code in ("amc", "rate"):
        system = CARNET_ADJUDICATION
    else:
        return {"coding": [{"code": code}]}
    return {"coding": [{"system": system, "code": code}]}


def _money(cents: int, currency: str) -> dict:
    return {"value": cents / 100, "currency": currency}


def _amounts(r, waiting: bool) -> tuple[list[tuple[str, int]], int | None]:
    """(category, cents) of the line's totals, and the payment's amount when it differs."""
    if waiting:  # the complementary insurer's own EOB
        totals = [("submitted", r.charged), ("eligible", r.base), ("priorpayerpaid", r.amo), ("benefit", r.amc)]
    else:
        totals = [("submitted", r.charged), ("eligible", r.base), ("benefit", r.amo)]
        if r.amc:
            totals.append(("amc", r.amc))
    totals += [("copay", r.participation), ("deductible", r.franchise), ("memberliability", r.remainder)]
    payment = None
    for code, amount in r.unmapped or []:
        if code == "payment":
            payment = amount
        elif amount is not None:
            totals.append((code, amount))
    return totals, payment


def explanation_of_benefit(r) -> dict:
    """The line, as an EOB whose reference is the insurer's (identifier) and id Carnet's."""
    waiting = r.amc_reference is not None and r.amc_reference == r.reference
    currency = r.currency or "EUR"
    totals, payment_amount = _amounts(r, waiting)
    adjudication = [{"category": _category(code), "amount": _money(cents, currency)} for code, cents in totals]
    adjudication.append({"category": _category("rate"), "value": r.rate})
    adjudication += [{"category": _category(code)} for code, amount in r.unmapped or [] if amount is None]
    care = r.care_date.isoformat()
    eob_type = {"coding": [{"system": NATURE_SYSTEM, "code": r.nature}]}
    if r.nature in CLAIM_TYPES or r.nature == "consultation":
        eob_type["coding"].insert(0, {"system": CLAIM_TYPE, "code": CLAIM_TYPES.get(r.nature, "professional")})
    res = {
        "resourceType": "ExplanationOfBenefit",
        "id": r.id,
        "meta": {"lastUpdated": instant(r.updated_at), "profile": [C4BB_PROFILE]},
        "identifier": [
            {
                "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "uc"}]},
                "system": REFERENCE_SYSTEM,
                "value": r.reference,
            }
        ],
        "status": "active",
        "type": eob_type,
        "use": "claim",
        "patient": {"reference": f"Patient/{r.patient_id}"},
        "billablePeriod": {"start": care, "end": care},
        "created": instant(r.issued_at or r.created_at),
        "insurer": {"display": "Complémentaire santé" if waiting else "Assurance Maladie"},
        "provider": {"display": r.provider} if r.provider else {"identifier": {"value": "inconnu"}},
        "outcome": OUTCOMES.get(r.status, "complete"),
        "insurance": [{"focal": True, "coverage": {"display": "AMC" if waiting else "AMO"}}],
        "total": [{"category": _category(code), "amount": _money(cents, currency)} for code, cents in totals],
    }
    if r.claim_ref:
        res["related" if waiting else "claim"] = (
            [{"claim": {"identifier": {"value": r.claim_ref}}}] if waiting else {"identifier": {"value": r.claim_ref}}
        )
    if r.act:
        res["item"] = [
            {"sequence": 1, "productOrService": {"text": r.act}, "servicedDate": care, "adjudication": adjudication}
        ]
    else:  # no act named: the adjudications still say what was paid, on the claim level
        res["adjudication"] = adjudication
    if r.paid_on or payment_amount is not None:
        payment = {}
        if r.paid_on:
            payment["date"] = r.paid_on.isoformat()
        default = r.amc if waiting else r.amo
        payment["amount"] = _money(default if payment_amount is None else payment_amount, currency)
        res["payment"] = payment
    if r.rejection:
        res["processNote"] = [{"text": r.rejection}]
    return res
