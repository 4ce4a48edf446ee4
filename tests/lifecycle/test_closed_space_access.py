"""A closed space answers nothing to professionals: codes, grants, emergency accesses, on every
record page (the rules of app.url_map), whether its accesses were ended at closure or not."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import update

from blueprints.lifecycle import services
from core import clock
from core.access import viewer_for
from core.db import db
from core.grants import EmergencyAccess, Grant
from core.people import Account, Patient
from tests.helpers import csrf_token, use_code

PARAMS = {"slug": "poids", "number": "1"}


def _record_urls(app, access_id: str, doc_id: str) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("pro.record") or "GET" not in rule.methods:
            continue
        values = {"access_id": access_id, "doc_id": doc_id, **PARAMS}
        with app.test_request_context(method="POST"):
            urls.append(url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}))
    assert len(urls) >= 8
    return urls


@pytest.fixture
def world(app, make_holder, make_pro, make_share, make_document, make_measure, login_as):
    account, _ = make_holder()
    pid = account.patient_id
    doc = make_document(pid)
    make_measure(pid)
    share_id, code, _token = make_share(pid)
    by_grant, by_emergency = make_pro(), make_pro()
    with app.app_context():
        grant = Grant(patient_id=pid, professional_id=by_grant.professional_id)
        emergency = EmergencyAccess(
            patient_id=pid,
            professional_id=by_emergency.professional_id,
            samu=False,
            reason="Patient inconscient aux urgences",
            expires_at=clock.utcnow() + timedelta(hours=12),
        )
        db.session.add_all([grant, emergency])
        db.session.commit()
        ids = {"code": share_id, "grant": grant.id, "emergency": emergency.id}
    code_client = app.test_client()
    use_code(code_client, code)
    grant_client, emergency_client = app.test_client(), app.test_client()
    login_as(grant_client, by_grant)
    login_as(emergency_client, by_emergency)
    clients = {"code": code_client, "grant": grant_client, "emergency": emergency_client}
    return account, doc, ids, clients


def _answers(app, doc, ids, clients) -> dict:
    return {
        (who, url): clients[who].get(url).status_code for who in clients for url in _record_urls(app, ids[who], doc.id)
    }


def test_every_professional_reads_the_record_while_it_is_open(app, world):
    account, doc, ids, clients = world
    answers = _answers(app, doc, ids, clients)
    assert all(status < 400 for (who, url), status in answers.items() if url.endswith(ids[who])), answers


@pytest.mark.parametrize("how", ["closure", "status_only"])
def test_a_closed_space_answers_no_professional(app, world, how):
    account, doc, ids, clients = world
    with app.test_request_context(method="POST"):
        if how == "closure":
            services.close(viewer_for(db.session.get(Account, account.id)), delete_now=False)
        else:  # what the gate itself refuses, were an access left open
            db.session.execute(update(Patient).where(Patient.id == account.patient_id).values(status="closed"))
        db.session.commit()
    answers = _answers(app, doc, ids, clients)
    opened = {k: v for k, v in answers.items() if v < 300}
    assert not opened, opened
    # and no new emergency access can be opened on it
    pro = clients["emergency"]
    with app.app_context():
        nir = db.session.get(Patient, account.patient_id).nir
    answer = pro.post(
        "/pro/urgence",
        data={
            "nir": nir,
            "birth_date": date(1987, 3, 14).isoformat(),
            "reason": "Patient inconscient aux urgences",
            "csrf_token": csrf_token(pro, "/pro/urgence"),
        },
    )
    assert answer.status_code >= 400 or "/pro/dossier/" not in answer.headers.get("Location", "")
    with app.app_context():
        assert db.session.query(EmergencyAccess).count() == 1
