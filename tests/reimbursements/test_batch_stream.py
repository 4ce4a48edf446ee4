"""The batch statement split per holder by an external sort: runs of bounded size, merged so
each holder's lines come out together and in the file's order (a corrected line later in the
file still wins), however the holders' lines are interleaved across runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from blueprints.reimbursements.imports import batch
from blueprints.reimbursements.models import Reimbursement
from core.db import db
from core.people import Patient

RELEVE = Path(__file__).parent / "fixtures" / "releve_2026.csv"


@pytest.fixture
def small_runs(monkeypatch):
    """Runs of 3 lines, and a record of each run's size as it is written."""
    sizes: list[int] = []
    write = batch._write_run

    def recording(folder, n, rows):
        sizes.append(len(rows))
        return write(folder, n, rows)

    monkeypatch.setattr(batch, "RUN_LINES", 3)
    monkeypatch.setattr(batch, "_write_run", recording)
    return sizes


@pytest.mark.parametrize("max_open", [200, 2])  # 2: the four runs are first merged in pairs
def test_interleaved_holders_come_out_grouped_in_file_order(tmp_path, small_runs, monkeypatch, max_open):
    monkeypatch.setattr(batch, "MAX_OPEN", max_open)
    path = tmp_path / "batch.csv"
    people = ["2870375100001", "1840175123456", "2990599111222"]
    lines = [f"{people[n % 3]};L{n}" for n in range(10)]
    path.write_text("nir;reference\n" + "\n".join(lines) + "\n\n", encoding="utf-8")
    with batch.by_holder(path) as (header, groups):
        got = {nir: [cells[1] for cells in rows] for nir, rows in groups}
    assert header == ["nir", "reference"]
    assert small_runs == [3, 3, 3, 1]  # never more than a run in memory while cutting
    assert got == {
        people[0]: ["L0", "L3", "L6", "L9"],
        people[1]: ["L1", "L4", "L7"],
        people[2]: ["L2", "L5", "L8"],
    }


def test_no_nir_column_is_no_batch(tmp_path):
    path = tmp_path / "releve.csv"
    path.write_bytes(RELEVE.read_bytes())
    with pytest.raises(batch.NoNirColumn), batch.by_holder(path):
        pass


def test_the_command_over_many_runs_imports_each_holders_lines_and_the_last_correction(
    app, make_holder, fresh_store, tmp_path, small_runs
):
    first, _ = make_holder()
    second, _ = make_holder()
    with app.app_context():
        nirs = [db.session.get(Patient, a.patient_id).nir for a in (first, second)]
    header, *body = RELEVE.read_text(encoding="utf-8").splitlines()
    corrected = (
        body[0].replace(";30,00;30,00;70;19,00;", ";31,00;30,00;70;19,00;").replace(";2,00;payé;", ";3,00;payé;")
    )
    lines = [f"{nirs[n % 2]};{line}" for n, line in enumerate(body)]
    lines.append(f"{nirs[0]};{corrected}")  # the first holder's first line, corrected at the end
    path = tmp_path / "batch.csv"
    path.write_text("nir;" + header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    out = app.test_cli_runner().invoke(args=["reimbursements", "import", str(path), "--batch"])
    assert out.exit_code == 0, out.output
    assert "2 holders in the file; 0 lines of unknown holders not imported." in out.output
    with app.app_context():
        mine = {
            r.reference: r
            for r in db.session.scalars(select(Reimbursement).where(Reimbursement.patient_id == first.patient_id))
        }
        theirs = db.session.scalars(
            select(Reimbursement.reference).where(Reimbursement.patient_id == second.patient_id)
        )
        assert sorted(mine) == ["260112-0001", "260120-0003", "260215-0005"]
        assert (mine["260112-0001"].charged, mine["260112-0001"].remainder) == (3100, 300)
        assert sorted(theirs) == ["260113-0002", "260203-0004", "260301-0006"]
