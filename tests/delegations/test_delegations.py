"""Helpers (proches aidants): naming one (fresh authentication, at most three, the same answer
whatever the email), answering, acting in the holder's space within the scope, traces under the
helper's name, and the delegation ending at once (ended by the holder, or past its end date)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from core import clock, notify
from core.audit import AuditEvent
from core.db import db
from core.grants import Delegation
from core.people import Patient
from tests.helpers import csrf_token, rows

TODAY = "2026-12-03"


@pytest.fixture
def people(app, make_holder, login_as):
    """(holder client, holder account, helper client, helper account), both logged in (fresh)."""
    holder, _ = make_holder(given_names="Jeanne", family_name="Martin")
    helper, _ = make_holder(given_names="Paul", family_name="Martin")
    holder_client, helper_client = app.test_client(), app.test_client()
    login_as(holder_client, holder)
    login_as(helper_client, helper)
    return holder_client, holder, helper_client, helper


def invite(client, email, scopes=("measures",), hidden=False, starts=None, ends=None, htmx=False):
    today = clock.paris_today()
    data = {
        "email": email,
        "scopes": list(scopes),
        "starts_on": (starts or today).isoformat(),
        "ends_on": (ends or today + timedelta(days=30)).isoformat(),
        "csrf_token": csrf_token(client, "/aidants"),
    }
    if hidden:
        data["include_hidden"] = "y"
    return client.post("/aidants/inviter", data=data, headers={"HX-Request": "true"} if htmx else {})


def delegation(app, holder) -> Delegation:
    found = rows(app, Delegation, Delegation.patient_id == holder.patient_id)
    return sorted(found, key=lambda d: d.invited_at)[-1]


def accept(app, client, d_id) -> None:
    r = client.post(f"/aidants/invitations/{d_id}/accepter", data={"csrf_token": csrf_token(client, "/aidants")})
    assert r.status_code == 303


def switch(client, patient_id):
    return client.post("/espace/changer", data={"space": patient_id, "csrf_token": csrf_token(client, "/")})


def helping(app, people, scopes=("measures",), hidden=False):
    """The helper invited, accepted and switched to the holder's space."""
    holder_client, holder, helper_client, helper = people
    assert invite(holder_client, helper.email, scopes, hidden).status_code == 303
    accept(app, helper_client, delegation(app, holder).id)
    assert switch(helper_client, holder.patient_id).status_code == 303


def test_invitation_needs_a_fresh_authentication(app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account, fresh=False)
    r = invite(client, "someone@example.fr")
    assert r.status_code == 303 and "/compte/confirmer" in r.headers["Location"]
    assert rows(app, Delegation) == []


def test_the_same_answer_whatever_the_email(app, people, make_holder):
    """An email with an account and one without: the same redirect, message and row on screen."""
    holder_client, holder, _helper_client, helper = people
    screens = []
    for email in (helper.email, "nobody-here@example.fr"):
        r = invite(holder_client, email, htmx=True)
        assert r.status_code < 300 and r.headers.get("HX-Redirect", "").endswith("/aidants")
        page = holder_client.get("/aidants").get_data(as_text=True)
        assert email in page
        screens.append(page.count("Invitation sent") + page.count("Invitation envoyée"))
    assert screens == [1, 2]
    found = {d.email: d.helper_patient_id for d in rows(app, Delegation)}
    assert found == {helper.email: helper.patient_id, "nobody-here@example.fr": None}
    with app.app_context():  # the account's owner gets a mail; nobody else does
        assert notify.latest_to(helper.email) is not None
        assert notify.latest_to("nobody-here@example.fr") is None


