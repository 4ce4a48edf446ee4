"""Import screens as a holder: the page, upload, preview, progress, summary, and the gate."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from blueprints.measures.imports import jobs, upload
from blueprints.measures.imports.importers.common import IGNORED_NAMED
from blueprints.measures.models import MeasureImport
from core.db import db
from tests.helpers import csrf_token
from tests.measures.test_import_csv import FRENCH
from tests.samples import apple_xml, apple_zip, pressure, record

URL = "/constantes/importer"


def _disabled_button(html: str) -> bool:
    return re.search(r"<button\b[^>]*\sdisabled[\s>=]", html) is not None


XML = apple_xml(
    record("BodyMass", 72.4, "kg", "2024-03-01 07:00:00 +0100"),
    pressure(121, 79, "2024-03-01 07:02:00 +0100"),
    record("BodyMass", 900, "kg", "2024-03-01 08:00:00 +0100"),
)


def _send(client, content, name="export.zip", fmt="apple", htmx=False):
    data = {"format": fmt, "csrf_token": csrf_token(client, URL), "file": (io.BytesIO(content), name)}
    return client.post(
        URL, data=data, content_type="multipart/form-data", headers={"HX-Request": "true"} if htmx else {}
    )


def _run(app, import_id):
    with app.app_context():
        return jobs.run(import_id)


def test_the_import_page_explains_each_kind_of_file(importer):
    client, _ = importer
    r = client.get(URL)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'enctype="multipart/form-data"' in html and "data-upload-progress" in html
    assert 'value="apple"' in html and 'value="fhir"' in html and 'value="csv"' in html
    assert "Export All Health Data" in html or "Exporter toutes les données" in html
    assert f'data-max-bytes="{upload.MAX_UPLOAD}"' in html and "2 Go" in html


def test_upload_then_progress_then_summary(app, importer):
    client, _ = importer
    r = _send(client, apple_zip(XML))
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    job_url = r.headers["Location"]
    import_id = job_url.rsplit("/", 1)[-1]
    page = client.get(job_url).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in page and f"{job_url}/progression" in page
    _run(app, import_id)
    frag = client.get(f"{job_url}/progression", headers={"HX-Request": "true"})
    html = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in html and "every 1s" not in html
    # the number, then words that agree with it (French: 0 and 1 are singular)
    assert '<span class="import-num">2</span> <span class="import-what">mesures ajoutées</span>' in html
    assert '<span class="import-num">1</span> <span class="import-what">valeur refusée</span>' in html
    assert '<span class="import-num">0</span> <span class="import-what">déjà présente</span>' in html
    assert "Ajouté" not in html
    assert 'href="/constantes"' in html
    listing = client.get(URL).get_data(as_text=True)
    assert job_url in listing and "export.zip" in listing


def test_upload_with_htmx_answers_with_a_redirect(importer):
    client, _ = importer
    r = _send(client, XML, "export.xml", htmx=True)
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith(URL + "/")


def test_a_wrong_file_answers_422_with_a_reason(importer):
    client, _ = importer
    r = _send(client, b"%PDF-1.7 not an export", "export.zip", htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "<html" not in html and "notice-error" in html
    r = _send(client, "Poids\u00a0: 72 kg\n".encode(), "liste.csv", fmt="csv")
    assert r.status_code == 422 and "notice-error" in r.get_data(as_text=True)
    r = client.post(
        URL, data={"format": "apple", "csrf_token": csrf_token(client, URL)}, content_type="multipart/form-data"
    )
    assert r.status_code == 422


def test_the_upload_checks_csrf_itself(importer):
    client, _ = importer
    r = client.post(
        URL, data={"format": "apple", "file": (io.BytesIO(XML), "export.xml")}, content_type="multipart/form-data"
    )
    assert r.status_code == 422 and "expired" in r.get_data(as_text=True).lower() or r.status_code == 400


def test_csv_preview_then_confirm_then_import(app, importer):
    client, _ = importer
    r = _send(client, FRENCH, "mesures.csv", fmt="csv")
    job_url = r.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert "Type" in page and "Valeur" in page and "72,4" in page
    assert "every 1s" not in page and "/confirmer" in page
    token = csrf_token(client, URL)
    r = client.post(f"{job_url}/confirmer", data={"csrf_token": token})
    assert r.status_code == 303
    imp = _run(app, job_url.rsplit("/", 1)[-1])
    assert (imp.status, imp.added, imp.rejected) == ("done", 4, 3)


def test_cancelling_a_preview_deletes_the_file(app, importer):
    client, _ = importer
    job_url = _send(client, FRENCH, "mesures.csv", fmt="csv").headers["Location"]
    r = client.post(f"{job_url}/annuler", data={"csrf_token": csrf_token(client, URL)})
    assert r.status_code == 303 and r.headers["Location"] == URL
    assert client.get(job_url).status_code == 404


def test_another_holders_import_is_not_found(app, importer, make_holder, login_as):
    client, _ = importer
    import_id = _send(client, XML, "export.xml").headers["Location"].rsplit("/", 1)[-1]
    other, _ = make_holder()
    intruder = app.test_client()
    login_as(intruder, other)
    token = csrf_token(intruder, URL)
    for path in (f"{URL}/{import_id}", f"{URL}/{import_id}/progression"):
        assert intruder.get(path).status_code == 404
    for path in (f"{URL}/{import_id}/confirmer", f"{URL}/{import_id}/annuler"):
        assert intruder.post(path, data={"csrf_token": token}).status_code == 404
    assert import_id not in intruder.get(URL).get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client):
    for method, path in (("GET", URL), ("POST", URL), ("GET", f"{URL}/x"), ("GET", f"{URL}/x/progression")):
        r = client.open(path, method=method)
        assert r.status_code in (302, 303) and "/connexion" in r.headers["Location"]


def test_polling_does_not_keep_the_session_alive(app):
    assert getattr(app.view_functions["measures.import_progress"], "carnet_passive", False)


def test_opening_the_page_resumes_an_abandoned_job(app, importer):
    client, account = importer
    import_id = _send(client, XML, "export.xml").headers["Location"].rsplit("/", 1)[-1]
    app.config["MEASURES_IMPORT_THREADS"] = True
    started = []
    original = jobs.start
    jobs.start = lambda i: started.append(i)
    try:
        client.get(URL)
    finally:
        jobs.start = original
    assert started == [import_id]
    with app.app_context():
        assert db.session.scalar(select(MeasureImport.status).where(MeasureImport.id == import_id)) == "pending"


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def test_a_device_export_shows_which_column_became_which_kind_and_unit(app, importer):
    client, _ = importer
    r = _send(client, (FIXTURES / "omron_connect.csv").read_bytes(), "OMRON connect.csv", fmt="csv")
    job_url = r.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert re.search(r"Colonne «\s*SYS\(mmHg\)\s*».*?→\s*<strong>Tension, systolique, en mmHg</strong>", page, re.S)
    assert re.search(r"Colonne «\s*Pulse\(bpm\)\s*».*?→\s*<strong>Fréquence cardiaque, en bpm</strong>", page, re.S)
    assert re.search(r"Colonne «\s*Timezone\s*».*?→\s*<strong>Fuseau horaire</strong>", page, re.S)
    assert re.search(r"Colonnes non importées\s*:</span> Irregular heartbeat, IHB detection count, Body Movement", page)
    assert "Fréquence cardiaque (bpm)" in page  # the chooser says units as people read them
    assert "126/81" in page and 'name="col-2"' in page and "/colonnes" in page
    assert re.search(r'<option value="blood_pressure.sys\|mmHg" selected>', page)
    confirm = page.split("/confirmer")[1].split("</form>")[0]
    assert not _disabled_button(confirm) and 'hx-disabled-elt="find button"' in confirm  # no double submit


def test_unknown_columns_get_a_chooser_then_import(app, importer):
    client, _ = importer
    r = _send(client, (FIXTURES / "unknown_columns.csv").read_bytes(), "carnet-glycemie.csv", fmt="csv")
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    job_url = r.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert (
        "n’a pas reconnu les colonnes" in page and '<details class="import-chooser" id="import-chooser" open>' in page
    )
    assert 'name="date"' in page and 'name="col-1"' in page and "Ne pas importer" in page and "5,4" in page
    confirm = page.split("/confirmer")[1].split("</form>")[0]
    assert _disabled_button(confirm)
    token = csrf_token(client, URL)
    r = client.post(f"{job_url}/confirmer", data={"csrf_token": token})  # nothing to import yet
    with app.app_context():
        assert (
            db.session.scalar(select(MeasureImport.status).where(MeasureImport.id == job_url.rsplit("/", 1)[-1]))
            == "preview"
        )
    # an answer that cannot be used: said again, with the person's choices kept
    r = client.post(
        f"{job_url}/colonnes",
        data={"csrf_token": token, "date": "", "col-1": "glucose|mmol/L"},
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'role="alert"' in html and "la colonne qui contient la date" in html
    assert '<option value="glucose|mmol/L" selected>' in html
    r = client.post(
        f"{job_url}/colonnes",
        data={"csrf_token": token, "date": "0", "col-1": "glucose|mmol/L", "col-2": "glucose|mmol/L", "col-3": ""},
    )
    assert r.status_code == 303
    page = client.get(job_url).get_data(as_text=True)
    assert "n’a pas reconnu" not in page and re.search(r"Colonne «\s*Matin\s*».*?Glycémie, en mmol/L", page, re.S)
    r = client.post(f"{job_url}/confirmer", data={"csrf_token": token})
    imp = _run(app, job_url.rsplit("/", 1)[-1])
    assert (imp.status, imp.added, imp.rejected) == ("done", 4, 0)


def test_the_column_chooser_checks_csrf_and_only_changes_a_preview(app, importer):
    client, _ = importer
    job_url = _send(client, (FIXTURES / "unknown_columns.csv").read_bytes(), "x.csv", fmt="csv").headers["Location"]
    r = client.post(f"{job_url}/colonnes", data={"date": "0", "col-1": "glucose|mmol/L"})
    assert r.status_code == 400  # no CSRF token
    with app.app_context():
        imp = db.session.get(MeasureImport, job_url.rsplit("/", 1)[-1])
        assert imp.options["layout"] == "unknown"


def test_a_gpx_route_sent_as_an_apple_export_is_refused_in_words(importer):
    client, _ = importer
    r = _send(client, (FIXTURES / "route.gpx").read_bytes(), "course.gpx", htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "pas un export Apple Santé" in html and 'role="alert"' in html


def test_the_summary_names_every_kind_not_kept_or_counts_the_rest(app, importer):

    client, _ = importer
    rows = [record(f"Dietary{i:02d}", 1, "g", "2024-03-01 07:00:00 +0100") for i in range(IGNORED_NAMED + 3)]
    job_url = _send(
        client, apple_xml(record("BodyMass", 72.4, "kg", "2024-03-01 07:00:00 +0100"), *rows), "export.xml"
    ).headers["Location"]
    _run(app, job_url.rsplit("/", 1)[-1])
    html = client.get(job_url).get_data(as_text=True)
    assert "Dietary00 (1)" in html and f"Dietary{IGNORED_NAMED - 1:02d} (1)" in html
    assert "Dietary00 (1), " in html and "(1) et 3 autres types." in html
