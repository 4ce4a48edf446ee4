"""Bulk provisioning: idempotent, every refusal with its reason, a letter for every new space."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from blueprints.auth.models import ActivationCode
from blueprints.lifecycle.models import Guardianship, Opposition, SpaceLife
from blueprints.lifecycle.provision import nir_hash
from core import audit, clock, notify
from core.db import db
from core.people import Account, Patient
from tests.helpers import PASSWORD, csrf_token, valid_nir

HEADER = "nir;birth_date;given_names;family_name;email;postal_address;guardian_nirs\n"
ADULT = valid_nir("2870375100001")
PARENT = valid_nir("1850675100002")
CHILD = valid_nir("1200475100003")  # born April 2020
POSTAL = valid_nir("2920575100004")


def _file(tmp_path, lines: list[str], name="population.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


GOOD = [
    f"{ADULT};1987-03-14;Camille Anne;Martin;camille@example.fr;;",
    f"{PARENT};12/06/1985;Paul;Durand;paul@example.fr;;",
    f"{CHILD};2020-04-02;Léo;Durand;paul@example.fr;;{PARENT}",
    f"{POSTAL};1992-05-30;Inès;Roux;;3 rue des Lilas\\n75011 Paris;",
]


def test_a_file_creates_spaces_letters_and_guardians_once(app, tmp_path):
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    path = _file(tmp_path, GOOD)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["patients", "provision", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 lines read: 4 spaces created, 0 already present, 0 refused." in result.output
    assert "Letters: 3 by email, 1 by post in 1 PDF files." in result.output
    assert _count(app, Patient) == 4 and _count(app, ActivationCode) == 4 and _count(app, SpaceLife) == 4
    # the child and the postal holder have no account of their own: the child's guardian acts for it
    assert _count(app, Account) == 2
    with app.app_context():
        child = db.session.scalar(select(Patient).where(Patient.nir == CHILD))
        parent = db.session.scalar(select(Patient).where(Patient.nir == PARENT))
        link = db.session.scalar(select(Guardianship))
        assert (link.patient_id, link.guardian_patient_id) == (child.id, parent.id)
        mail = notify.latest_to("camille@example.fr")
        assert "Camille Martin" in mail.body and "/opposition" in mail.body
        code = re.search(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b", mail.body).group(1)
        stored = db.session.scalars(select(ActivationCode.code_hash)).all()
        assert code not in " ".join(stored)  # only keyed hashes are kept
        assert mail.body.count("14 janvier 2027") == 2  # the code's end and the deadline to object
        assert "vous opposer" in mail.body
    letters = list((Path(app.instance_path) / "letters").glob("letters-*.pdf"))
    assert letters and letters[-1].read_bytes().startswith(b"%PDF")

    again = runner.invoke(args=["patients", "provision", str(path)])
    assert "4 lines read: 0 spaces created, 4 already present, 0 refused." in again.output
    assert _count(app, Patient) == 4 and _count(app, ActivationCode) == 4
    with app.app_context():
        runs = db.session.scalars(
            select(audit.AuditEvent).where(audit.AuditEvent.action == audit.Action.SPACES_PROVISIONED)
        ).all()
        assert [r.detail["created"] for r in runs] == [4, 0] and runs[0].actor_type == "system"


def test_every_refusal_has_its_reason(app, tmp_path):
    opposed = valid_nir("1700175100005")
    with app.app_context():
        db.session.add(Opposition(nir_hash=nir_hash(opposed), receipt="R-TEST"))
        db.session.commit()
    lines = [
        "123;1987-03-14;A;B;a@example.fr;;",  # invalid NIR
        f"{valid_nir('2870375100006')};14 mars 1987;A;B;a@example.fr;;",
        f"{valid_nir('2870375100007')};1990-03-14;A;B;a@example.fr;;",  # year differs from the NIR
        f"{valid_nir('2870375100008')};1987-03-14;;B;a@example.fr;;",
        f"{valid_nir('2870375100009')};1987-03-14;A;B;;;",
        f"{valid_nir('2870375100010')};1987-03-14;A;B;pas-un-email;;",
        f"{opposed};1970-01-01;A;B;o@example.fr;;",
        f"{valid_nir('1200475100011')};2020-04-02;Léo;B;p@example.fr;;",  # a minor without guardian
        f"{valid_nir('1200475100012')};2020-04-02;Léo;B;p@example.fr;;{valid_nir('1850675100099')}",
        f"{ADULT};1987-03-14;Camille;Martin;camille@example.fr;;",
        f"{ADULT};1987-03-14;Camille;Martin;camille@example.fr;;",
        f"{valid_nir('2870375100013')};1987-03-14;Sam;Petit;camille@example.fr;;",  # email taken just above
    ]
    path = _file(tmp_path, lines)
    report = tmp_path / "refused.csv"
    result = app.test_cli_runner().invoke(args=["patients", "provision", str(path), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "12 lines read: 1 spaces created, 0 already present, 11 refused." in result.output
    with report.open(encoding="utf-8") as fh:
        found = {row["line"]: row for row in csv.DictReader(fh, delimiter=";")}
    reasons = {int(k): v["reason"] for k, v in found.items()}
    assert reasons == {
        2: "invalid_nir",
        3: "invalid_birth_date",
        4: "birth_date_mismatch",
        5: "missing_name",
        6: "no_contact",
        7: "invalid_email",
        8: "opposed",
        9: "guardian_missing",
        10: "guardian_unknown",
        12: "duplicate",
        13: "email_in_use",
    }
    assert found["8"]["explanation"].startswith("Cette personne s’est opposée")
    assert ADULT not in report.read_text()  # NIRs are masked in the report


def test_a_file_without_its_columns_is_refused_whole(app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("numero;nom\n1;2\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["patients", "provision", str(path)])
    assert result.exit_code != 0 and "missing columns: nir, birth_date" in result.output
    assert _count(app, Patient) == 0


def test_small_batches_give_the_same_result(app, tmp_path):
    path = _file(tmp_path, GOOD)
    result = app.test_cli_runner().invoke(args=["patients", "provision", str(path), "--batch-size", "1"])
    assert "4 spaces created" in result.output, result.output
    assert _count(app, Guardianship) == 1


def test_a_space_known_by_its_postal_address_is_activated_with_an_email(app, client, tmp_path, monkeypatch):
    monkeypatch.setattr("blueprints.lifecycle.provision.codes.activation_code", lambda: "K7QM-4ZTB-9HXD")
    app.test_cli_runner().invoke(args=["patients", "provision", str(_file(tmp_path, GOOD))])
    data = {"nir": POSTAL, "birth_date": "1992-05-30", "code": "K7QM-4ZTB-9HXD"}
    first = client.post("/activation", data={**data, "csrf_token": csrf_token(client, "/activation")})
    assert first.status_code == 303 and first.headers["Location"].endswith("/activation/mot-de-passe")
    page = client.get("/activation/mot-de-passe")
    assert 'type="email"' in page.get_data(as_text=True)
    token = csrf_token(client, "/activation/mot-de-passe")
    taken = client.post(
        "/activation/mot-de-passe",
        data={"email": "camille@example.fr", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token},
    )
    assert taken.status_code == 422 and "déjà utilisée" in taken.get_data(as_text=True)
    done = client.post(
        "/activation/mot-de-passe",
        data={"email": "ines@example.fr", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token},
    )
    assert done.status_code == 303, done.get_data(as_text=True)
    with app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.nir == POSTAL))
        assert patient.status == "active" and patient.email == "ines@example.fr"
        assert db.session.scalar(select(Account).where(Account.patient_id == patient.id)).email == "ines@example.fr"


def test_a_childs_space_is_not_activated_with_its_letter(app, client, tmp_path, monkeypatch):
    monkeypatch.setattr("blueprints.lifecycle.provision.codes.activation_code", lambda: "K7QM-4ZTB-9HXD")
    app.test_cli_runner().invoke(args=["patients", "provision", str(_file(tmp_path, GOOD[1:3]))])
    data = {"nir": CHILD, "birth_date": "2020-04-02", "code": "K7QM-4ZTB-9HXD"}
    answer = client.post("/activation", data={**data, "csrf_token": csrf_token(client, "/activation")})
    assert answer.status_code == 422
