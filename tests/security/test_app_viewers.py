"""The access matrix for connected apps: every FHIR route × an app holding each purpose (and
none) gets exactly what its scopes open; an app's token opens no holder page; another space's
records are never found; hidden documents never reach an app. (tests/security/test_access_matrix.py
runs every viewer with a cookie against the API: none gets in.)"""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from sqlalchemy import select

from blueprints.agenda.models import Appointment
from blueprints.apps.models import Connection
from blueprints.apps.purposes import PURPOSES
from blueprints.profile.models import Allergy, Condition, Treatment, Vaccination
from blueprints.reimbursements.models import Reimbursement
from core import access, clock
from core.audit import AuditEvent
from core.db import db
from tests.samples import png_bytes

ROUTES = {  # endpoint -> (method, path template, purposes that open it)
    "fhir.search_Observation": ("GET", "/fhir/Observation", {"measures_read"}),
    "fhir.read_Observation": ("GET", "/fhir/Observation/{measure}", {"measures_read"}),
    "fhir.create_Observation": ("POST", "/fhir/Observation", {"measures_write"}),
    "fhir.search_DocumentReference": ("GET", "/fhir/DocumentReference", {"documents_read"}),
    "fhir.read_DocumentReference": ("GET", "/fhir/DocumentReference/{document}", {"documents_read"}),
    "fhir.create_DocumentReference": ("POST", "/fhir/DocumentReference", {"documents_write"}),
    "fhir.read_Binary": ("GET", "/fhir/Binary/{document}", {"documents_read"}),
    "fhir.search_AllergyIntolerance": ("GET", "/fhir/AllergyIntolerance", {"profile_read"}),
    "fhir.read_AllergyIntolerance": ("GET", "/fhir/AllergyIntolerance/{allergy}", {"profile_read"}),
    "fhir.search_MedicationStatement": ("GET", "/fhir/MedicationStatement", {"profile_read"}),
    "fhir.read_MedicationStatement": ("GET", "/fhir/MedicationStatement/{treatment}", {"profile_read"}),
    "fhir.search_Condition": ("GET", "/fhir/Condition", {"profile_read"}),
    "fhir.read_Condition": ("GET", "/fhir/Condition/{condition}", {"profile_read"}),
    "fhir.search_Immunization": ("GET", "/fhir/Immunization", {"profile_read"}),
    "fhir.read_Immunization": ("GET", "/fhir/Immunization/{vaccination}", {"profile_read"}),
    "fhir.search_Appointment": ("GET", "/fhir/Appointment", {"appointments_read"}),
    "fhir.read_Appointment": ("GET", "/fhir/Appointment/{appointment}", {"appointments_read"}),
    "fhir.search_ExplanationOfBenefit": ("GET", "/fhir/ExplanationOfBenefit", {"reimbursements_read"}),
    "fhir.read_ExplanationOfBenefit": ("GET", "/fhir/ExplanationOfBenefit/{reimbursement}", {"reimbursements_read"}),
    "fhir.search_AuditEvent": ("GET", "/fhir/AuditEvent", {"history_read"}),
    "fhir.read_AuditEvent": ("GET", "/fhir/AuditEvent/{trace}", {"history_read"}),
    "fhir.search_Patient": ("GET", "/fhir/Patient", set(PURPOSES) | {None}),  # with any connection
    "fhir.read_Patient": ("GET", "/fhir/Patient/{patient}", set(PURPOSES) | {None}),
    "fhir.search_Consent": ("GET", "/fhir/Consent", set(PURPOSES) | {None}),
    "fhir.read_Consent": ("GET", "/fhir/Consent/{consent}", set(PURPOSES) | {None}),
    "fhir.metadata": ("GET", "/fhir/metadata", set(PURPOSES) | {None}),
}
HOLDER_PAGES = ("/", "/documents", "/constantes", "/profil", "/historique", "/partage", "/compte", "/applications")


def test_every_api_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("fhir.")}
    assert endpoints == set(ROUTES), f"add to ROUTES: {endpoints - set(ROUTES)}; stale: {set(ROUTES) - endpoints}"


@pytest.fixture
def world(app, make_holder, make_measure, make_document, make_app, make_app_token):
    """A holder's records of every kind, another holder's, and one token per purpose (None: an
    app connected for nothing but who you are)."""
    account, _ = make_holder()
    other, _ = make_holder()
    p = account.patient_id
    ids = {"measure": make_measure(account).id, "document": make_document(account).id, "patient": p}
    hidden = make_document(account, name="cachee.txt", hidden=True).id
    foreign = {"measure": make_measure(other).id, "document": make_document(other).id}
    with app.app_context():
        rows = {
            "allergy": Allergy(patient_id=p, substance="Pénicilline"),
            "treatment": Treatment(patient_id=p, name="Lévothyrox"),
            "condition": Condition(patient_id=p, kind="medical", label="Asthme"),
            "vaccination": Vaccination(patient_id=p, name="DTP"),
            "appointment": Appointment(patient_id=p, with_name="Dr Bernard", starts_at=clock.utcnow()),
            "reimbursement": _reimbursement(p, "R-1"),
        }
        theirs = {
            "appointment": Appointment(patient_id=other.patient_id, with_name="Dr Martin", starts_at=clock.utcnow()),
            "reimbursement": _reimbursement(other.patient_id, "R-2"),
        }
        db.session.add_all([*rows.values(), *theirs.values()])
        db.session.commit()
        ids.update({k: v.id for k, v in rows.items()})
        foreign.update({k: v.id for k, v in theirs.items()})
        ids["trace"] = db.session.scalar(select(AuditEvent.id).where(AuditEvent.patient_id == p).limit(1))
    tokens = {}
    for purpose in [*PURPOSES, None]:
        the_app, _ = make_app(name=f"App {purpose}", purposes=tuple(PURPOSES))
        tokens[purpose] = make_app_token(account, the_app, purposes=[purpose] if purpose else [])
        if purpose is None:
            with app.app_context():
                ids["consent"] = db.session.scalar(select(Connection.id).where(Connection.app_id == the_app.id))
    return ids, hidden, foreign, tokens


