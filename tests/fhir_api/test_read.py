"""The FHIR R4 read and search API, as a connected app sees it: resources valid against the R4
models (fhir.resources, R4B: the R4 resources used here are unchanged in it), searches and
paging, errors as OperationOutcome, and one trace per call in the holder's words."""

from __future__ import annotations

from datetime import date, time

import pytest
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.condition import Condition as FhirCondition
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.immunization import Immunization
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from flask_babel import force_locale
from sqlalchemy import update

from blueprints.history import actions
from blueprints.profile.models import Allergy, Condition, Treatment, Vaccination
from core.db import db
from core.people import Patient as Space
from tests.helpers import traces

ALL = ("measures_read", "measures_write", "documents_read", "profile_read", "history_read")


@pytest.fixture
def reader(app, make_holder, make_app, make_app_token):
    """(holder account, referenced app, auth headers of a token allowed everything)."""
    account, _ = make_holder()
    the_app, _ = make_app(purposes=ALL)
    token = make_app_token(account, the_app)
    return account, the_app, {"Authorization": f"Bearer {token}"}


def test_metadata_is_a_valid_capability_statement_naming_the_oauth_uris(client):
    r = client.get("/fhir/metadata")
    assert r.status_code == 200 and r.mimetype == "application/fhir+json"
    cap = CapabilityStatement.model_validate(r.json)
    assert cap.fhirVersion == "4.0.1"
    ext = r.json["rest"][0]["security"]["extension"][0]
    uris = {e["url"]: e["valueUri"] for e in ext["extension"]}
    assert uris["token"].endswith("/oauth/token") and uris["authorize"].endswith("/applications/autoriser")
    types = {res["type"] for res in r.json["rest"][0]["resource"]}
    assert {"Appointment", "ExplanationOfBenefit"} <= types


