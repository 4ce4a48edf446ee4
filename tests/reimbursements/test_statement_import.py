"""The French statement file: read, idempotent, corrections, rejections, totals to the cent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from blueprints.reimbursements import services
from blueprints.reimbursements.models import Reimbursement
from core.audit import AuditEvent
from core.db import db

FIXTURES = Path(__file__).parent / "fixtures"
RELEVE = (FIXTURES / "releve_2026.csv").read_bytes()
HEADER = RELEVE.split(b"\n", 1)[0] + b"\n"


def _lines(patient_id):
    return {
        r.reference: r for r in db.session.scalars(select(Reimbursement).where(Reimbursement.patient_id == patient_id))
    }


def test_a_statement_goes_in_with_every_french_field_in_cents(holder_space, send):
    viewer, _ = holder_space
    imp = send(viewer, RELEVE)
    assert (imp.status, imp.added, imp.rejected) == ("done", 6, 0)
    lines = _lines(viewer.patient_id)
    gp = lines["260112-0001"]
    assert (gp.charged, gp.base, gp.rate, gp.amo, gp.participation, gp.franchise, gp.amc, gp.remainder) == (
        3000,
        3000,
        70,
        1900,
        200,
        0,
        900,
        200,
    )
    assert gp.nature == "consultation" and gp.provider == "Dr Hélène Bernard" and gp.status == "paid"
    assert lines["260203-0004"].status == "rejected" and lines["260203-0004"].rejection == "Prescription manquante"
    assert lines["260215-0005"].status == "pending" and lines["260215-0005"].paid_on is None
    assert lines["260301-0006"].base == 9 and lines["260301-0006"].remainder == 6995
    # the import is traced, start and end, and the file is gone
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.patient_id == viewer.patient_id).order_by(AuditEvent.id)
    ).all()
    assert actions[-2:] == ["reimbursements_import_started", "reimbursements_imported"]
    assert imp.blob_id is None


def test_sending_the_same_statement_again_adds_nothing(holder_space, send):
    viewer, _ = holder_space
    send(viewer, RELEVE)
    again = send(viewer, RELEVE)
    assert (again.added, again.present, (again.options or {}).get("replaced")) == (0, 6, 0)
    assert len(_lines(viewer.patient_id)) == 6


def test_a_corrected_line_replaces_its_earlier_version_and_an_older_one_does_not(holder_space, send):
    viewer, _ = holder_space
    send(viewer, RELEVE)
    corrected = (
        HEADER
        + (
            "260113-0002;13/01/2026;20/01/2026;pharmacie;Médicaments (3 boîtes);Pharmacie des Lilas;18,47;18,47;"
            "65;9,50;0,00;3,00;5,97;3,00;payé;;20/01/2026\n"
        ).encode()
    )
    imp = send(viewer, corrected)
    assert (imp.added, imp.options["replaced"]) == (0, 1)
    line = _lines(viewer.patient_id)["260113-0002"]
    assert (line.amo, line.amc, line.revision) == (950, 597, 2)
    stale = (
        HEADER
        + (
            "260113-0002;13/01/2026;16/01/2026;pharmacie;Médicaments;Pharmacie des Lilas;18,47;18,47;"
            "65;1,00;0,00;3,00;5,97;3,00;payé;;14/01/2026\n"
        ).encode()
    )
    send(viewer, stale)
    assert _lines(viewer.patient_id)["260113-0002"].amo == 950  # processed earlier: not a correction


def test_bad_lines_are_rejected_with_their_reason_and_line_the_rest_goes_in(holder_space, send):
    viewer, _ = holder_space
    content = (
        HEADER
        + (
            "A1;32/01/2026;;consultation;;;30,00;30,00;70;19,00;2,00;0;9,00;2,00;payé;;\n"
            "A2;02/01/2026;;massage;;;30,00;30,00;70;19,00;2,00;0;9,00;2,00;payé;;\n"
            "A3;02/01/2026;;consultation;;;trente;30,00;70;19,00;2,00;0;9,00;2,00;payé;;\n"
            ";02/01/2026;;consultation;;;30,00;30,00;70;19,00;2,00;0;9,00;2,00;payé;;\n"
            "A5;02/01/2026;;consultation;;;30,00;30,00;70;19,00;2,00;0;9,00;;payé;;\n"
        ).encode()
    )
    imp = send(viewer, content)
    assert (imp.added, imp.rejected) == (1, 4)
    assert {k: v["count"] for k, v in imp.reasons.items()} == {
        "bad_date": 1,
        "bad_nature": 1,
        "bad_amount": 1,
        "no_reference": 1,
    }
    assert imp.reasons["bad_date"]["examples"][0]["where"] == 2
    assert _lines(viewer.patient_id)["A5"].remainder == 3000 - 1900 - 900  # computed when absent


def test_a_file_without_the_required_columns_is_refused_whole(holder_space, send):
    viewer, _ = holder_space
    imp = send(viewer, b"date;montant\n01/01/2026;30,00\n")
    assert (imp.status, imp.error, imp.added) == ("failed", "csv_columns", 0)


def test_a_line_of_another_person_is_refused_and_a_windows_file_is_read(holder_space, send):
    viewer, account = holder_space
    nir = db.session.get(type(account), account.id).patient.nir
    content = (
        "nir;"
        + HEADER.decode()
        + f"{nir};B1;02/01/2026;;pharmacie;Médicaments;Pharmacie;10,00;10,00;65;5,50;0;1,00;3,50;1,00;payé;;\n"
        + "1870375112345;B2;02/01/2026;;pharmacie;Médicaments;Pharmacie;10,00;10,00;65;5,50;0;1,00;3,50;1,00;payé;;\n"
    ).encode("cp1252")
    imp = send(viewer, content)
    assert (imp.added, imp.rejected, list(imp.reasons)) == (1, 1, ["other_person"])
    assert _lines(viewer.patient_id)["B1"].act == "Médicaments"


def test_totals_are_the_sums_of_the_lines_to_the_cent(holder_space, send):
    viewer, _ = holder_space
    send(viewer, RELEVE)
    year = services.year_view(viewer, 2026)
    lines = list(_lines(viewer.patient_id).values())
    for field in ("charged", "amo", "amc", "remainder", "participation", "franchise"):
        assert year["total"][field] == sum(getattr(r, field) for r in lines)
    assert year["total"]["charged"] == 3000 + 1847 + 2592 + 1900 + 4338 + 32000
    assert year["total"]["remainder"] == 200 + 300 + 200 + 1900 + 0 + 6995
    assert year["caps"]["participation"]["used"] == 400 and year["caps"]["franchise"]["used"] == 300
    assert year["caps"]["participation"]["cap"] == 5000
    months = {m["month"].month: m["remainder"] for m in year["months"]}
    assert months[1] == 700 and months[2] == 1900 and months[3] == 6995 and months[4] == 0
