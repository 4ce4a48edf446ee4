"""Guardians act in their children's spaces from their own account; at 18 the space is the
young adult's own."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from blueprints.auth import services as auth
from blueprints.profile.models import Vaccination
from core import audit, clock, notify
from core.db import db
from core.people import Account, Patient
from tests.helpers import PASSWORD, csrf_token, traces, valid_nir

HEADER = "nir;birth_date;given_names;family_name;email;postal_address;guardian_nirs\n"
PARENT = valid_nir("1850675100002")
LEO = valid_nir("1200475100003")  # born 2 April 2020
EMMA = valid_nir("2220975100004")  # born 9 September 2022


def _family(app, tmp_path):
    path = tmp_path / "family.csv"
    path.write_text(
        HEADER
        + f"{PARENT};1985-06-12;Paul;Durand;paul@example.fr;;\n"
        + f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{PARENT}\n"
        + f"{EMMA};2022-09-09;Emma;Durand;paul@example.fr;;{PARENT}\n",
        encoding="utf-8",
    )
    assert "3 spaces created" in app.test_cli_runner().invoke(args=["patients", "provision", str(path)]).output
    with app.test_request_context(method="POST"):
        ids = {p.nir: p.id for p in db.session.scalars(select(Patient))}
        account = db.session.scalar(select(Account).where(Account.patient_id == ids[PARENT]))
        auth.finish_activation(account, PASSWORD)
        db.session.commit()
        db.session.expunge_all()
    return account, ids


def _switch(client, space_id):
    return client.post("/espace/changer", data={"space": space_id, "csrf_token": csrf_token(client, "/")})


def _vaccinate(client, name="ROR"):
    token = csrf_token(client, "/profil/vaccinations/ajouter")
    return client.post(
        "/profil/vaccinations/ajouter",
        data={"name": name, "on_date": "2024-01-15", "lot_number": "AB123", "csrf_token": token},
    )


def test_a_guardian_switches_to_one_child_and_acts_there_only(app, client, tmp_path, login_as):
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    account, ids = _family(app, tmp_path)
    login_as(client, account)
    home = client.get("/").get_data(as_text=True)
    assert 'id="space-select"' in home and "Léo Durand" in home and "Emma Durand" in home
    assert _switch(client, ids[LEO]).status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "selected>Léo Durand" in page and "is-acting" in page
    assert _vaccinate(client).status_code == 303
    with app.app_context():
        found = {v.patient_id for v in db.session.scalars(select(Vaccination))}
    assert found == {ids[LEO]}  # Emma's space and Paul's own are unchanged
    added = traces(app, audit.Action.PROFILE_ITEM_ADDED)
    assert [(t.patient_id, t.actor_type, t.actor_id) for t in added] == [(ids[LEO], "guardian", ids[PARENT])]
    assert added[0].actor_name == "Paul Durand"  # traced as the guardian's own act
    assert client.get("/mon-espace/fermer").status_code == 403  # a guardian does not close a child's space
    assert _switch(client, ids[PARENT]).status_code == 303
    assert "is-acting" not in client.get("/").get_data(as_text=True)


def test_no_switch_to_a_space_one_is_not_the_guardian_of(app, client, tmp_path, login_as, make_holder):
    account, ids = _family(app, tmp_path)
    stranger, _ = make_holder()
    login_as(client, stranger)
    assert _switch(client, ids[LEO]).status_code == 404
    assert 'id="space-select"' not in client.get("/").get_data(as_text=True)
    login_as(client, account)
    assert _switch(client, stranger.patient_id).status_code == 404


def test_at_eighteen_the_space_is_handed_over(app, client, tmp_path, login_as):
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    account, ids = _family(app, tmp_path)
    login_as(client, account)
    _switch(client, ids[LEO])
    assert _vaccinate(client).status_code == 303
    clock.freeze(datetime(2038, 4, 2, 9, 0, tzinfo=UTC))  # Léo is 18
    login_as(client, account)
    out = app.test_cli_runner().invoke(args=["lifecycle", "run"]).output
    assert "1 spaces of young people turning 18 were handed over" in out
    assert "0 spaces of young people" in app.test_cli_runner().invoke(args=["lifecycle", "run"]).output
    assert _switch(client, ids[LEO]).status_code == 404  # the guardian's access ended
    with app.app_context():
        assert db.session.scalar(select(Vaccination).where(Vaccination.patient_id == ids[LEO])) is not None
    assert traces(app, audit.Action.SPACE_HANDED_OVER)[0].patient_id == ids[LEO]
    # the young adult activates with the new letter and reads what the guardian did
    with app.test_request_context(method="POST"):
        body = notify.latest_to("paul@example.fr").body
    code = re.search(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b", body).group(1)
    young = app.test_client()
    data = {"nir": LEO, "birth_date": "2020-04-02", "code": code, "csrf_token": csrf_token(young, "/activation")}
    assert young.post("/activation", data=data).status_code == 303
    token = csrf_token(young, "/activation/mot-de-passe")
    done = young.post(
        "/activation/mot-de-passe",
        data={"email": "leo@example.fr", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token},
    )
    assert done.status_code == 303
    history = young.get("/historique").get_data(as_text=True)
    assert "Paul Durand" in history and "Représentant légal" in history  # what the guardian did stays readable
