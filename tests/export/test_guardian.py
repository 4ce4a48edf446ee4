"""A guardian acting in a child's space exports that space (the child has no account): the job
acts as the guardian, the trace names the guardian, the mail goes to the guardian."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from blueprints.auth import services as auth
from blueprints.export.models import SpaceExport
from core import clock, notify
from core.db import db
from core.people import Account, Patient
from tests.helpers import PASSWORD, csrf_token, rows, traces, valid_nir

HEADER = "nir;birth_date;given_names;family_name;email;postal_address;guardian_nirs\n"
PARENT = valid_nir("1850675100002")
LEO = valid_nir("1200475100003")


def test_a_guardian_exports_a_childs_space(app, client, exporter, run_export, login_as, tmp_path):
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    path = tmp_path / "family.csv"
    path.write_text(
        HEADER
        + f"{PARENT};1985-06-12;Paul;Durand;paul@example.fr;;\n"
        + f"{LEO};2020-04-02;Léo;Durand;paul@example.fr;;{PARENT}\n",
        encoding="utf-8",
    )
    assert "2 spaces created" in app.test_cli_runner().invoke(args=["patients", "provision", str(path)]).output
    with app.test_request_context(method="POST"):
        ids = {p.nir: p.id for p in db.session.scalars(select(Patient))}
        parent = db.session.scalar(select(Account).where(Account.patient_id == ids[PARENT]))
        auth.finish_activation(parent, PASSWORD)
        db.session.commit()
        db.session.expunge_all()
        assert db.session.scalar(select(Account).where(Account.patient_id == ids[LEO])) is None
    login_as(client, parent)
    client.post("/espace/changer", data={"space": ids[LEO], "csrf_token": csrf_token(client, "/")})
    client.post("/mon-espace/recuperer", data={"csrf_token": csrf_token(client, "/mon-espace/recuperer")})
    (job,) = rows(app, SpaceExport, SpaceExport.patient_id == ids[LEO])
    assert run_export(job.id).status == "done"
    (trace,) = traces(app, "export_prepared")
    assert (trace.patient_id, trace.actor_type, trace.actor_id) == (ids[LEO], "guardian", ids[PARENT])
    with app.app_context():
        assert "prêtes" in notify.latest_to("paul@example.fr").subject
    assert client.get(f"/mon-espace/recuperer/{job.id}/carnet.zip").status_code == 200
