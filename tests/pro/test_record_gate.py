"""A record's pages find the professional's permanent access through one statement built once
(access._open_grant, docs/performance.md, 79): live, theirs, not blocked, the space open, as
the three look-ups before it answered."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from core import access, clock, grants
from core.db import db, new_id
from core.people import Account, Patient
from tests.helpers import statements


@pytest.fixture
def record(app, make_holder, make_pro, login_as):
    holder, _ = make_holder()
    pro = make_pro()
    with app.app_context():
        grant = grants.Grant(
            patient_id=holder.patient_id, professional_id=db.session.get(Account, pro.id).professional_id
        )
        db.session.add(grant)
        db.session.commit()
        grant_id = grant.id
    client = app.test_client()
    login_as(client, pro)
    return client, pro, holder, grant_id


def test_a_records_page_finds_its_access_without_a_statement_built_at_the_request(app, record):
    client, _pro, _holder, grant_id = record
    assert client.get(f"/pro/dossier/{grant_id}").status_code == 200
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        assert client.get(f"/pro/dossier/{grant_id}/mesures").status_code == 200
    read = " ".join(seen).lower()
    assert "from grants" not in read and "from blocks" not in read


def _viewer_on(app, pro, grant_id):
    with app.test_request_context():
        return access.record_viewer(access.viewer_for(db.session.get(Account, pro.id)), grant_id)


@pytest.mark.parametrize("fate", ["ended", "blocked", "closed", "another professional's", "no such access"])
def test_a_record_that_no_longer_opens_is_not_found(app, make_pro, record, fate):
    _client, pro, holder, grant_id = record
    viewer = _viewer_on(app, pro, grant_id)
    assert viewer.patient_id == holder.patient_id and viewer.grant_id == grant_id and viewer.grant_kind == "grant"
    with app.app_context():
        grant = db.session.get(grants.Grant, grant_id)
        if fate == "ended":
            grant.ended_at = clock.utcnow()
        elif fate == "blocked":
            professional = db.session.scalar(select(Account).where(Account.id == pro.id)).professional
            db.session.add(grants.Block(patient_id=holder.patient_id, rpps=professional.rpps, name="Dr"))
        elif fate == "closed":
            db.session.get(Patient, holder.patient_id).status = "closed"
        elif fate == "no such access":
            grant_id = grant_id[:-4] + "0000"
        db.session.commit()
    asking = make_pro() if fate == "another professional's" else pro
    with pytest.raises(NotFound):
        _viewer_on(app, asking, grant_id)


def test_an_access_made_in_the_same_request_opens_its_record(app, make_holder, record):
    """A grant added and not yet written is found, as the ORM's own query found it (autoflush)."""
    _client, pro, _holder, _grant_id = record
    other, _ = make_holder()
    with app.test_request_context(method="POST"):
        viewer = access.viewer_for(db.session.get(Account, pro.id))
        grant = grants.Grant(id=new_id(), patient_id=other.patient_id, professional_id=viewer.professional.id)
        db.session.add(grant)
        assert access.record_viewer(viewer, grant.id).patient_id == other.patient_id
        db.session.rollback()
