"""The complementary insurer's (AMC, mutuelle) share read from FHIR: its ExplanationOfBenefit for
an act fills the AMC amount of the AMO's line and lowers the reste à charge, instead of adding a
line; sent again it changes nothing; corrected, it replaces the share; arriving before the AMO's
EOB, it waits as a line of its own that the AMO's line takes over.

The EOBs are the CARIN Blue Button example (fixtures/carin_bb_professional_eob.json, see
test_eob_import.py) with French amounts, and the same example as a second payer writes it:
`priorpayerpaid` (what the AMO paid before it), its own `benefit`, and for some a
`related.claim` naming the AMO's claim."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import select

from blueprints.measures.imports import jobs
from blueprints.reimbursements.models import Reimbursement
from core.db import db
from tests.helpers import csrf_token

SAMPLE = json.loads((Path(__file__).parent / "fixtures" / "carin_bb_professional_eob.json").read_text())
CATEGORY = {t["category"]["coding"][0]["code"]: t["category"] for t in SAMPLE["total"]}
CATEGORY["priorpayerpaid"] = {
    "coding": [{"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication", "code": "priorpayerpaid"}]
}


def _eob(reference: str, amounts: dict, updated: str = "2020-10-20T14:46:05-04:00", **extra) -> bytes:
    eob = copy.deepcopy(SAMPLE)
    eob["identifier"][0]["value"] = reference
    eob["meta"]["lastUpdated"] = updated
    eob["total"] = [
        {"category": CATEGORY[code], "amount": {"value": value, "currency": "EUR"}} for code, value in amounts.items()
    ]
    eob.update(extra)
    return json.dumps(eob).encode()


AMO = {"submitted": 60.0, "eligible": 30.0, "benefit": 19.0, "copay": 2.0, "memberliability": 41.0}
MUTUELLE = {"submitted": 60.0, "eligible": 30.0, "priorpayerpaid": 19.0, "benefit": 27.0, "memberliability": 14.0}
MUTUELLE_INSURER = {"insurer": {"display": "Mutuelle des Lilas"}}


def _lines(patient_id) -> dict:
    rows = db.session.scalars(select(Reimbursement).where(Reimbursement.patient_id == patient_id))
    return {r.reference: (r.amo, r.amc, r.remainder) for r in rows}


def test_the_mutuelles_eob_of_the_same_act_fills_the_amc_share(holder_space, send):
    viewer, _ = holder_space
    send(viewer, _eob("AMO-1", AMO), "amo.json")
    imp = send(viewer, _eob("MUT-1", MUTUELLE, **MUTUELLE_INSURER), "mutuelle.json")
    assert (imp.added, imp.options["completed"]) == (0, 1)
    assert _lines(viewer.patient_id) == {"AMO-1": (1900, 2700, 1400)}
    again = send(viewer, _eob("MUT-1", MUTUELLE, **MUTUELLE_INSURER), "mutuelle.json")
    assert (again.added, again.present, again.options["completed"], again.options["replaced"]) == (0, 1, 0, 0)
    assert _lines(viewer.patient_id) == {"AMO-1": (1900, 2700, 1400)}


def test_a_related_claim_finds_the_amo_line_whatever_its_day_or_provider(holder_space, send):
    viewer, _ = holder_space
    send(viewer, _eob("AMO-1", AMO, claim={"reference": "Claim/CL-77"}), "amo.json")
    send(viewer, _eob("AMO-2", AMO), "other.json")  # the same act's look-alike, another claim
    mutuelle = _eob(
        "MUT-1",
        MUTUELLE,
        billablePeriod={"start": "2020-08-05"},  # the mutuelle dates it the day after
        provider={"display": "Centre d'imagerie"},
        related=[{"claim": {"reference": "Claim/CL-77"}}],
        **MUTUELLE_INSURER,
    )
    send(viewer, mutuelle, "mutuelle.json")
    assert _lines(viewer.patient_id) == {"AMO-1": (1900, 2700, 1400), "AMO-2": (1900, 0, 4100)}


def test_a_corrected_mutuelle_eob_replaces_the_share_and_an_amo_correction_keeps_it(holder_space, send):
    viewer, _ = holder_space
    send(viewer, _eob("AMO-1", AMO), "amo.json")
    send(viewer, _eob("MUT-1", MUTUELLE, **MUTUELLE_INSURER), "mutuelle.json")
    corrected = {**MUTUELLE, "benefit": 25.0, "memberliability": 16.0}
    imp = send(viewer, _eob("MUT-1", corrected, "2020-11-02T10:00:00Z", **MUTUELLE_INSURER), "mutuelle.json")
    assert imp.options["replaced"] == 1
    assert _lines(viewer.patient_id) == {"AMO-1": (1900, 2500, 1600)}
    amo_corrected = {**AMO, "benefit": 20.0, "memberliability": 40.0}
    send(viewer, _eob("AMO-1", amo_corrected, "2020-11-03T10:00:00Z"), "amo.json")
    assert _lines(viewer.patient_id) == {"AMO-1": (2000, 2500, 1500)}


def test_a_mutuelle_eob_before_the_amo_one_waits_then_is_taken_over(holder_space, send):
    """First it is what the mutuelle paid, on a line of its own (the AMO's share as the mutuelle
    states it); the AMO's line, when it comes, takes the share and that line goes."""
    viewer, _ = holder_space
    first = send(viewer, _eob("MUT-1", MUTUELLE, **MUTUELLE_INSURER), "mutuelle.json")
    assert first.added == 1
    assert _lines(viewer.patient_id) == {"MUT-1": (1900, 2700, 1400)}
    assert send(viewer, _eob("MUT-1", MUTUELLE, **MUTUELLE_INSURER), "mutuelle.json").present == 1
    imp = send(viewer, _eob("AMO-1", AMO), "amo.json")
    assert (imp.added, imp.options["completed"]) == (1, 1)
    assert _lines(viewer.patient_id) == {"AMO-1": (1900, 2700, 1400)}
    for name, content in (
        ("mutuelle.json", _eob("MUT-1", MUTUELLE, **MUTUELLE_INSURER)),
        ("amo.json", _eob("AMO-1", AMO)),
    ):
        assert send(viewer, content, name).present == 1
    assert _lines(viewer.patient_id) == {"AMO-1": (1900, 2700, 1400)}


def test_both_in_one_bundle_make_one_line(holder_space, send):
    viewer, _ = holder_space
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": json.loads(_eob("MUT-1", MUTUELLE, **MUTUELLE_INSURER))},
            {"resource": json.loads(_eob("AMO-1", AMO))},
        ],
    }
    imp = send(viewer, json.dumps(bundle).encode(), "both.json")
    assert (imp.added, imp.options["completed"]) == (1, 1)
    assert _lines(viewer.patient_id) == {"AMO-1": (1900, 2700, 1400)}


def test_the_import_page_says_how_many_lines_the_mutuelle_completed(app, importer):
    client, _account = importer
    for name, content in (("amo.json", _eob("AMO-1", AMO)), ("mutuelle.json", _eob("MUT-1", MUTUELLE))):
        data = {"csrf_token": csrf_token(client, "/remboursements/importer"), "file": (io.BytesIO(content), name)}
        r = client.post("/remboursements/importer", data=data, content_type="multipart/form-data")
        import_id = r.headers["Location"].rsplit("/", 1)[-1]
        with app.app_context():
            jobs.run(import_id)
    with force_locale("fr"):
        html = client.get(f"/remboursements/importer/{import_id}").get_data(as_text=True)
    assert "1 ligne complétée par la part de votre complémentaire santé." in html
