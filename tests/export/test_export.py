"""The export: fresh authentication, one job at a time, progress, the zip's contents (originals
byte-identical, a valid FHIR Bundle, the CSVs, the read-me), the 7 days, the download, the traces."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueprints.documents.models import Document
from blueprints.export.models import SpaceExport
from core import blobs, clock, pdf
from core.db import db
from tests.export.space import FILES, seed
from tests.helpers import csrf_token, rows, traces


def _start(client):
    return client.post("/mon-espace/recuperer", data={"csrf_token": csrf_token(client, "/mon-espace/recuperer")})


def _job(app, patient_id):
    (job,) = rows(app, SpaceExport, SpaceExport.patient_id == patient_id)
    return job


def test_starting_needs_a_fresh_authentication(app, client, exporter, login_as):
    client, account = exporter
    login_as(client, account, fresh=False)
    answer = _start(client)
    assert answer.status_code in (302, 303) and "/compte/confirmer" in answer.headers["Location"]
    assert rows(app, SpaceExport) == []


def test_export_runs_and_the_zip_holds_everything(app, exporter, run_export):
    client, account = exporter
    seed(app, account.patient_id)
    assert _start(client).status_code in (302, 303)
    job = _job(app, account.patient_id)
    assert job.status == "pending"
    page = client.get("/mon-espace/recuperer").get_data(as_text=True)
    assert "Preparing your file" in page or "Préparation" in page
    done = run_export(job.id)
    assert done.status == "done" and done.percent == 100 and done.done_steps == done.total_steps
    assert done.expires_at - done.finished_at == timedelta(days=7)

    answer = client.get(f"/mon-espace/recuperer/{job.id}/carnet.zip")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    zf = zipfile.ZipFile(io.BytesIO(answer.get_data()))
    names = set(zf.namelist())
    assert {"LISEZMOI.txt", "fhir/bundle.json", "synthese.pdf", "mesures.csv", "historique.csv"} <= names
    assert {"carnet/espace.jsonl"} <= names

    # Originals, byte-identical (as stored: an image's metadata was stripped at upload).
    with app.app_context():
        docs = list(db.session.scalars(select(Document).where(Document.patient_id == account.patient_id)))
    files = sorted(n for n in names if n.startswith("documents/"))
    assert len(files) == len(FILES) == len(docs)
    assert sorted(hashlib.sha256(zf.read(n)).hexdigest() for n in files) == sorted(d.sha256 for d in docs)
    assert "documents/2026-02-03-ordonnance.txt" in files and "documents/2026-02-03-ordonnance-2.txt" in files
    assert "documents/2026-02-03-scan-attestation-cpam.tif" in files
    assert all(n.isascii() and " " not in n for n in files)

    bundle = json.loads(zf.read("fhir/bundle.json"))
    Bundle.model_validate(bundle) if hasattr(Bundle, "model_validate") else Bundle.parse_obj(bundle)
    assert bundle["type"] == "collection"
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Observation", "DocumentReference", "AllergyIntolerance", "MedicationStatement"} <= types
    assert {"Condition", "Immunization", "AuditEvent"} <= types
    assert sum(e["resource"]["resourceType"] == "DocumentReference" for e in bundle["entry"]) == len(FILES)

    measures = zf.read("mesures.csv").decode("utf-8-sig").splitlines()
    assert measures[0].startswith("kind;loinc;") and len(measures) == 1 + 12
    history = zf.read("historique.csv").decode("utf-8-sig").splitlines()
    assert len(history) > 1
    assert zf.read("synthese.pdf").startswith(b"%PDF")
    readme = zf.read("LISEZMOI.txt").decode()
    assert "documents/" in readme and "fhir/bundle.json" in readme and "mesures.csv" in readme
    assert f"Vos documents ({len(FILES)})" in readme

    assert [t.detail["status"] for t in traces(app, "export_prepared")] == ["done"]
    assert len(traces(app, "export_downloaded")) == 1


def test_one_export_at_a_time(app, exporter):
    client, account = exporter
    _start(client)
    _start(client)
    assert len(rows(app, SpaceExport, SpaceExport.patient_id == account.patient_id)) == 1


def test_progress_is_polled_and_tells_when_ready(app, exporter, run_export):
    client, account = exporter
    _start(client)
    job = _job(app, account.patient_id)
    poll = client.get(f"/mon-espace/recuperer/{job.id}/etat", headers={"HX-Request": "true"})
    html = poll.get_data(as_text=True)
    assert poll.status_code == 200 and 'hx-trigger="every 1s"' in html and "<progress" in html
    run_export(job.id)
    html = client.get(f"/mon-espace/recuperer/{job.id}/etat", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "every 1s" not in html and f"/mon-espace/recuperer/{job.id}/carnet.zip" in html
    assert "data-focus-after-swap" in html


def test_a_failed_job_says_so_and_can_start_again(app, exporter, run_export, monkeypatch):
    client, account = exporter
    _start(client)
    job = _job(app, account.patient_id)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("blueprints.export.archive.build", broken)
    assert run_export(job.id).status == "failed"
    page = client.get("/mon-espace/recuperer").get_data(as_text=True)
    assert 'role="alert"' in page and "/mon-espace/recuperer/" + job.id + "/carnet.zip" not in page
    monkeypatch.undo()
    _start(client)
    assert len(rows(app, SpaceExport, SpaceExport.patient_id == account.patient_id)) == 2


def test_ready_tells_the_holder(app, exporter, run_export):
    client, account = exporter
    _start(client)
    run_export(_job(app, account.patient_id).id)
    page = client.get("/partage").get_data(as_text=True)
    assert "/mon-espace/recuperer" in page


def test_expired_zip_is_not_served_and_lifecycle_run_shreds_it(app, exporter, run_export, login_as):
    client, account = exporter
    _start(client)
    job = run_export(_job(app, account.patient_id).id)
    clock.freeze(clock.utcnow() + timedelta(days=7, seconds=-5))
    login_as(client, account)  # a week later: a new session
    assert client.get(f"/mon-espace/recuperer/{job.id}/carnet.zip").status_code == 200
    out = app.test_cli_runner().invoke(args=["lifecycle", "run"]).output
    assert "0 expired exports were shredded" in out
    clock.freeze(clock.utcnow() + timedelta(seconds=10))
    login_as(client, account)
    assert client.get(f"/mon-espace/recuperer/{job.id}/carnet.zip").status_code == 404
    out = app.test_cli_runner().invoke(args=["lifecycle", "run"]).output
    assert "1 expired exports were shredded" in out
    assert _job(app, account.patient_id).blob_id is None
    with app.app_context():
        assert not blobs.store().exists(job.blob_id)


def test_a_zip_shredded_as_it_is_asked_for_is_not_found(app, exporter, run_export):
    """The lifecycle run shreds a zip (its key row) between the page's check and the read: the
    download answers 404, as after the shred, and traces nothing."""
    client, account = exporter
    _start(client)
    job = run_export(_job(app, account.patient_id).id)
    with app.app_context():
        db.session.delete(db.session.get(blobs.BlobKey, job.blob_id))
        db.session.commit()
    assert client.get(f"/mon-espace/recuperer/{job.id}/carnet.zip").status_code == 404
    assert traces(app, "export_downloaded") == []


def test_downloading_needs_a_fresh_authentication(app, exporter, run_export, login_as):
    client, account = exporter
    _start(client)
    job = run_export(_job(app, account.patient_id).id)
    login_as(client, account, fresh=False)
    answer = client.get(f"/mon-espace/recuperer/{job.id}/carnet.zip")
    assert answer.status_code in (302, 303) and "/compte/confirmer" in answer.headers["Location"]
    assert traces(app, "export_downloaded") == []


def test_a_summary_that_cannot_be_made_leaves_the_rest_of_the_zip(app, exporter, run_export, monkeypatch):
    client, account = exporter
    _start(client)

    def too_long(*args, **kwargs):
        raise pdf.PdfError("took too long")

    monkeypatch.setattr("blueprints.profile.synthesis.printing.a4_pdf", too_long)
    job = run_export(_job(app, account.patient_id).id)
    assert job.status == "done"
    zf = zipfile.ZipFile(io.BytesIO(client.get(f"/mon-espace/recuperer/{job.id}/carnet.zip").get_data()))
    assert "synthese.pdf" not in zf.namelist() and "mesures.csv" in zf.namelist()
    assert "Absent de ce dossier" in zf.read("LISEZMOI.txt").decode()


def test_the_database_keeps_one_unfinished_export_per_space(app, exporter):
    """Two requests asking at once: the second insert is refused by the partial unique index."""
    client, account = exporter
    _start(client)
    with app.app_context():
        db.session.add(SpaceExport(patient_id=account.patient_id, base_url="http://localhost"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(SpaceExport(patient_id=account.patient_id, base_url="http://localhost", status="failed"))
        db.session.commit()  # finished ones are not limited