def test_at_most_three_running(app, people):
    holder_client, holder, _c, _h = people
    for n in range(3):
        assert invite(holder_client, f"aidant{n}@example.fr").status_code == 303
    r = invite(holder_client, "aidant3@example.fr")
    assert r.status_code == 422
    assert "le maximum" in r.get_data(as_text=True)
    assert len(rows(app, Delegation)) == 3
    first = sorted(rows(app, Delegation), key=lambda d: d.email)[0]
    r = holder_client.post(f"/aidants/{first.id}/terminer", data={"csrf_token": csrf_token(holder_client, "/aidants")})
    assert r.status_code == 303
    assert invite(holder_client, "aidant3@example.fr").status_code == 303


def test_the_invited_person_answers_and_only_them(app, people, make_holder, login_as):
    holder_client, holder, helper_client, helper = people
    invite(holder_client, helper.email)
    d = delegation(app, holder)
    assert "Quelqu’un vous demande de l’aider" in helper_client.get("/").get_data(as_text=True)  # their home says so
    assert f"/aidants/invitations/{d.id}/accepter" in helper_client.get("/aidants").get_data(as_text=True)
    stranger, _ = make_holder()
    other = app.test_client()
    login_as(other, stranger)
    token = csrf_token(other, "/aidants")
    assert other.post(f"/aidants/invitations/{d.id}/accepter", data={"csrf_token": token}).status_code == 404
    token = csrf_token(holder_client, "/aidants")  # nor the holder for their helper
    assert holder_client.post(f"/aidants/invitations/{d.id}/accepter", data={"csrf_token": token}).status_code == 404
    assert switch(helper_client, holder.patient_id).status_code == 404  # nothing starts before accepting
    accept(app, helper_client, d.id)
    assert rows(app, Delegation, Delegation.id == d.id)[0].status == "accepted"
    with app.app_context():
        assert "a accepté" in notify.latest_to(holder.email).subject


def test_a_helper_acts_within_the_scope_and_is_traced_as_theirs(app, people, make_measure):
    holder_client, holder, helper_client, helper = people
    helping(app, people, scopes=("measures",))
    home = helper_client.get("/").get_data(as_text=True)
    assert "Vous aidez Jeanne Martin" in home
    token = csrf_token(helper_client, "/constantes/ajouter")
    r = helper_client.post(
        "/constantes/poids/ajouter",
        data={"value": "64,5", "day": TODAY, "at": "08:15", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert r.status_code < 400, r.status_code
    with app.app_context():
        trace = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "measure_added"))
        assert trace.patient_id == holder.patient_id
        assert (trace.actor_type, trace.actor_name, trace.actor_id) == (
            "helper",
            helper.display_name,
            helper.patient_id,
        )
    history = holder_client.get("/historique").get_data(as_text=True)
    assert "Aidant" in history and helper.display_name in history
    filtered = holder_client.get("/historique?qui=aidants").get_data(as_text=True)
    assert "Mesure ajoutée\u00a0: poids" in filtered and helper.display_name in filtered
    assert "Connexion" not in filtered.split("<main", 1)[1]  # the holder's own traces are not a helper's
    # outside the scope, and what a helper never does
    for url in (
        "/documents",
        "/agenda/",
        "/messages",
        "/partage",
        "/compte",
        "/historique",
        "/remboursements",
        "/profil",
        "/aidants",
        "/mon-espace/fermer",
        "/constantes/export.csv",
        "/applications",
    ):
        assert helper_client.get(url).status_code == 403, url


