"""Appointment and ExplanationOfBenefit on the FHIR API: valid R4 (fhir.resources, R4B), searched
like the other types (date, status, _lastUpdated, paging, _sort), traced in the holder's words,
and an EOB read from Carnet imports back into an empty space as the same line."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit
from flask_babel import force_locale
from sqlalchemy import select

from blueprints.agenda.models import Appointment
from blueprints.fhir.services import _days
from blueprints.history import actions
from blueprints.reimbursements.imports import services as imports
from blueprints.reimbursements.models import Reimbursement
from core.access import viewer_for
from core.clock import PARIS
from core.db import db
from tests.helpers import traces

FIXTURES = Path(__file__).parents[1] / "reimbursements" / "fixtures"
RELEVE = (FIXTURES / "releve_2026.csv").read_bytes()
CARIN = (FIXTURES / "carin_bb_professional_eob.json").read_bytes()
VISIBLE = (
    "reference",
    "care_date",
    "paid_on",
    "nature",
    "act",
    "provider",
    "status",
    "rejection",
    "currency",
    "charged",
    "base",
    "rate",
    "amo",
    "participation",
    "franchise",
    "amc",
    "remainder",
    "unmapped",
)


@pytest.fixture
def reader(app, make_holder, make_app, make_app_token):
    account, _ = make_holder()
    the_app, _ = make_app(name="Agenda Test", purposes=("appointments_read", "reimbursements_read"))
    return account, the_app, {"Authorization": f"Bearer {make_app_token(account, the_app)}"}


def _import(app, account, content: bytes, name: str):
    with app.test_request_context(method="POST"):
        imp = imports.send(viewer_for(db.session.merge(account)), name, io.BytesIO(content))
        done = imports.launch(imp, in_thread=False)
        assert done.status == "done", done.error
        return done.options


def _lines(app, patient_id) -> dict:
    with app.app_context():
        rows = db.session.scalars(select(Reimbursement).where(Reimbursement.patient_id == patient_id))
        return {r.reference: {f: getattr(r, f) for f in VISIBLE} for r in rows}


def _appointments(app, patient_id):
    start = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    with app.app_context():
        rows = [
            Appointment(patient_id=patient_id, with_name=f"Dr {n}", starts_at=start + timedelta(days=n), reason="Suivi")
            for n in range(5)
        ]
        rows[1].status, rows[1].proposed_by = "proposed", "professional"
        rows[2].status = "cancelled"
        rows[3].place = "Cabinet des Lilas, Paris"
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def test_the_capability_statement_states_both_types_and_their_parameters(client):
    cap = client.get("/fhir/metadata").json
    CapabilityStatement.model_validate(cap)
    by_type = {r["type"]: r for r in cap["rest"][0]["resource"]}
    params = {t: {p["name"] for p in by_type[t]["searchParam"]} for t in ("Appointment", "ExplanationOfBenefit")}
    assert params == {
        "Appointment": {"date", "status", "_lastUpdated"},
        "ExplanationOfBenefit": {"date", "_lastUpdated"},
    }
    for t in ("Appointment", "ExplanationOfBenefit"):
        assert [i["code"] for i in by_type[t]["interaction"]] == ["read", "search-type"]
    assert "not served" not in cap["rest"][0]["documentation"]


def test_appointments_validate_search_by_date_and_status_and_page(app, client, reader):
    account, the_app, auth = reader
    ids = _appointments(app, account.patient_id)
    bundle = client.get("/fhir/Appointment", headers=auth).json
    Bundle.model_validate(bundle)
    found = [FhirAppointment.model_validate(e["resource"]) for e in bundle["entry"]]
    assert [a.id for a in found] == ids[::-1]  # newest first
    assert [a.status for a in found] == ["booked", "booked", "cancelled", "proposed", "booked"]
    assert found[1].participant[2].actor.display == "Cabinet des Lilas, Paris"
    assert str(found[-1].start) == "2026-03-02 08:30:00+00:00" and found[-1].minutesDuration == 30
    booked = client.get("/fhir/Appointment?status=booked&_sort=date", headers=auth).json["entry"]
    assert [e["resource"]["id"] for e in booked] == [ids[0], ids[3], ids[4]]
    window = client.get("/fhir/Appointment?date=ge2026-03-03&date=lt2026-03-05", headers=auth).json["entry"]
    assert {e["resource"]["id"] for e in window} == {ids[1], ids[2]}
    first = client.get("/fhir/Appointment?_count=2", headers=auth).json
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get(nxt.replace("http://localhost", ""), headers=auth).json
    assert [e["resource"]["id"] for e in second["entry"]] == [ids[2], ids[1]]
    one = client.get(f"/fhir/Appointment/{ids[3]}", headers=auth)
    assert one.status_code == 200 and one.json["participant"][1]["actor"]["display"] == "Dr 3"
    assert client.get("/fhir/Appointment?code=x", headers=auth).status_code == 400
    with app.test_request_context(method="POST"), force_locale("fr"):
        sentences = {actions.sentence(t.action, None, None, t.detail) for t in traces(app, "app_read")}
    assert sentences == {"L’application Agenda Test a lu vos rendez-vous"}


def test_reimbursements_are_carin_eobs_searchable_by_day_and_traced(app, client, reader):
    account, the_app, auth = reader
    _import(app, account, RELEVE, "releve.csv")
    bundle = client.get("/fhir/ExplanationOfBenefit?_count=50", headers=auth).json
    eobs = [ExplanationOfBenefit.model_validate(e["resource"]) for e in bundle["entry"]]
    assert len(eobs) == 6
    gp = next(e for e in eobs if e.identifier[0].value == "260112-0001")
    totals = {t.category.coding[0].code: round(float(t.amount.value) * 100) for t in gp.total}
    assert totals == {
        "submitted": 3000,
        "eligible": 3000,
        "benefit": 1900,
        "amc": 900,
        "copay": 200,
        "deductible": 0,
        "memberliability": 200,
    }
    assert gp.outcome == "complete" and str(gp.payment.date) == "2026-01-15"
    assert gp.provider.display == "Dr Hélène Bernard" and gp.item[0].productOrService.text.startswith("Consultation")
    rejected = next(e for e in eobs if e.identifier[0].value == "260203-0004")
    assert rejected.outcome == "error" and rejected.processNote[0].text == "Prescription manquante"
    day = client.get("/fhir/ExplanationOfBenefit?date=2026-01-13", headers=auth).json["entry"]
    assert [e["resource"]["identifier"][0]["value"] for e in day] == ["260113-0002"]
    january = client.get("/fhir/ExplanationOfBenefit?date=2026-01&_sort=date", headers=auth).json["entry"]
    assert [e["resource"]["identifier"][0]["value"] for e in january] == ["260112-0001", "260113-0002", "260120-0003"]
    reads = traces(app, "app_read")
    with app.test_request_context(method="POST"), force_locale("fr"):
        sentences = {actions.sentence(t.action, None, None, t.detail) for t in reads}
    assert "L’application Agenda Test a lu vos remboursements" in sentences


def test_an_eob_read_from_carnet_imports_unchanged_into_an_empty_space(app, client, reader, make_holder):
    """The statement's lines, a CARIN BB example (with its unmapped categories and statuses), a
    line completed by a mutuelle's EOB and a mutuelle's EOB still waiting for its AMO line: read
    as a Bundle, sent to another holder's empty space."""
    account, _app, auth = reader
    _import(app, account, RELEVE, "releve.csv")
    _import(app, account, CARIN, "eob.json")
    mutuelle = json.loads(CARIN)
    mutuelle["identifier"][0]["value"] = "MUT-1"
    mutuelle["related"] = [{"claim": {"identifier": {"value": "ProfessionalEOBExample1"}}}]
    for total in mutuelle["total"]:
        if total["category"]["coding"][0]["code"] == "benefit":
            total["amount"]["value"] = 12.5
    _import(app, account, json.dumps(mutuelle).encode(), "mutuelle.json")
    alone = json.loads(CARIN)  # a mutuelle's EOB whose AMO line has not come: it waits
    alone["identifier"][0]["value"] = "MUT-2"
    alone["billablePeriod"] = {"start": "2020-09-01", "end": "2020-09-01"}
    alone["total"].append(
        {"category": {"coding": [{"code": "priorpayerpaid"}]}, "amount": {"value": 100.0, "currency": "USD"}}
    )
    _import(app, account, json.dumps(alone).encode(), "mutuelle-2.json")
    before = _lines(app, account.patient_id)
    assert before["ProfessionalEOBExample1"]["amc"] == 1250 and "MUT-1" not in before
    assert (before["MUT-2"]["amo"], before["MUT-2"]["amc"]) == (10000, 25891)
    bundle = client.get("/fhir/ExplanationOfBenefit?_count=200", headers=auth).json
    assert len(bundle["entry"]) == 8
    for entry in bundle["entry"]:
        ExplanationOfBenefit.model_validate(entry["resource"])
    empty, _ = make_holder()
    options = _import(app, empty, json.dumps(bundle).encode(), "carnet.json")
    after = _lines(app, empty.patient_id)
    assert after == before
    assert options["replaced"] == 0 and _import(app, empty, json.dumps(bundle).encode(), "again.json")["replaced"] == 0
    assert _lines(app, empty.patient_id) == before


def test_each_type_needs_its_own_scope(app, client, make_holder, make_app, make_app_token):
    account, _ = make_holder()
    the_app, _ = make_app(purposes=("appointments_read", "reimbursements_read", "measures_read"))
    only_measures = {"Authorization": f"Bearer {make_app_token(account, the_app, purposes=['measures_read'])}"}
    assert client.get("/fhir/Appointment", headers=only_measures).status_code == 403
    assert client.get("/fhir/ExplanationOfBenefit", headers=only_measures).status_code == 403
    agenda = {"Authorization": f"Bearer {make_app_token(account, the_app, purposes=['appointments_read'])}"}
    assert client.get("/fhir/Appointment", headers=agenda).status_code == 200
    assert client.get("/fhir/ExplanationOfBenefit", headers=agenda).status_code == 403


def test_days_bound_a_care_date_in_paris_time():
    lower = datetime(2026, 1, 13, tzinfo=PARIS)
    assert _days(lower, lower + timedelta(days=1)) == (date(2026, 1, 13), date(2026, 1, 14))
    assert _days(None, datetime(2026, 1, 13, 10, tzinfo=PARIS)) == (None, date(2026, 1, 14))
