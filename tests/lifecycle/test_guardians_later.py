"""Guardians after provisioning: the insurer's next file and the operator's paper requests add
and remove them; a removed guardian loses the child's space at the next request, and what they
did stays in its history."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from blueprints.auth import services as auth
from blueprints.lifecycle.models import Guardianship
from core import audit, clock, notify
from core.db import db
from core.people import Account, Patient
from tests.helpers import PASSWORD, csrf_token, traces, valid_nir

HEADER = "nir;birth_date;given_names;family_name;email;postal_address;guardian_nirs\n"
PAUL = valid_nir("1850675100002")
JULIE = valid_nir("2870375100005")
LEO = valid_nir("1200475100003")  # born 2 April 2020
PAUL_LINE = f"{PAUL};1985-06-12;Paul;Durand;paul@example.fr;;"
JULIE_LINE = f"{JULIE};1987-03-14;Julie;Morel;julie@example.fr;;"


def _provision(app, tmp_path, lines, name="population.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["patients", "provision", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def _guardians_of(app, nir) -> set[str]:
    with app.app_context():
        child = db.session.scalar(select(Patient.id).where(Patient.nir == nir))
        rows = db.session.execute(
            select(Patient.nir)
            .join(Guardianship, Guardianship.guardian_patient_id == Patient.id)
            .where(Guardianship.patient_id == child, Guardianship.ended_at.is_(None))
        )
        return {nir for (nir,) in rows}


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["patients", "guardians", *args])


def _activate(app, nir) -> Account:
    with app.test_request_context(method="POST"):
        account = db.session.scalar(
            select(Account).join(Patient, Patient.id == Account.patient_id).where(Patient.nir == nir)
        )
        auth.finish_activation(account, PASSWORD)
        db.session.commit()
        db.session.expunge_all()
    return account


def _switch(client, space_id):
    return client.post("/espace/changer", data={"space": space_id, "csrf_token": csrf_token(client, "/")})


def test_the_next_file_adds_and_removes_guardians_once(app, tmp_path):
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    _provision(app, tmp_path, [PAUL_LINE, JULIE_LINE, f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{PAUL}"])
    assert _guardians_of(app, LEO) == {PAUL}

    both = [PAUL_LINE, JULIE_LINE, f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{PAUL} {JULIE}"]
    out = _provision(app, tmp_path, both, "next.csv")
    assert "3 lines read: 0 spaces created, 3 already present, 0 refused." in out
    assert "Guardianships of children already present: 1 added, 0 removed." in out
    assert _guardians_of(app, LEO) == {PAUL, JULIE}
    with app.app_context():
        told = notify.latest_to("julie@example.fr")
        assert "Léo Durand" in told.body and "représentant légal" in told.body

    assert "Guardianships" not in _provision(app, tmp_path, both, "again.csv")  # nothing changes twice

    only_julie = [PAUL_LINE, JULIE_LINE, f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{JULIE}"]
    out = _provision(app, tmp_path, only_julie, "later.csv")
    assert "Guardianships of children already present: 0 added, 1 removed." in out
    assert _guardians_of(app, LEO) == {JULIE}
    with app.app_context():
        assert "n’êtes plus" in notify.latest_to("paul@example.fr").body
        runs = db.session.scalars(
            select(audit.AuditEvent).where(audit.AuditEvent.action == audit.Action.SPACES_PROVISIONED)
        ).all()
        assert [(r.detail["guardians_added"], r.detail["guardians_removed"]) for r in runs] == [
            (0, 0),
            (1, 0),
            (0, 0),
            (0, 1),
        ]
    added, removed = traces(app, audit.Action.GUARDIAN_ADDED), traces(app, audit.Action.GUARDIAN_REMOVED)
    assert [(t.target_label, t.detail["source"]) for t in added] == [("Julie Morel", "file")]
    assert [(t.target_label, t.detail["source"]) for t in removed] == [("Paul Durand", "file")]

    back = [PAUL_LINE, JULIE_LINE, f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{PAUL}"]
    assert "1 added, 1 removed" in _provision(app, tmp_path, back, "back.csv")  # an ended one taken up again
    assert _guardians_of(app, LEO) == {PAUL}


def test_a_guardian_the_file_does_not_know_refuses_the_line_and_changes_nothing(app, tmp_path):
    _provision(app, tmp_path, [PAUL_LINE, f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{PAUL}"])
    stranger = valid_nir("1700175100077")
    out = _provision(app, tmp_path, [f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{stranger}"], "next.csv")
    assert "1 lines read: 0 spaces created, 0 already present, 1 refused." in out
    assert "refused (guardian_unknown): 1" in out
    assert _guardians_of(app, LEO) == {PAUL}


def test_operator_commands_for_paper_requests(app, tmp_path):
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    _provision(app, tmp_path, [PAUL_LINE, JULIE_LINE, f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{PAUL}"])
    added = _cli(app, "add", "--child", LEO, "--guardian", JULIE)
    assert added.exit_code == 0 and "Julie Morel is now a legal guardian of Léo Durand." in added.output
    assert "was already" in _cli(app, "add", "--child", LEO, "--guardian", JULIE).output
    listed = _cli(app, "list", "--child", LEO).output
    assert "Paul Durand" in listed and "Julie Morel" in listed and listed.count("(current)") == 2
    assert PAUL not in listed  # NIRs are masked

    removed = _cli(app, "remove", "--child", LEO, "--guardian", PAUL)
    assert removed.exit_code == 0 and "Paul Durand is no longer a legal guardian" in removed.output
    assert "was not" in _cli(app, "remove", "--child", LEO, "--guardian", PAUL).output
    last = _cli(app, "remove", "--child", LEO, "--guardian", JULIE)
    assert last.exit_code != 0 and "only guardian" in last.output
    assert "until 2026-12-03" in _cli(app, "list", "--child", LEO).output
    assert _guardians_of(app, LEO) == {JULIE}

    assert (
        "no space for the child" in _cli(app, "add", "--child", valid_nir("1200475100099"), "--guardian", PAUL).output
    )
    assert "18 or older" in _cli(app, "add", "--child", PAUL, "--guardian", JULIE).output
    assert "their own guardian" in _cli(app, "add", "--child", LEO, "--guardian", LEO).output
    sources = [(t.action, t.target_label, t.detail["source"]) for t in traces(app) if t.action.startswith("guardian")]
    assert sources == [("guardian_added", "Julie Morel", "paper"), ("guardian_removed", "Paul Durand", "paper")]
    with app.app_context():
        assert "Léo Durand" in notify.latest_to("julie@example.fr").body


def test_a_removed_guardian_loses_the_space_at_the_next_request(app, client, tmp_path, login_as):
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    _provision(app, tmp_path, [PAUL_LINE, JULIE_LINE, f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{PAUL} {JULIE}"])
    paul, julie = _activate(app, PAUL), _activate(app, JULIE)
    with app.app_context():
        leo = db.session.scalar(select(Patient.id).where(Patient.nir == LEO))
    login_as(client, paul)
    assert "Léo Durand" in client.get("/").get_data(as_text=True)
    assert _switch(client, leo).status_code == 303
    token = csrf_token(client, "/profil/vaccinations/ajouter")
    data = {"name": "ROR", "on_date": "2024-01-15", "lot_number": "AB123", "csrf_token": token}
    assert client.post("/profil/vaccinations/ajouter", data=data).status_code == 303

    assert _cli(app, "remove", "--child", LEO, "--guardian", PAUL).exit_code == 0
    page = client.get("/").get_data(as_text=True)  # the same session, its next request
    assert "is-acting" not in page and "Léo Durand" not in page and 'id="space-select"' not in page
    assert _switch(client, leo).status_code == 404

    other = app.test_client()
    login_as(other, julie)
    assert _switch(other, leo).status_code == 303
    history = other.get("/historique").get_data(as_text=True)
    assert "Paul Durand" in history and "Représentant légal" in history  # what Paul did stays readable
    assert "Représentant légal retiré sur demande papier\u00a0: Paul Durand" in history
