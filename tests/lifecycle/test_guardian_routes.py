"""A guardian acting in a child's space, on every page of the holder's side (app.url_map): the
child's pages open, the guardian's own records are not found there, closing is refused."""

from __future__ import annotations

from datetime import date

from flask import url_for

from core.db import db
from core.grants import Guardianship
from tests.helpers import csrf_token

HOLDER_SIDE = ("dashboard", "documents", "history", "profile", "measures", "sharing", "lifecycle")
OBJECT_PARAMS = {"doc_id", "measure_id"}
REFUSED = {"lifecycle.close"}  # a guardian does not close a child's space
SKIP = {"dashboard.service_worker", "dashboard.manifest"}


def _rules(app, with_params: set[str]):
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0]
        if blueprint not in HOLDER_SIDE or "GET" not in rule.methods or rule.endpoint in SKIP:
            continue
        if set(rule.arguments) == with_params:
            yield rule


def test_every_holder_page_as_a_guardian(app, client, make_holder, make_document, make_measure, login_as):
    parent, _ = make_holder()
    child, _ = make_holder(pending=True, birth_date=date(2020, 4, 2))
    with app.app_context():
        db.session.add(Guardianship(patient_id=child.patient_id, guardian_patient_id=parent.patient_id))
        db.session.commit()
    own_doc, own_measure = make_document(parent.patient_id), make_measure(parent.patient_id)
    child_doc, child_measure = make_document(child.patient_id), make_measure(child.patient_id)
    login_as(client, parent)
    object_rules = [(params, rule) for params in ({"doc_id"}, {"measure_id"}) for rule in _rules(app, params)]
    assert len(object_rules) >= 6
    mine = {"doc_id": own_doc.id, "measure_id": own_measure.id}
    theirs = {"doc_id": child_doc.id, "measure_id": child_measure.id}

    def url(rule, ids):
        with app.test_request_context(method="POST"):
            return url_for(rule.endpoint, **{k: ids[k] for k in rule.arguments})

    baseline = {rule.endpoint: client.get(url(rule, mine)).status_code for _p, rule in object_rules}
    answer = client.post("/espace/changer", data={"space": child.patient_id, "csrf_token": csrf_token(client, "/")})
    assert answer.status_code == 303

    plain = list(_rules(app, set()))
    assert len(plain) >= 10
    for rule in plain:
        with app.test_request_context(method="POST"):
            page = url_for(rule.endpoint)
        status = client.get(page).status_code
        expected = 403 if rule.endpoint in REFUSED else None
        assert status == expected if expected else status < 400, (rule.endpoint, status)

    for _params, rule in object_rules:  # as the holder gets on the same kind of record in their own space
        assert client.get(url(rule, theirs)).status_code == baseline[rule.endpoint], rule.endpoint
        assert client.get(url(rule, mine)).status_code == 404, rule.endpoint  # the guardian's own: not here
