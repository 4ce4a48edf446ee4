"""Professionals with an account: patients who granted access, and emergency access."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from blueprints.documents import services as documents
from blueprints.documents.models import Document
from blueprints.pro.services import EMERGENCY_LIMIT
from core import access, clock, grants, notify, sessions
from core.db import db
from core.grants import ShareUse
from core.people import Account, Patient, Professional
from tests.helpers import HX, events, loads

REASON = "Patient inconscient aux urgences, allergies inconnues"


@pytest.fixture
def pro(app, client, make_pro, login_as):
    account = make_pro(rpps="30303030303")
    login_as(client, account)
    return account


def _grant(app, patient_id, pro_account):
    with app.app_context():
        grant = grants.Grant(patient_id=patient_id, professional_id=pro_account.professional_id)
        db.session.add(grant)
        db.session.commit()
        return grant.id


def _csrf(client, url="/"):
    return re.search(r'"X-CSRFToken": "([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def test_home_lists_the_patients_who_granted_access(app, client, pro, space, make_holder):
    grant_id = _grant(app, space["patient_id"], pro)
    other, _ = make_holder(given_names="Louis", family_name="Petit")
    ended = _grant(app, other.patient_id, pro)
    with app.app_context():
        db.session.get(grants.Grant, ended).ended_at = clock.utcnow()
        db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Camille Martin" in html and f"/pro/dossier/{grant_id}" in html
    assert "Petit" not in html and f"/pro/dossier/{ended}" not in html
    assert client.get(f"/pro/dossier/{ended}").status_code == 404


def test_a_grant_opens_the_whole_record_and_tells_the_holder_once_per_session(app, client, pro, space):
    grant_id = _grant(app, space["patient_id"], pro)
    for url in ("", "/documents", "/resume", "/mesures", "/deposer"):
        assert client.get(f"/pro/dossier/{grant_id}{url}").status_code == 200, url
    html = client.get(f"/pro/dossier/{grant_id}/documents").get_data(as_text=True)
    assert "confidentiel" not in html  # hidden stays hidden for a grant
    with app.app_context():
        notes = list(db.session.scalars(select(notify.Notification)))
    assert len(notes) == 1 and notes[0].kind == "access" and notes[0].grant_id == grant_id
    viewed = events(app, "record_viewed")
    assert viewed and {e.grant_id for e in viewed} == {grant_id}


def test_a_professionals_requests_load_neither_their_account_nor_their_professional(app, client, pro, space):
    """Their viewer is built from the session's columns and one compiled read of their own
    (docs/performance.md, 69): the poll, the home and a record's pages load neither through the
    ORM, and the traces still name them, their profession and their account."""
    grant_id = _grant(app, space["patient_id"], pro)
    with app.app_context():
        professional = db.session.get(Account, pro.id).professional
        expected = (professional.id, professional.profession, professional.display_name)
    with loads(Account) as accounts, loads(Professional) as professionals:
        assert client.get("/messages/non-lus", headers=HX).status_code == 200
        assert client.get("/").status_code == 200
        for url in ("", "/documents", "/mesures"):
            assert client.get(f"/pro/dossier/{grant_id}{url}").status_code == 200, url
    assert pro.id not in accounts and expected[0] not in professionals
    viewed = events(app, "record_viewed")
    assert len(viewed) == 3
    assert {(e.actor_id, e.actor_profession, e.actor_name, e.account_id) for e in viewed} == {(*expected, pro.id)}


def test_a_holders_user_never_reads_a_professional(app, holder, monkeypatch):
    client, account = holder

    def refuse(_params):
        raise AssertionError("a holder's request read a professional")

    monkeypatch.setattr(sessions._PROFESSIONAL, "first", refuse)
    with app.test_request_context():
        user = sessions.SessionUser.of(db.session.get(Account, account.id))
        assert user.professional is None
    assert client.get("/").status_code == 200
    assert client.get("/messages/non-lus", headers=HX).status_code == 200


def test_blocking_hides_the_patient_and_closes_the_record(app, client, pro, space):
    grant_id = _grant(app, space["patient_id"], pro)
    with app.app_context():
        db.session.add(grants.Block(patient_id=space["patient_id"], rpps="30303030303"))
        db.session.commit()
    assert "Camille Martin" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/pro/dossier/{grant_id}").status_code == 404


def test_another_professionals_grant_is_not_found(app, client, pro, space, make_pro):
    theirs = _grant(app, space["patient_id"], make_pro())
    assert client.get(f"/pro/dossier/{theirs}").status_code == 404


def _emergency(client, space, samu=False, reason=REASON, birth=date(1987, 3, 14)):

    with client.application.app_context():
        nir = db.session.get(Patient, space["patient_id"]).nir
    data = {"csrf_token": _csrf(client, "/pro/urgence"), "nir": nir, "birth_date": birth.isoformat(), "reason": reason}
    if samu:
        data["samu"] = "y"
    return client.post("/pro/urgence", data=data)


def test_emergency_access_opens_the_record_for_hours_and_is_traced(app, client, pro, space, login_as):
    r = _emergency(client, space)
    assert r.status_code == 303
    access_id = r.headers["Location"].rsplit("/", 1)[-1]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert REASON in page and "Camille Martin" in page
    assert "confidentiel" not in client.get(f"/pro/dossier/{access_id}/documents").get_data(as_text=True)
    traced = events(app, "emergency_access")
    assert len(traced) == 1 and traced[0].detail["reason"] == REASON and traced[0].detail["samu"] is False
    assert traced[0].grant_id == access_id and traced[0].patient_id == space["patient_id"]
    with app.app_context():
        note = db.session.scalar(select(notify.Notification).where(notify.Notification.kind == "emergency"))
        assert note is not None and note.detail["reason"] == REASON
        assert notify.latest_to(space["account"].email) is not None
    assert f"/pro/dossier/{access_id}" in client.get("/").get_data(as_text=True)
    clock.advance(timedelta(hours=access.EMERGENCY_HOURS, minutes=1))
    login_as(client, pro)  # the login itself ended meanwhile
    assert client.get(f"/pro/dossier/{access_id}").status_code == 404
    assert f"/pro/dossier/{access_id}" not in client.get("/").get_data(as_text=True)


def test_emergency_refusals_say_nothing_about_the_patient(app, client, pro, space):
    with app.app_context():
        db.session.add(grants.EmergencySettings(patient_id=space["patient_id"], allow_samu=True, allow_others=False))
        db.session.commit()
    refused = _emergency(client, space)
    unknown = _emergency(client, space, birth=date(1990, 1, 1))
    assert refused.status_code == unknown.status_code == 422

    def body(r):
        html = r.get_data(as_text=True)
        html = re.sub(r'("X-CSRFToken": ")[^"]+', r"\1", html)
        return re.sub(r'(<input[^>]*?) value="[^"]*"', r"\1", html)

    assert body(refused) == body(unknown)
    assert len(events(app, "emergency_access_refused")) == 2 and not events(app, "emergency_access")
    assert _emergency(client, space, samu=True).status_code == 303  # the SAMU is still allowed


def test_hidden_documents_only_when_the_holder_allows_them(app, client, pro, space):
    with app.app_context():
        db.session.add(grants.EmergencySettings(patient_id=space["patient_id"], allow_hidden=True))
        db.session.commit()
    r = _emergency(client, space)
    html = client.get(r.headers["Location"] + "/documents").get_data(as_text=True)
    assert "confidentiel" in html


def test_emergency_needs_a_reason_and_an_account(app, client, pro, space, make_share):
    short = _emergency(client, space, reason="urgence")
    assert short.status_code == 422 and not events(app, "emergency_access")
    anonymous = app.test_client()
    assert anonymous.get("/pro/urgence").status_code == 302


def test_emergency_attempts_are_limited_per_account(app, client, pro, space):

    for _ in range(EMERGENCY_LIMIT):
        assert _emergency(client, space, birth=date(1990, 1, 1)).status_code == 422
    assert _emergency(client, space).status_code == 429


def test_a_hidden_document_stays_visible_to_its_author(app, space, make_pro, make_share):
    """DOMAIN: a hidden document stays visible to the holder and its author. The author is
    known by RPPS through a professional account; an RPPS typed with a code proves nothing."""

    author, other = make_pro(rpps="40404040404"), make_pro(rpps="50505050505")
    access_ids = {account.id: _grant(app, space["patient_id"], account) for account in (author, other)}
    with app.test_request_context(method="POST"):

        def titles(viewer):
            return set(db.session.scalars(access.scope(viewer, select(Document.title))))

        def on_record(account):
            return access.record_viewer(access.viewer_for(db.session.merge(account)), access_ids[account.id])

        doc = documents.add_documents(
            on_record(author),
            [documents.Upload(io.BytesIO(b"CR de consultation"), "cr.txt")],
            category="CPT_REND",
            act_date=date(2026, 11, 30),
            title="CR cardiologie",
        )[0]
        assert doc.author_rpps == "40404040404"
        holder = access.viewer_for(db.session.merge(space["account"]))
        documents.set_hidden(holder, [doc.id], True)
        db.session.commit()

        share_id, _code, _token = make_share(space["patient_id"])
        use = ShareUse(
            share_id=share_id,
            patient_id=space["patient_id"],
            given_name="X",
            family_name="Y",
            profession="medecin",
            rpps="40404040404",
        )  # the author's RPPS, typed by anyone
        db.session.add(use)
        db.session.commit()
        by_code = access.share_viewer(use.id)

        assert "CR cardiologie" in titles(on_record(author))
        assert "Compte rendu confidentiel" not in titles(on_record(author))  # hidden, and not theirs
        assert "CR cardiologie" not in titles(on_record(other))
        assert "CR cardiologie" not in titles(by_code)
        assert "CR cardiologie" in titles(holder)
        assert documents.detail(holder, doc)["author_profession"] == "Médecin"  # the holder sees who wrote it
        assert documents.detail(holder, doc)["author_identity"] == "verified"  # through a professional account
