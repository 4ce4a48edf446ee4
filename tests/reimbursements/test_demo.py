"""The demo space's reimbursements: three years of every kind of care, a rejected act, a
regularisation, amounts that add up."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from blueprints.demo.reimbursements import lines
from blueprints.reimbursements import rates
from blueprints.reimbursements.models import Reimbursement
from core.db import db

TODAY = date(2026, 12, 3)


def test_three_years_of_every_kind_of_care_that_add_up():
    items = lines(TODAY)
    assert min(x["care_date"] for x in items) >= TODAY - timedelta(days=3 * 365)
    assert {x["care_date"].year for x in items} == {2023, 2024, 2025, 2026}
    natures = {x["nature"] for x in items}
    assert {"consultation", "pharmacie", "biologie", "dentaire", "optique", "hospitalisation", "auxiliaires"} <= natures
    assert [x["act"] for x in items if x["status"] == "rejected"] == ["Séance de kinésithérapie"]
    assert sum(1 for x in items if x["nature"] == "hospitalisation") == 1
    assert any(x["act"].startswith("Régularisation") and x["amo"] > 0 for x in items)
    for x in items:
        assert x["remainder"] == x["charged"] - x["amo"] - x["amc"], x
    for x in (x for x in items if x["act"] == "Consultation de médecine générale"):
        assert x["participation"] == rates.on(x["care_date"])["participation"]  # 1 € before 15 May 2024, 2 € after
        assert x["amo"] == round(x["base"] * 0.7) - x["participation"]


def test_the_demo_seed_brings_them_linked_to_its_documents(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reimbursement)) > 40
        assert db.session.scalar(select(func.count()).where(Reimbursement.document_id.is_not(None))) >= 1