def test_hidden_documents_only_when_allowed(app, people, make_document):
    holder_client, holder, helper_client, helper = people
    shown = make_document(holder.patient_id, name="visible-Q.txt", title="Visible-QX")
    hidden = make_document(holder.patient_id, name="cachee-Q.txt", title="Cachee-QX", hidden=True)
    helping(app, people, scopes=("documents",))
    page = helper_client.get("/documents").get_data(as_text=True)
    assert "Visible-QX" in page and "Cachee-QX" not in page
    assert 'type="checkbox" name="ids"' not in page and "Masquer aux professionnels" not in page  # no hide/show
    assert helper_client.get(f"/documents/{shown.id}").status_code == 200
    assert helper_client.get(f"/documents/{hidden.id}").status_code == 404
    token = csrf_token(helper_client, "/documents")
    r = helper_client.post(f"/documents/{shown.id}/visibilite", data={"action": "hide", "csrf_token": token})
    assert r.status_code == 403  # hiding and showing is the holder's
    assert helper_client.post(f"/documents/{shown.id}/supprimer", data={"csrf_token": token}).status_code == 403
    d = delegation(app, holder)  # the holder allows hidden documents: from the next request
    token = csrf_token(holder_client, "/aidants")
    r = holder_client.post(
        f"/aidants/{d.id}/portee",
        data={f"{d.id}-scopes": ["documents"], f"{d.id}-include_hidden": "y", f"{d.id}-csrf_token": token},
    )
    assert r.status_code == 303
    assert helper_client.get(f"/documents/{hidden.id}").status_code == 200


def test_ending_stops_access_at_the_next_request(app, people, make_measure):
    holder_client, holder, helper_client, helper = people
    measure = make_measure(holder.patient_id)
    helping(app, people, scopes=("measures",))
    assert helper_client.get(f"/constantes/poids/{measure.id}/modifier").status_code == 200
    d = delegation(app, holder)
    token = csrf_token(holder_client, "/aidants")
    assert holder_client.post(f"/aidants/{d.id}/terminer", data={"csrf_token": token}).status_code == 303
    assert helper_client.get(f"/constantes/poids/{measure.id}/modifier").status_code == 404  # back in their own space
    assert switch(helper_client, holder.patient_id).status_code == 404
    assert holder.patient_id not in helper_client.get("/").get_data(as_text=True)
    ended = rows(app, Delegation, Delegation.id == d.id)[0]
    assert (ended.status, ended.ended_by) == ("ended", "holder") and ended.ended_at is not None
    with app.app_context():
        assert "a pris fin" in notify.latest_to(helper.email).subject


def test_past_its_end_date_or_before_its_start(app, people, make_measure, login_as):
    holder_client, holder, helper_client, helper = people
    measure = make_measure(holder.patient_id)
    today = clock.paris_today()
    last_day = today + timedelta(days=5)
    invite(holder_client, helper.email, starts=today + timedelta(days=2), ends=last_day)
    accept(app, helper_client, delegation(app, holder).id)
    assert switch(helper_client, holder.patient_id).status_code == 404  # not begun
    clock.advance(timedelta(days=2))
    try:
        login_as(helper_client, helper)  # two days idle: a new session
        assert switch(helper_client, holder.patient_id).status_code == 303
        assert helper_client.get(f"/constantes/poids/{measure.id}/modifier").status_code == 200
        # ten minutes past its last day in Paris, whatever the hour the test began at
        clock.advance(datetime.combine(last_day + timedelta(days=1), time(0, 10), clock.PARIS) - clock.utcnow())
        login_as(helper_client, helper)
        assert switch(helper_client, holder.patient_id).status_code == 404
        assert helper_client.get(f"/constantes/poids/{measure.id}/modifier").status_code == 404
    finally:
        clock.reset()


def test_a_closed_space_is_helped_no_more(app, people, make_measure):
    holder_client, holder, helper_client, helper = people
    measure = make_measure(holder.patient_id)
    helping(app, people)
    with app.app_context():
        db.session.get(Patient, holder.patient_id).status = "closed"
        db.session.commit()
    assert helper_client.get(f"/constantes/poids/{measure.id}/modifier").status_code == 404


def test_dates_are_checked(app, people):
    holder_client, _holder, _c, helper = people
    today = clock.paris_today()
    r = invite(holder_client, helper.email, starts=today - timedelta(days=1))
    assert r.status_code == 422
    r = invite(holder_client, helper.email, starts=today, ends=today + timedelta(days=4 * 365))
    assert r.status_code == 422
    r = invite(holder_client, helper.email, scopes=())
    assert r.status_code == 422 and 'role="alert"' in r.get_data(as_text=True)
    assert rows(app, Delegation) == []
