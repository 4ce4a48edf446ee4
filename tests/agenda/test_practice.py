"""A professional's agenda across their patients, on their home: coming appointments and the
other times patients asked for, each leading to that patient's record agenda. Only patients
who still grant access: an ended grant, a block or a closed space hides theirs."""

from __future__ import annotations

from sqlalchemy import select

from blueprints.agenda import practice
from blueprints.agenda.models import Appointment
from core import access, grants
from core.db import db
from core.people import Account
from tests.factories import _holder_viewer
from tests.helpers import csrf_token, rows


def _post(client, url, data=None, page="/agenda/"):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, page)})


def _propose(pro_client, grant_id, day, at="14:00", reason="Suivi"):
    page = f"/agenda/dossier/{grant_id}"
    r = _post(pro_client, f"{page}/proposer", {"day": day, "at": at, "duration": "20", "reason": reason}, page=page)
    assert r.status_code == 303


def _second_patient(app, make_holder, pro):
    holder, _ = make_holder(given_names="Lucie")
    with app.app_context():
        grant = grants.Grant(patient_id=holder.patient_id, professional_id=pro.professional_id)
        db.session.add(grant)
        db.session.commit()
        return holder, grant.id


def _home(pro_client) -> str:
    return pro_client.get("/").get_data(as_text=True).split('id="pro-agenda"')[1].split("</section>")[0]


def test_the_home_lists_coming_appointments_and_requests_across_patients(app, granted, make_holder, login_as):
    holder_client, holder, pro_client, pro, grant_id = granted
    assert "Aucun rendez-vous à venir" in _home(pro_client)  # the empty state says where to start
    lucie, lucie_grant = _second_patient(app, make_holder, pro)
    _propose(pro_client, grant_id, "2026-12-15", reason="Suivi tension")
    _propose(pro_client, lucie_grant, "2026-12-10", reason="Vaccin")
    [first] = [a for a in rows(app, Appointment) if a.patient_id == holder.patient_id]
    _post(
        holder_client,
        f"/agenda/rendez-vous/{first.id}/autre-horaire",
        {"day": "2026-12-16", "at": "17:30", "version": first.sequence},
    )
    home = _home(pro_client)
    asked, coming = home.split('id="pro-agenda-coming"')
    assert "Horaire demandé\u00a0: 16 décembre 2026" in asked and "vous aviez proposé" in asked
    assert f'href="/agenda/dossier/{grant_id}#rdv-{first.id}"' in asked and "À répondre" in asked
    assert "Lucie" in coming and "Vaccin" in coming and f'href="/agenda/dossier/{lucie_grant}#rdv-' in coming
    assert "Suivi tension" not in coming  # waiting for an answer, listed once
    # the link opens the record's agenda page, where the row is
    page = pro_client.get(f"/agenda/dossier/{grant_id}").get_data(as_text=True)
    assert f'id="rdv-{first.id}"' in page


def test_an_ended_grant_a_block_or_another_professional_hide_them(app, granted, make_holder, make_pro, login_as):
    holder_client, holder, pro_client, pro, grant_id = granted
    lucie, lucie_grant = _second_patient(app, make_holder, pro)
    _propose(pro_client, grant_id, "2026-12-15", reason="Suivi tension")
    _propose(pro_client, lucie_grant, "2026-12-10", reason="Vaccin")
    other = make_pro()
    other_client = app.test_client()
    login_as(other_client, other)
    assert "Vaccin" not in _home(other_client) and "Suivi tension" not in _home(other_client)
    with app.app_context():
        found = db.session.get(grants.Grant, lucie_grant)
        found.ended_at = found.created_at
        db.session.commit()
    home = _home(pro_client)
    assert "Vaccin" not in home and "Suivi tension" in home
    with app.app_context():
        rpps = db.session.get(Account, pro.id).professional.rpps
        db.session.add(grants.Block(patient_id=holder.patient_id, rpps=rpps))
        db.session.commit()
    assert "Suivi tension" not in _home(pro_client)
    # the holder's own side never gets anything from this scope
    with app.test_request_context(method="POST"):
        viewer = _holder_viewer(holder)
        assert db.session.scalars(access.scope_practice(viewer, select(Appointment))).all() == []


def test_a_long_list_is_cut_and_says_where_the_rest_is(app, granted, monkeypatch):
    holder_client, holder, pro_client, pro, grant_id = granted
    monkeypatch.setattr(practice, "SHOWN", 1)
    _propose(pro_client, grant_id, "2026-12-15", reason="Premier")
    assert "les autres sont sur la page Rendez-vous" not in _home(pro_client)
    _propose(pro_client, grant_id, "2026-12-16", reason="Second")
    home = _home(pro_client)
    assert "Premier" in home and "Second" not in home and "les autres sont sur la page Rendez-vous" in home
