"""The reimbursement screens as a holder: list by month, filters and search as fragments,
the next page, one act and its document, the year, the relevé, the upload, the home card."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from blueprints.measures.imports import jobs
from blueprints.measures.models import MeasureImport
from blueprints.reimbursements import services
from blueprints.reimbursements.models import Reimbursement
from core.audit import AuditEvent
from core.db import db
from core.identifiers import format_nir
from core.people import Patient
from tests.helpers import csrf_token, statements

RELEVE = (Path(__file__).parent / "fixtures" / "releve_2026.csv").read_bytes()
HTMX = {"HX-Request": "true"}


def _import(app, client, content=RELEVE, name="releve.csv"):
    data = {"csrf_token": csrf_token(client, "/remboursements/importer"), "file": (io.BytesIO(content), name)}
    r = client.post("/remboursements/importer", data=data, content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    import_id = r.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        jobs.run(import_id)
    return import_id


def _ids(app, account):
    with app.app_context():
        return {
            r.reference: r.id
            for r in db.session.scalars(select(Reimbursement).where(Reimbursement.patient_id == account.patient_id))
        }


def test_the_upload_runs_a_job_whose_page_sums_it_up(app, importer):
    client, account = importer
    import_id = _import(app, client)
    html = client.get(f"/remboursements/importer/{import_id}").get_data(as_text=True)
    assert "Import finished" in html or "Import terminé" in html
    assert re.search(r'import-num">6<', html)
    # the progress fragment of a finished job does not poll any more
    frag = client.get(f"/remboursements/importer/{import_id}/progression", headers=HTMX).get_data(as_text=True)
    assert "every 1s" not in frag and 'id="import-progress"' in frag
    assert "releve.csv" in client.get("/remboursements/importer").get_data(as_text=True)


def test_a_file_that_is_not_a_statement_is_refused_in_words(app, importer):
    client, _ = importer
    data = {"csrf_token": csrf_token(client, "/remboursements/importer"), "file": (io.BytesIO(b"[1, 2]"), "x.json")}
    r = client.post("/remboursements/importer", data=data, content_type="multipart/form-data", headers=HTMX)
    assert r.status_code == 422 and 'role="alert"' in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(MeasureImport.id)) is None


def test_the_list_groups_by_month_and_filters_as_fragments(app, held_clock, importer):
    client, account = importer
    _import(app, client)
    html = client.get("/remboursements").get_data(as_text=True)
    assert html.index("Mars 2026") < html.index("Février 2026") < html.index("Janvier 2026")
    assert "Dr Hélène Bernard" in html
    assert "4,00" in html  # participations of 2026 so far: 2 + 2
    frag = client.get("/remboursements?nature=pharmacie", headers=HTMX).get_data(as_text=True)
    assert frag.lstrip().startswith("<div") and 'id="reimbursement-results"' in frag and "<html" not in frag
    assert "Pharmacie des Lilas" in frag and "Dr Hélène Bernard" not in frag
    # the fragment says how many acts it found, for the page's status region (French plurals)
    found = re.search(r'data-results-count="(\d+) actes? trouvés?"', frag)
    assert found and int(found.group(1)) == frag.count('class="remb-row"') >= 1
    one = client.get("/remboursements?q=kine", headers=HTMX).get_data(as_text=True)
    assert 'data-results-count="1 acte trouvé"' in one
    frag = client.get("/remboursements?q=kine", headers=HTMX).get_data(as_text=True)
    assert "Cabinet Oberkampf" in frag and "Pharmacie" not in frag
    frag = client.get("/remboursements?statut=rejected", headers=HTMX).get_data(as_text=True)
    assert "Séance de kinésithérapie" in frag and "Détartrage" not in frag
    frag = client.get("/remboursements?du=2026-02-01&au=2026-02-28", headers=HTMX).get_data(as_text=True)
    assert "Détartrage" in frag and "Lunettes" not in frag
    frag = client.get("/remboursements?q=nothing-matches", headers=HTMX).get_data(as_text=True)
    assert "No act matches" in frag or "Aucun acte" in frag
    assert 'data-results-count="Aucun acte ne correspond."' in frag
    # a filtered URL opened directly is the whole page with the filter applied
    page = client.get("/remboursements?nature=optique").get_data(as_text=True)
    assert "<html" in page and "Optique Voltaire" in page and "Pharmacie des Lilas</span>" not in page


def test_a_long_list_comes_a_page_at_a_time_without_repeating_a_month(app, importer):
    client, account = importer
    header = RELEVE.split(b"\n", 1)[0].decode()
    body = "".join(
        f"R{i:03d};{1 + i % 28:02d}/{1 + i // 28:02d}/2025;;pharmacie;Médicaments;Pharmacie;10,00;10,00;65;5,50;0;1,00;3,50;1,00;payé;;\n"
        for i in range(120)
    )
    _import(app, client, (header + "\n" + body).encode())
    html = client.get("/remboursements").get_data(as_text=True)
    assert html.count('class="remb-row"') == services.PAGE
    more = re.search(r'hx-get="([^"]*apres=[^"]+)"', html).group(1).replace("&amp;", "&")
    frag = client.get(more, headers={**HTMX, "HX-Target": "reimbursement-more"}).get_data(as_text=True)
    assert frag.count('class="remb-row"') == services.PAGE
    last_month = re.findall(r'id="mois-(\d{4}-\d\d)"', html)[-1]
    assert f'id="mois-{last_month}"' not in frag  # the month goes on without a second heading


def test_an_act_explains_each_amount_and_links_its_document_both_ways(app, importer, make_document):
    client, account = importer
    _import(app, client)
    doc = make_document(account, title="Ordonnance du Dr Bernard", act_date=date(2026, 1, 12))
    gp = _ids(app, account)["260112-0001"]
    html = client.get(f"/remboursements/{gp}").get_data(as_text=True)
    assert "30,00" in html and "19,00" in html and "70 %" in html and "9,00" in html
    assert "2,00" in html  # the participation forfaitaire of January 2026 (rates.json)
    assert "Ordonnance du Dr Bernard" in html
    token = csrf_token(client, f"/remboursements/{gp}")
    r = client.post(f"/remboursements/{gp}/document", data={"csrf_token": token, "document_id": doc.id})
    assert r.status_code == 303
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert f"/remboursements/{gp}" in page
    assert "12 janvier 2026 · remboursé 28,00\u00a0€ · reste à charge 2,00\u00a0€" in page  # 19 + 9: Decimal sums
    assert not [s for s in seen if "FROM reimbursements" in s]  # built once (docs/performance.md, 50)
    client.post(f"/remboursements/{gp}/document", data={"csrf_token": token, "document_id": ""})
    assert f"/remboursements/{gp}" not in client.get(f"/documents/{doc.id}").get_data(as_text=True)


def test_someone_elses_document_cannot_be_linked(app, importer, make_holder, make_document):
    client, account = importer
    _import(app, client)
    other, _ = make_holder()
    foreign = make_document(other)
    gp = _ids(app, account)["260112-0001"]
    token = csrf_token(client, f"/remboursements/{gp}")
    r = client.post(f"/remboursements/{gp}/document", data={"csrf_token": token, "document_id": foreign.id})
    assert r.status_code == 404
    with app.app_context():
        assert db.session.get(Reimbursement, gp).document_id is None


def test_the_year_shows_totals_per_nature_a_chart_and_its_table(app, importer):
    client, _ = importer
    _import(app, client)
    html = client.get("/remboursements/annee/2026").get_data(as_text=True)
    assert "<svg" in html and "<rect" in html and "<table" in html
    assert "95,95" in html  # left to pay in 2026: 2 + 3 + 2 + 19 + 0 + 69,95
    assert "Optique" in html or "Optician" in html


def test_the_releve_downloads_as_csv_and_pdf_and_each_is_traced(app, importer):
    client, account = importer
    _import(app, client)
    r = client.get("/remboursements/releve.csv?du=2026-01-01&au=2026-12-31")
    text = r.get_data().decode("utf-8")
    assert r.status_code == 200 and text.startswith("\ufeffreference;date_soins;")
    assert (
        "260112-0001;12/01/2026;15/01/2026;consultation;" in text
        and ";30,00;30,00;70;19,00;2,00;0,00;9,00;2,00;" in text
    )
    r = client.get("/remboursements/releve.pdf?du=2026-01-01&au=2026-01-31")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.data)).pages)
    assert "Dr Hélène Bernard" in pdf and "Analyses de sang" in pdf and "Lunettes" not in pdf
    assert "74,39" in pdf  # paid in January: 30,00 + 18,47 + 25,92
    with app.app_context():
        patient = db.session.get(Patient, account.patient_id)
        assert f"{patient.given_names} {patient.family_name}" in pdf  # whose relevé, as the insurer heads it
        assert format_nir(patient.nir) in pdf
    with app.app_context():
        traces = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reimbursements_exported")).all()
        assert [t.detail["format"] for t in traces] == ["csv", "pdf"]


def test_a_csv_cell_never_runs_as_a_formula(app, importer):
    client, _ = importer
    header = RELEVE.split(b"\n", 1)[0].decode()
    _import(
        app,
        client,
        f'{header}\nF1;02/01/2026;;consultation;=HYPERLINK("x");@evil;30,00;30,00;70;19,00;2,00;0;9,00;2,00;payé;;\n'.encode(),
    )
    text = client.get("/remboursements/releve.csv?du=2026-01-01&au=2026-01-31").get_data().decode()
    assert "'=HYPERLINK" in text and ";'@evil;" in text and ";=" not in text


def test_a_bad_period_is_said_in_words(app, importer):
    client, _ = importer
    r = client.get("/remboursements/releve?du=2026-05-01&au=2026-01-01")
    assert r.status_code == 422 and 'role="alert"' in r.get_data(as_text=True)
    r = client.get("/remboursements/releve.csv?du=2020-01-01&au=2026-01-01")
    assert r.status_code == 303 and "/remboursements/releve" in r.headers["Location"]


def test_the_home_card_shows_the_last_payment_and_this_years_remainder(app, held_clock, importer):
    client, _ = importer
    html = client.get("/").get_data(as_text=True)
    assert 'id="card-reimbursements"' in html
    _import(app, client)
    card = client.get("/").get_data(as_text=True).split('id="card-reimbursements"')[1].split("</section>")[0]
    assert "mars 2026" in card and "250,05" in card and "95,95" in card


def test_professionals_never_reach_reimbursements(app, client, make_holder, make_pro, login_as):
    account, _ = make_holder()
    pro = make_pro()
    login_as(client, pro)
    assert client.get("/remboursements").status_code == 403
    assert "/remboursements" not in client.get("/").get_data(as_text=True)
