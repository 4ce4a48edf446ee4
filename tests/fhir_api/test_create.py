"""An app writes: Observations checked as a FHIR file import checks them (real Synthea
Observations, from tests/measures/fixtures/synthea_vitals.json), the same measure twice kept
once, the app recorded as the source; documents through the upload rules."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome

from blueprints.documents.models import Document
from blueprints.measures.models import Measure
from tests.helpers import rows, traces
from tests.samples import png_bytes

SYNTHEA = Path(__file__).parent.parent / "measures" / "fixtures" / "synthea_vitals.json"
FHIR_JSON = "application/fhir+json"


def synthea(code: str) -> dict:
    bundle = json.loads(SYNTHEA.read_text())
    return next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation" and e["resource"]["code"]["coding"][0]["code"] == code
    )


@pytest.fixture
def writer(make_holder, make_app, make_app_token):
    account, _ = make_holder()
    the_app, _ = make_app(name="Balance Demo", purposes=("measures_write", "documents_write"))
    token = make_app_token(account, the_app)
    return account, the_app, {"Authorization": f"Bearer {token}"}


def post(client, path, body, auth, mimetype=FHIR_JSON):
    return client.post(path, data=json.dumps(body), headers=auth, content_type=mimetype)


def test_a_synthea_weight_is_kept_once_with_the_app_as_its_source(app, client, writer):
    account, the_app, auth = writer
    obs = synthea("29463-7")
    r = post(client, "/fhir/Observation", obs, auth)
    assert r.status_code == 201, r.json
    created = Observation.model_validate(r.json)
    assert float(created.valueQuantity.value) == 71.9 and r.headers["Location"].endswith(created.id)
    again = post(client, "/fhir/Observation", obs, auth)
    assert again.status_code == 200 and again.json["id"] == created.id
    [m] = rows(app, Measure)
    assert (m.source, m.source_name, m.patient_id) == ("app", "Balance Demo", account.patient_id)
    wrote = traces(app, "app_wrote")
    assert len(wrote) == 1 and wrote[0].actor_id == the_app.id and wrote[0].detail["kind"] == "weight"


def test_a_synthea_blood_pressure_panel_becomes_one_measure(app, client, writer):
    _account, _app, auth = writer
    r = post(client, "/fhir/Observation", synthea("55284-4"), auth)
    assert r.status_code == 201, r.json
    [m] = rows(app, Measure)
    assert m.kind == "blood_pressure" and m.value2 is not None and m.value > m.value2


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda o: o["valueQuantity"].update(value=7190), "real measure"),
        (lambda o: o["valueQuantity"].update(code="furlong", unit="furlong"), "unit"),
        (lambda o: o.pop("effectiveDateTime"), "effectiveDateTime"),
        (lambda o: o["code"]["coding"][0].update(code="12345-6"), "LOINC"),
    ],
)
def test_what_an_import_refuses_an_app_cannot_write(app, client, writer, change, words):
    _account, _app, auth = writer
    obs = synthea("29463-7")
    change(obs)
    r = post(client, "/fhir/Observation", obs, auth, mimetype="application/json")
    assert r.status_code == 422
    OperationOutcome.model_validate(r.json)
    assert words.lower() in r.json["issue"][0]["diagnostics"].lower() or words in r.json["issue"][0]["details"]["text"]
    assert rows(app, Measure) == []


def test_malformed_bodies(client, writer):
    _account, _app, auth = writer
    assert client.post("/fhir/Observation", data="{", headers=auth, content_type=FHIR_JSON).status_code == 400
    assert post(client, "/fhir/Observation", {"resourceType": "Patient"}, auth).status_code == 400
    assert post(client, "/fhir/Observation", synthea("29463-7"), auth, mimetype="text/plain").status_code == 415
    big = synthea("29463-7") | {"note": [{"text": "x" * 70_000}]}
    assert post(client, "/fhir/Observation", big, auth).status_code == 413


def test_writing_needs_the_write_purpose(client, make_holder, make_app, make_app_token):
    account, _ = make_holder()
    the_app, _ = make_app(purposes=("measures_read",))
    auth = {"Authorization": f"Bearer {make_app_token(account, the_app)}"}
    assert post(client, "/fhir/Observation", synthea("29463-7"), auth).status_code == 403
    assert client.get("/fhir/Observation", headers=auth).status_code == 200


def test_an_app_adds_a_document_through_the_upload_rules(app, client, writer):
    account, _app, auth = writer
    ref = {
        "resourceType": "DocumentReference",
        "status": "current",
        "description": "Courbe de poids",
        "category": [{"coding": [{"system": "urn:carnet:document-category", "code": "CPT_REND"}]}],
        "content": [
            {
                "attachment": {
                    "contentType": "image/png",
                    "data": base64.b64encode(png_bytes()).decode(),
                    "title": "courbe.png",
                    "creation": "2026-03-01",
                }
            }
        ],
    }
    r = post(client, "/fhir/DocumentReference", ref, auth)
    assert r.status_code == 201, r.json
    DocumentReference.model_validate(r.json)
    [doc] = rows(app, Document)
    assert (doc.author_type, doc.source, doc.category, doc.title) == ("app", "app", "CPT_REND", "Courbe de poids")
    assert doc.author_name == "Balance Demo" and doc.patient_id == account.patient_id
    assert traces(app, "app_wrote")[0].detail["resource"] == "DocumentReference"
    fake = ref | {
        "content": [
            {
                "attachment": {
                    "data": base64.b64encode(b"MZ\x90\x00 not a pdf").decode(),
                    "creation": "2026-03-01",
                    "title": "x.pdf",
                }
            }
        ]
    }
    refused = post(client, "/fhir/DocumentReference", fake, auth)
    assert refused.status_code == 422 and len(rows(app, Document)) == 1