def _reimbursement(patient_id: str, reference: str) -> Reimbursement:
    return Reimbursement(
        patient_id=patient_id,
        reference=reference,
        source="releve",
        care_date=date(2026, 3, 2),
        nature="consultation",
        charged=3000,
        base=3000,
        rate=70,
        amo=1900,
        participation=200,
        amc=900,
        remainder=0,
        digest="0" * 40,
    )


def _body(endpoint: str) -> str | None:
    if endpoint == "fhir.create_Observation":
        return json.dumps(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "effectiveDateTime": "2026-03-02T08:00:00+01:00",
                "valueQuantity": {"value": 70.1, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
            }
        )
    if endpoint == "fhir.create_DocumentReference":
        return json.dumps(
            {
                "resourceType": "DocumentReference",
                "status": "current",
                "content": [
                    {
                        "attachment": {
                            "data": base64.b64encode(png_bytes()).decode(),
                            "creation": "2026-03-02",
                            "title": "a.png",
                        }
                    }
                ],
            }
        )
    return None


def test_each_purpose_opens_exactly_its_resources(app, client, world):
    ids, _hidden, _foreign, tokens = world
    wrong = []
    for endpoint, (method, template, opened_by) in ROUTES.items():
        if endpoint == "fhir.read_Consent":
            continue  # each app reads its own grant only: below
        for purpose, token in tokens.items():
            r = client.open(
                template.format(**ids),
                method=method,
                data=_body(endpoint),
                content_type="application/fhir+json",
                headers={"Authorization": f"Bearer {token}"},
            )
            allowed = purpose in opened_by
            ok = r.status_code in (200, 201) if allowed else r.status_code == 403
            if not ok:
                wrong.append(f"{method} {template} with {purpose}: {r.status_code}")
    assert not wrong, "\n".join(wrong)


def test_an_app_reads_its_own_consent_only(client, world):
    ids, _hidden, _foreign, tokens = world
    mine = client.get(f"/fhir/Consent/{ids['consent']}", headers={"Authorization": f"Bearer {tokens[None]}"})
    assert mine.status_code == 200
    theirs = client.get(
        f"/fhir/Consent/{ids['consent']}", headers={"Authorization": f"Bearer {tokens['measures_read']}"}
    )
    assert theirs.status_code == 404


def test_another_space_and_hidden_documents_are_not_found(client, world):
    _ids, hidden, foreign, tokens = world
    reader = {"Authorization": f"Bearer {tokens['measures_read']}"}
    docs = {"Authorization": f"Bearer {tokens['documents_read']}"}
    assert client.get(f"/fhir/Observation/{foreign['measure']}", headers=reader).status_code == 404
    agenda = {"Authorization": f"Bearer {tokens['appointments_read']}"}
    assert client.get(f"/fhir/Appointment/{foreign['appointment']}", headers=agenda).status_code == 404
    money = {"Authorization": f"Bearer {tokens['reimbursements_read']}"}
    assert client.get(f"/fhir/ExplanationOfBenefit/{foreign['reimbursement']}", headers=money).status_code == 404
    listed = client.get("/fhir/ExplanationOfBenefit", headers=money).json["entry"]
    assert [e["resource"]["identifier"][0]["value"] for e in listed] == ["R-1"]
    for path in (
        f"/fhir/DocumentReference/{foreign['document']}",
        f"/fhir/DocumentReference/{hidden}",
        f"/fhir/Binary/{hidden}",
    ):
        assert client.get(path, headers=docs).status_code == 404, path


def test_a_token_opens_no_holder_page(client, world):
    _ids, _hidden, _foreign, tokens = world
    every = {"Authorization": f"Bearer {tokens['documents_read']}"}
    for path in HOLDER_PAGES:
        r = client.get(path, headers=every)
        assert r.status_code in (302, 303, 401) and "/connexion" in r.headers.get("Location", "/connexion"), path


def test_reimbursements_stay_the_holders_and_an_explicit_scopes_only(app, world):
    """Whatever a record viewer's rights (a code, a grant, an emergency access with hidden
    documents), scope() gives no reimbursement; an app reads them with patient/ExplanationOfBenefit.rs
    alone."""
    ids, _hidden, _foreign, _tokens = world
    p = ids["patient"]
    everything = {section: {"read", "write"} for section in access.HOLDER_RIGHTS}
    viewers = {
        "professional": access.Viewer("professional", None, p, rights=everything, include_hidden=True),
        "app without the scope": access.app_viewer(p, "a", "App", "c", "patient/Observation.rs patient/Appointment.rs"),
        "app with it": access.app_viewer(p, "a", "App", "c", "patient/ExplanationOfBenefit.rs"),
        "holder": access.holder_viewer("acc", p, "Camille"),
    }
    with app.app_context():
        seen = {
            name: len(db.session.scalars(access.scope(v, select(Reimbursement))).all()) for name, v in viewers.items()
        }
    assert seen == {"professional": 0, "app without the scope": 0, "app with it": 1, "holder": 1}