def test_no_token_no_data_and_the_error_speaks_french_and_english(client, make_holder, make_measure):
    account, _ = make_holder()
    make_measure(account)
    r = client.get("/fhir/Observation")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    oo = OperationOutcome.model_validate(r.json)
    assert oo.issue[0].code == "login"
    issue = r.json["issue"][0]
    assert "jeton" in issue["details"]["text"]  # French first
    assert "token" in issue["diagnostics"]  # English beside it
    assert client.get("/fhir/Observation", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_holders_cookie_opens_nothing_on_the_api(holder):
    client, _account = holder
    assert client.get("/fhir/Patient").status_code == 401


def test_observations_follow_the_vital_signs_profile(app, client, reader, make_measure):
    account, the_app, auth = reader
    make_measure(account, "weight", 72.4)
    make_measure(account, "blood_pressure", 128, 82, at=time(8, 0))
    r = client.get("/fhir/Observation", headers=auth)
    assert r.status_code == 200
    bundle = Bundle.model_validate(r.json)
    obs = [Observation.model_validate(e.resource.model_dump()) for e in bundle.entry]
    by_code = {o.code.coding[0].code: o for o in obs}
    weight = by_code["29463-7"]
    assert float(weight.valueQuantity.value) == 72.4 and weight.valueQuantity.code == "kg"
    assert str(weight.meta.profile[0]).endswith("/bodyweight")
    assert weight.category[0].coding[0].code == "vital-signs"
    bp = by_code["85354-9"]
    assert bp.valueQuantity is None
    parts = {c.code.coding[0].code: float(c.valueQuantity.value) for c in bp.component}
    assert parts == {"8480-6": 128, "8462-4": 82}


def test_search_by_code_date_and_paging_newest_first(app, client, reader, make_measure):
    account, _app, auth = reader
    for day in range(1, 6):
        make_measure(account, "weight", 70 + day, day=date(2026, 3, day))
    make_measure(account, "heart_rate", 60)
    r = client.get("/fhir/Observation?code=http://loinc.org|29463-7&_count=2", headers=auth)
    first = r.json
    assert [e["resource"]["valueQuantity"]["value"] for e in first["entry"]] == [75, 74]
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get(nxt.replace("http://localhost", ""), headers=auth).json
    assert [e["resource"]["valueQuantity"]["value"] for e in second["entry"]] == [73, 72]
    third_url = next(link["url"] for link in second["link"] if link["relation"] == "next")
    third = client.get(third_url.replace("http://localhost", ""), headers=auth).json
    assert [e["resource"]["valueQuantity"]["value"] for e in third["entry"]] == [71]
    assert not any(link["relation"] == "next" for link in third["link"])
    oldest = client.get("/fhir/Observation?code=29463-7&_sort=date&_count=1", headers=auth).json
    assert oldest["entry"][0]["resource"]["valueQuantity"]["value"] == 71
    window = client.get("/fhir/Observation?code=29463-7&date=ge2026-03-02&date=lt2026-03-04", headers=auth).json
    assert sorted(e["resource"]["valueQuantity"]["value"] for e in window["entry"]) == [72, 73]
    month = client.get("/fhir/Observation?date=2026-03&category=vital-signs", headers=auth).json
    assert len(month["entry"]) == 6  # the heart rate too: taken on the default day, in March
    labs = client.get("/fhir/Observation?category=laboratory", headers=auth).json
    assert labs["entry"] == []


def test_unsupported_parameters_and_bad_values_are_refused_not_ignored(client, reader):
    _account, _app, auth = reader
    for url, expression in (
        ("/fhir/Observation?value-quantity=70", "value-quantity"),
        ("/fhir/Observation?date=2026-13-45", None),
        ("/fhir/Observation?_sort=code", "_sort"),
        ("/fhir/Observation?_count=beaucoup", "_count"),
        ("/fhir/Observation?_cursor=%%%", "_cursor"),
        ("/fhir/Immunization?code=123", None),
    ):
        r = client.get(url, headers=auth)
        assert r.status_code == 400, url
        OperationOutcome.model_validate(r.json)
        if expression:
            assert r.json["issue"][0]["expression"] == [expression]


def test_each_call_is_traced_in_the_holders_words(app, client, reader, make_measure):
    account, the_app, auth = reader
    m = make_measure(account, "weight", 72.4)
    client.get("/fhir/Observation?code=29463-7", headers=auth)
    client.get(f"/fhir/Observation/{m.id}", headers=auth)
    reads = traces(app, "app_read")
    assert len(reads) == 2 and all(t.actor_type == "app" and t.actor_id == the_app.id for t in reads)
    with app.test_request_context(method="POST"):
        with force_locale("fr"):
            sentence = actions.sentence(reads[0].action, None, None, reads[0].detail)
    assert sentence == "L’application Balance Test a lu vos mesures de poids"


def test_hidden_documents_never_reach_an_app(client, reader, make_document):
    account, _app, auth = reader
    seen = make_document(account, name="visible.txt", title="Ordonnance visible")
    hidden = make_document(account, name="cachee.txt", title="Ordonnance cachée", hidden=True)
    listing = client.get("/fhir/DocumentReference", headers=auth).json
    ids = [e["resource"]["id"] for e in listing["entry"]]
    assert ids == [seen.id]
    DocumentReference.model_validate(listing["entry"][0]["resource"])
    assert client.get(f"/fhir/DocumentReference/{hidden.id}", headers=auth).status_code == 404
    assert client.get(f"/fhir/Binary/{hidden.id}", headers=auth).status_code == 404
    raw = client.get(f"/fhir/Binary/{seen.id}", headers=auth)
    assert raw.status_code == 200 and raw.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in raw.headers["Content-Security-Policy"]
    as_json = client.get(f"/fhir/Binary/{seen.id}", headers={**auth, "Accept": "application/fhir+json"})
    assert as_json.json["resourceType"] == "Binary" and as_json.json["data"]


def test_patient_and_consent_are_the_holder_and_the_apps_own_grant(client, reader):
    account, the_app, auth = reader
    bundle = client.get("/fhir/Patient", headers=auth).json
    patient = Patient.model_validate(bundle["entry"][0]["resource"])
    assert patient.id == account.patient_id
    assert client.get("/fhir/Patient/someone-else", headers=auth).status_code == 404
    consents = client.get("/fhir/Consent", headers=auth).json["entry"]
    consent = Consent.model_validate(consents[0]["resource"])
    assert consent.provision.actor[0].reference.display == "Balance Test"


def test_profile_resources_and_audit_events_validate(app, client, reader):
    account, _app, auth = reader
    p = account.patient_id
    with app.app_context():
        db.session.add_all(
            [
                Allergy(patient_id=p, substance="Pénicilline", reaction="Urticaire", severity="severe"),
                Treatment(patient_id=p, name="Lévothyrox 50 µg", dosage="1 le matin", since=date(2020, 1, 1)),
                Condition(patient_id=p, kind="medical", label="Hypothyroïdie", year=2019),
                Condition(patient_id=p, kind="family", label="Diabète (père)"),
                Vaccination(patient_id=p, name="DTP", on_date=date(2021, 5, 3), lot_number="AB12"),
            ]
        )
        db.session.commit()
    for path, model, count in (
        ("AllergyIntolerance", AllergyIntolerance, 1),
        ("MedicationStatement", MedicationStatement, 1),
        ("Condition", FhirCondition, 1),  # family history is not the holder's own condition
        ("Immunization", Immunization, 1),
    ):
        entries = client.get(f"/fhir/{path}", headers=auth).json["entry"]
        assert len(entries) == count, path
        model.model_validate(entries[0]["resource"])
    events = client.get("/fhir/AuditEvent?_count=5", headers=auth).json["entry"]
    assert events
    for e in events:
        AuditEvent.model_validate(e["resource"])


def test_a_closed_space_answers_no_app(app, client, reader):
    """Closing one's space ends every access at once: an app's token left alive reads nothing."""
    account, _app, headers = reader
    assert client.get("/fhir/Patient", headers=headers).status_code == 200
    with app.app_context():
        db.session.execute(update(Space).where(Space.id == account.patient_id).values(status="closed"))
        db.session.commit()
    assert client.get("/fhir/Patient", headers=headers).status_code == 401
