import shutil
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from blueprints.agenda.models import Appointment
from blueprints.documents.models import Document
from core.db import db
from core.people import Account


def test_seed_once_then_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0 and "Demo space created" in first.output
    assert "camille.martin@example.fr" in first.output
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0 and "nothing seeded" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 2
        titles = set(db.session.scalars(select(Document.title)))
        assert titles == {
            "Ordonnance du Dr Bernard",
            "Bilan sanguin",
            "Carnet de vaccination",
            "Compte rendu de consultation",
        }
        photo = db.session.scalar(select(Document).where(Document.title == "Carnet de vaccination"))
        # a phone's photo, taken upright: drawn at upload at half its size, then a thousand pixels
        assert photo.kind == "jpeg" and photo.first_page["widths"] == {"grande": 1512, "normal": 1000}
        statuses = sorted(db.session.scalars(select(Appointment.status)))
        assert statuses == ["confirmed", "confirmed", "proposed"]  # the dentist, a past consultation, a proposal
        deposit = db.session.scalar(select(Document).where(Document.title == "Compte rendu de consultation"))
        assert (deposit.author_name, deposit.author_profession, deposit.author_rpps) == (
            "Hélène Bernard",
            "medecin",
            "10101234567",
        )


def test_outbox_page_only_in_demo_mode(app, client, monkeypatch):
    assert client.get("/demo/courriels").status_code == 200
    monkeypatch.setitem(app.config, "DEMO", False)
    assert client.get("/demo/courriels").status_code == 404
    assert "carnet-demo-2026" not in client.get("/connexion").get_data(as_text=True)


def test_make_run_says_the_chosen_port_everywhere():
    """`make run PORT=8123`: the seed step (which prints the login address) and the server
    both use 8123; nothing says 8000. `make -n` only prints the commands."""
    assert shutil.which("make"), "make runs the suite (make test): it must be installed"
    root = Path(__file__).resolve().parents[2]
    plan = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    seed = next(line for line in plan.splitlines() if "demo seed" in line)
    assert "CARNET_WEBAUTHN_ORIGIN=http://localhost:8123" in seed
    assert "--bind localhost:8123" in plan and "8000" not in plan


def test_seed_prints_the_origin_it_is_given(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBAUTHN_ORIGIN", "http://localhost:8123")
    out = app.test_cli_runner().invoke(args=["demo", "seed"]).output
    assert "http://localhost:8123/connexion" in out and "8000" not in out
