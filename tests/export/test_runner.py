"""The export's job: a dead runner's job is taken over, progress is shown while it runs, the
holder is told as they chose, and every type the FHIR API serves is in the Bundle."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from sqlalchemy import update

from blueprints.export import runner
from blueprints.export.models import SpaceExport
from blueprints.fhir import services as fhir
from core import access, clock, jobs, notify
from core.db import db
from tests.export.space import seed
from tests.helpers import csrf_token, rows


def _ask(app, client, account) -> str:
    client.post("/mon-espace/recuperer", data={"csrf_token": csrf_token(client, "/mon-espace/recuperer")})
    (job,) = rows(app, SpaceExport, SpaceExport.patient_id == account.patient_id)
    return job.id


def _set(app, job_id, **values):
    with app.app_context():
        db.session.execute(update(SpaceExport).where(SpaceExport.id == job_id).values(**values))
        db.session.commit()


def test_a_job_whose_runner_died_is_taken_over(app, exporter):
    client, account = exporter
    job_id = _ask(app, client, account)
    host, boot, _pid, _started = jobs.this_runner().split("|")
    dead = f"{host}|{boot}|999999999|1"  # no such process on this host
    _set(app, job_id, status="running", runner=dead, heartbeat_at=clock.utcnow(), started_at=clock.utcnow())
    with app.app_context():
        assert jobs.runner_dead(dead, job_id)
        done = runner.run(job_id)
    assert done is not None and done.status == "done"


def test_a_live_runner_keeps_its_job(app, exporter):
    client, account = exporter
    job_id = _ask(app, client, account)
    with app.app_context():
        assert jobs.claim(SpaceExport, job_id) is not None  # this process runs it now
        assert runner.run(job_id) is None  # a second runner does not get it
        jobs.release(job_id)


def test_progress_shows_while_running(app, exporter):
    client, account = exporter
    job_id = _ask(app, client, account)
    _set(
        app,
        job_id,
        status="running",
        runner=jobs.this_runner(),
        heartbeat_at=clock.utcnow(),
        done_steps=30,
        total_steps=120,
    )
    html = client.get(f"/mon-espace/recuperer/{job_id}/etat", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'value="25"' in html and "25 %" in html


def test_ready_is_told_in_carnet_and_by_mail_as_chosen(app, exporter, run_export):
    client, account = exporter
    run_export(_ask(app, client, account))
    with app.app_context():
        (note,) = rows(app, notify.Notification, notify.Notification.patient_id == account.patient_id)
        assert note.kind == "export_ready"
        mail = notify.latest_to(account.email)
        assert mail is not None and "prêtes" in mail.subject
        notify.save_preferences(account.patient_id, {"message": "app"})
        db.session.commit()
    clock.freeze(clock.utcnow() + timedelta(minutes=1))
    run_export(_ask_again(app, client, account))
    with app.app_context():
        assert notify.latest_to(account.email).subject == mail.subject  # no second mail
    assert len(rows(app, notify.Notification, notify.Notification.patient_id == account.patient_id)) == 2


def _ask_again(app, client, account) -> str:
    client.post("/mon-espace/recuperer", data={"csrf_token": csrf_token(client, "/mon-espace/recuperer")})
    found = rows(app, SpaceExport, SpaceExport.patient_id == account.patient_id)
    return max(found, key=lambda j: j.created_at).id


def test_every_type_the_api_registers_is_exported(app, exporter, run_export, monkeypatch):
    """A type added to the API's registry is in the Bundle with nothing else to change."""
    client, account = exporter
    seed(app, account.patient_id)
    monkeypatch.setitem(fhir.SPECS, "ImmunizationAgain", fhir.SPECS["Immunization"])
    job = run_export(_ask(app, client, account))
    data = client.get(f"/mon-espace/recuperer/{job.id}/carnet.zip").get_data()
    bundle = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("fhir/bundle.json"))
    assert sum(e["resource"]["resourceType"] == "Immunization" for e in bundle["entry"]) == 2


def test_a_guardian_may_export_a_professional_may_not(app):
    assert access.can(access.Viewer("guardian", rights=access.GUARDIAN_RIGHTS), "export", "write")
    assert not access.can(access.Viewer("professional", rights=access.PROFESSIONAL_RIGHTS), "export", "read")
