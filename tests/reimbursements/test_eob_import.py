"""FHIR ExplanationOfBenefit, from the CARIN Blue Button implementation guide's own example.

fixtures/carin_bb_professional_eob.json: HL7/carin-bb, input/examples/
ExplanationOfBenefit_ProfessionalEOBExample1.json (commit 7f0fa5c5530524d865653ee36a00636089b06e14),
the profile's published example of a professional claim, kept as written."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from blueprints.measures.imports.importers.common import Collector
from blueprints.reimbursements.imports import eob
from blueprints.reimbursements.models import Reimbursement
from core.clock import aware
from core.db import db

SAMPLE = (Path(__file__).parent / "fixtures" / "carin_bb_professional_eob.json").read_bytes()


def test_the_carin_example_maps_onto_the_french_fields_and_keeps_the_rest_visible(holder_space, send):
    viewer, _ = holder_space
    imp = send(viewer, SAMPLE, "eob.json")
    assert (imp.format, imp.status, imp.added) == ("eob", "done", 1)
    r = db.session.scalar(select(Reimbursement).where(Reimbursement.patient_id == viewer.patient_id))
    assert r.reference == "ProfessionalEOBExample1" and r.care_date.isoformat() == "2020-08-04"
    # total: submitted 820.00, eligible 258.91, benefit 258.91, memberliability 0
    assert (r.charged, r.base, r.amo, r.remainder, r.rate, r.currency) == (82000, 25891, 25891, 0, 100, "USD")
    assert r.nature == "radiologie"  # CPT 75710, an angiography
    assert ["noncovered", 0] in r.unmapped and ["innetwork", None] in r.unmapped
    assert r.status == "paid" and aware(r.issued_at).isoformat() == "2020-10-20T18:46:05+00:00"


def test_the_same_eob_twice_adds_nothing_and_a_newer_version_replaces_it(holder_space, send):
    viewer, _ = holder_space
    send(viewer, SAMPLE, "eob.json")
    assert send(viewer, SAMPLE, "eob.json").present == 1
    newer = json.loads(SAMPLE)
    newer["meta"]["lastUpdated"] = "2020-11-02T10:00:00-05:00"
    newer["total"][5]["amount"]["value"] = 200.0  # benefit adjusted
    newer["outcome"] = "complete"
    imp = send(
        viewer,
        json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": newer}]}).encode(),
        "eob.json",
    )
    assert imp.options["replaced"] == 1
    r = db.session.scalar(select(Reimbursement).where(Reimbursement.patient_id == viewer.patient_id))
    assert (r.amo, r.revision) == (20000, 2)


def test_a_bundle_names_providers_marks_denials_and_counts_other_resources():
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Organization", "id": "org1", "name": "Centre de radiologie Voltaire"}},
            {"resource": {"resourceType": "Patient", "id": "p1"}},
            {
                "resource": {
                    "resourceType": "ExplanationOfBenefit",
                    "id": "e1",
                    "status": "active",
                    "outcome": "error",
                    "type": {"coding": [{"code": "pharmacy"}]},
                    "provider": {"reference": "Organization/org1"},
                    "billablePeriod": {"start": "2026-02-01"},
                    "processNote": [{"text": "Droits fermés à la date des soins"}],
                    "total": [
                        {"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": 12.5, "currency": "EUR"}}
                    ],
                }
            },
            {"resource": {"resourceType": "ExplanationOfBenefit", "id": "e2", "status": "entered-in-error"}},
        ],
    }
    col = Collector(batch=10**9)
    eob.parse([json.dumps(bundle).encode()], col)
    (row,) = col.rows
    assert row[3:8] == (
        "pharmacie",
        "pharmacy",
        "Centre de radiologie Voltaire",
        "rejected",
        "Droits fermés à la date des soins",
    )
    assert row[9] == 1250 and row[16] == 1250  # nothing paid: all of it left to pay
    assert col.ignored_types == {"Patient": 1, "Organization": 1, "ExplanationOfBenefit (entered-in-error)": 1}


def test_a_json_file_without_eob_is_refused(holder_space, send):
    viewer, _ = holder_space
    imp = send(viewer, b'{"resourceType": "Bundle", "entry": []}', "x.json")
    assert (imp.status, imp.error) == ("failed", "not_eob")
