"""The operator's command: one holder's statement by NIR, and a batch of many holders."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from blueprints.reimbursements.models import Reimbursement
from core.db import db
from core.people import Patient

FIXTURES = Path(__file__).parent / "fixtures"
RELEVE = FIXTURES / "releve_2026.csv"


def _nir(app, account) -> str:
    with app.app_context():
        return db.session.get(Patient, account.patient_id).nir


def _count(app, account) -> int:
    with app.app_context():
        stmt = select(func.count()).where(Reimbursement.patient_id == account.patient_id)
        return db.session.scalar(stmt)


def test_one_holders_statement_by_nir_twice_adds_nothing(app, make_holder, fresh_store):
    account, _ = make_holder()
    nir = _nir(app, account)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["reimbursements", "import", str(RELEVE), "--nir", nir[:13]])
    assert out.exit_code == 0, out.output
    assert "done (6 added, 0 corrected, 0 already present, 0 rejected)" in out.output
    out = runner.invoke(args=["reimbursements", "import", str(RELEVE), "--nir", nir])
    assert "done (0 added, 0 corrected, 6 already present, 0 rejected)" in out.output
    assert _count(app, account) == 6
    out = runner.invoke(args=["reimbursements", "import", str(RELEVE), "--nir", "1840175123456"])
    assert out.exit_code != 0 and "No holder" in out.output


def test_a_batch_goes_to_each_holder_and_names_the_unknown(app, make_holder, fresh_store, tmp_path):
    first, _ = make_holder()
    second, _ = make_holder()
    lines = RELEVE.read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    batch = ["nir;" + header]
    batch += [f"{_nir(app, first)};{line}" for line in body[:4]]
    batch += [f"{_nir(app, second)[:13]};{line}" for line in body[4:]]
    batch += [f"2991299123456;{body[0]}"]
    path = tmp_path / "batch.csv"
    path.write_text("\n".join(batch) + "\n", encoding="utf-8")
    out = app.test_cli_runner().invoke(args=["reimbursements", "import", str(path), "--batch"])
    assert out.exit_code == 1  # a line had no holder
    assert "3 holders in the file; 1 lines of unknown holders not imported." in out.output
    assert (_count(app, first), _count(app, second)) == (4, 2)
