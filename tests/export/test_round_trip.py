"""A space exported from Carnet imports into an empty space identically (ids aside), through
the operator's `flask spaces import-export`; a space that is not empty, or a zip that is not a
Carnet export, is refused with nothing changed."""

from __future__ import annotations

import json
import zipfile

from sqlalchemy import select

from blueprints.documents import previews, services as documents
from blueprints.documents.models import Document
from blueprints.export.models import SpaceExport
from core.db import db
from core.people import Patient
from tests.export.space import holder_viewer, seed, snapshot
from tests.helpers import csrf_token, rows, traces


def _export(app, client, account, run_export, tmp_path):
    client.post("/mon-espace/recuperer", data={"csrf_token": csrf_token(client, "/mon-espace/recuperer")})
    (job,) = rows(app, SpaceExport, SpaceExport.patient_id == account.patient_id)
    run_export(job.id)
    path = tmp_path / "export.zip"
    path.write_bytes(client.get(f"/mon-espace/recuperer/{job.id}/carnet.zip").get_data())
    return path


def _nir(app, patient_id):
    with app.app_context():
        return db.session.get(Patient, patient_id).nir


def test_round_trip_recreates_the_space_field_by_field(app, exporter, run_export, make_holder, tmp_path):
    client, account = exporter
    seed(app, account.patient_id)
    path = _export(app, client, account, run_export, tmp_path)
    target, _ = make_holder()
    out = app.test_cli_runner().invoke(
        args=["spaces", "import-export", str(path), "--nir", _nir(app, target.patient_id)]
    )
    assert out.exit_code == 0, out.output
    assert "6 documents, 12 measures, 9 profile entries" in out.output

    before, after = snapshot(app, account.patient_id), snapshot(app, target.patient_id)
    assert after == before
    assert len(after["documents"]) == 6 and len(after["measures"]) == 12
    assert any(d["hidden"] for d in after["documents"])
    assert any(d["author_name"] == "Dr Hélène Bernard" for d in after["documents"])
    # The originals, byte-identical, readable through the documents service in the new space.
    with app.test_request_context(method="POST"):
        new_docs = list(db.session.scalars(select(Document).where(Document.patient_id == target.patient_id)))
        old_docs = {
            d.sha256: d for d in db.session.scalars(select(Document).where(Document.patient_id == account.patient_id))
        }
        viewer = holder_viewer(target.patient_id)
        for doc in new_docs:
            data = documents.open_content(viewer, doc, "download").read()
            assert (
                data
                == documents.open_content(holder_viewer(account.patient_id), old_docs[doc.sha256], "download").read()
            )
            assert (doc.thumb_blob_id is None) == (old_docs[doc.sha256].thumb_blob_id is None)
            old = old_docs[doc.sha256]
            assert (doc.first_page is None) == (old.first_page is None)  # a PDF's first page drawn again
            if doc.first_page:
                assert previews.page_image(viewer, doc, 1, "grande") == previews.page_image(
                    holder_viewer(account.patient_id), old, 1, "grande"
                )
            assert previews.photo_sources(doc) == previews.photo_sources(old)  # a photo drawn again
        assert any(doc.first_page for doc in new_docs)
        assert any(previews.photo_sources(doc) for doc in new_docs)
    (trace,) = traces(app, "space_imported")
    assert trace.patient_id == target.patient_id and trace.detail["measures"] == 12


def test_refuses_a_space_that_is_not_empty(app, exporter, run_export, make_holder, make_measure, tmp_path):
    client, account = exporter
    seed(app, account.patient_id)
    path = _export(app, client, account, run_export, tmp_path)
    target, _ = make_holder()
    make_measure(target)
    out = app.test_cli_runner().invoke(
        args=["spaces", "import-export", str(path), "--nir", _nir(app, target.patient_id)]
    )
    assert out.exit_code != 0 and "not empty" in out.output
    assert len(snapshot(app, target.patient_id)["measures"]) == 1


def test_refuses_an_unknown_nir_and_a_zip_that_is_not_an_export(app, exporter, make_holder, tmp_path):
    target, _ = make_holder()
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("export.xml", "<HealthData/>")
    runner = app.test_cli_runner()
    out = runner.invoke(args=["spaces", "import-export", str(other), "--nir", "1234567890123"])
    assert out.exit_code != 0 and "No space has this NIR" in out.output
    out = runner.invoke(args=["spaces", "import-export", str(other), "--nir", _nir(app, target.patient_id)])
    assert out.exit_code != 0 and "not a Carnet export" in out.output


def test_an_altered_original_is_refused_and_nothing_is_kept(app, exporter, run_export, make_holder, tmp_path):
    client, account = exporter
    seed(app, account.patient_id)
    path = _export(app, client, account, run_export, tmp_path)
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(altered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("ordonnance.txt"):
                data += b"ajout"
            dst.writestr(info, data)
    target, _ = make_holder()
    out = app.test_cli_runner().invoke(
        args=["spaces", "import-export", str(altered), "--nir", _nir(app, target.patient_id)]
    )
    assert out.exit_code != 0 and "SHA-256" in out.output
    after = snapshot(app, target.patient_id)
    assert after["documents"] == [] and after["measures"] == [] and after["files"] == []


def test_lines_of_unknown_tables_are_skipped(app, exporter, run_export, make_holder, tmp_path):
    """A newer Carnet may carry more: what this one does not know is left aside, not refused."""
    client, account = exporter
    path = _export(app, client, account, run_export, tmp_path)
    extended = tmp_path / "extended.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(extended, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "carnet/espace.jsonl":
                data += json.dumps({"table": "future_things", "row": {"id": "x"}}).encode() + b"\n"
            dst.writestr(info, data)
    target, _ = make_holder()
    out = app.test_cli_runner().invoke(
        args=["spaces", "import-export", str(extended), "--nir", _nir(app, target.patient_id)]
    )
    assert out.exit_code == 0, out.output
