from sqlalchemy import func, select

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
        assert titles == {"Ordonnance du Dr Bernard", "Bilan sanguin", "Carnet de vaccination",
                          "Compte rendu de consultation"}
        deposit = db.session.scalar(select(Document).where(Document.title == "Compte rendu de consultation"))
        assert (deposit.author_name, deposit.author_profession, deposit.author_rpps) == (
            "Hélène Bernard", "medecin", "10101234567")


def test_outbox_page_only_in_demo_mode(app, client, monkeypatch):
    assert client.get("/demo/courriels").status_code == 200
    monkeypatch.setitem(app.config, "DEMO", False)
    assert client.get("/demo/courriels").status_code == 404
    assert "carnet-demo-2026" not in client.get("/connexion").get_data(as_text=True)
