"""Postal activation letters: printed a hundred to a file, apart from the rows, resumable."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pypdfium2 as pdfium
from sqlalchemy import func, select

from blueprints.auth.models import ActivationCode
from blueprints.lifecycle import letters
from blueprints.lifecycle.models import SpaceLife
from core import clock, codes
from core.db import db
from core.people import Patient
from tests.helpers import valid_nir

HEADER = "nir;birth_date;given_names;family_name;email;postal_address;guardian_nirs\n"
CODE = re.compile(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b")


def _postal_file(tmp_path, n: int):
    lines = [
        f"{valid_nir(f'2920575{100000 + i:06d}')};1992-05-30;Inès;Roux{i};;{i} rue des Lilas\\n75011 Paris;"
        for i in range(n)
    ]
    path = tmp_path / "postal.csv"
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _pages(path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def _scalar(app, statement):
    with app.app_context():
        return db.session.scalar(statement)


def test_letters_are_printed_by_the_hundred_and_say_what_they_said(app, tmp_path, monkeypatch):
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(letters, "LETTERS_PER_PDF", 45)  # more than a PDF's default page bound (40)
    with app.app_context():
        before = set(letters.letters_dir().glob("letters-*.pdf"))  # other tests' letters
    result = app.test_cli_runner().invoke(args=["patients", "provision", str(_postal_file(tmp_path, 50))])
    assert result.exit_code == 0, result.output
    assert "Letters: 0 by email, 50 by post in 2 PDF files." in result.output
    with app.app_context():
        files = sorted(set(letters.letters_dir().glob("letters-*.pdf")) - before)
    pages = [page for path in files for page in _pages(path)]
    assert [len(_pages(path)) for path in files] == [45, 5]
    assert _scalar(app, select(func.count()).select_from(ActivationCode)) == 50
    assert _scalar(app, select(func.count()).select_from(SpaceLife).where(SpaceLife.letter_due.is_(True))) == 0
    text = next(t for t in (" ".join(p.split()) for p in pages) if "Inès Roux0 " in t)
    assert "Inès Roux0 0 rue des Lilas 75011 Paris" in text  # the address, for a window envelope
    assert (
        "créé pour vous, Inès Roux0" in text
        and "opposition avec les mêmes informations" in text
        and "14 janvier 2027" in text
    )
    code = CODE.search(text).group(1)
    with app.app_context():
        pid = db.session.scalar(select(Patient.id).where(Patient.family_name == "Roux0"))
        stored = db.session.scalar(select(ActivationCode.code_hash).where(ActivationCode.patient_id == pid))
        assert stored == codes.keyed_hash(code, "activation")  # the printed code is the one that works


def test_letters_left_due_by_a_run_that_stopped_are_printed_later(app, tmp_path, monkeypatch):
    def broken(batch, name):
        raise OSError("printer folder full")

    monkeypatch.setattr(letters, "write_pdf", broken)
    result = app.test_cli_runner().invoke(args=["patients", "provision", str(_postal_file(tmp_path, 3))])
    assert result.exit_code != 0  # the spaces are made, their letters are not
    assert _scalar(app, select(func.count()).select_from(Patient)) == 3
    assert _scalar(app, select(func.count()).select_from(ActivationCode)) == 0  # no code without its letter
    monkeypatch.undo()

    again = app.test_cli_runner().invoke(args=["patients", "provision", str(_postal_file(tmp_path, 3))])
    assert "0 spaces created, 3 already present" in again.output
    assert "3 by post in 1 PDF files" in again.output  # the letters left due, printed by the next run
    assert _scalar(app, select(func.count()).select_from(ActivationCode)) == 3
    assert "0 postal letters printed" in app.test_cli_runner().invoke(args=["patients", "letters"]).output


def test_the_letters_command_prints_what_is_due(app, tmp_path, monkeypatch):
    monkeypatch.setattr(letters, "write_pdf", lambda batch, name: (_ for _ in ()).throw(OSError("stopped")))
    app.test_cli_runner().invoke(args=["patients", "provision", str(_postal_file(tmp_path, 2))])
    monkeypatch.undo()
    out = app.test_cli_runner().invoke(args=["patients", "letters"]).output
    assert "2 postal letters printed in 1 PDF files." in out
    assert _scalar(app, select(func.count()).select_from(ActivationCode)) == 2


def test_two_runs_in_the_same_second_keep_both_files(app, tmp_path):
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    with app.app_context():
        before = set(letters.letters_dir().glob("letters-*.pdf"))
    first = _postal_file(tmp_path, 2)
    app.test_cli_runner().invoke(args=["patients", "provision", str(first)])
    second = tmp_path / "second.csv"
    second.write_text(HEADER + f"{valid_nir('2920575200001')};1992-05-30;Zoé;Blanc;;1 place Carnot\\n69002 Lyon;\n")
    app.test_cli_runner().invoke(args=["patients", "provision", str(second)])
    with app.app_context():
        files = sorted(set(letters.letters_dir().glob("letters-*.pdf")) - before)
    assert [len(_pages(path)) for path in files] == [2, 1]
