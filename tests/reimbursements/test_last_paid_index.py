"""The home's last payment is one index seek (docs/performance.md, 27): the card's statement took
the space's whole reimbursement history and sorted it, four times per home visit (≈ 1 ms each at
3,000 lines; 5 µs with the index)."""

from __future__ import annotations

import pytest

from tests.helpers import home_figures_plan


@pytest.mark.sqlite_only  # SQLite plans by its rules alone; PostgreSQL by the table's statistics
def test_the_last_payment_is_a_seek_never_the_history_sorted(app):
    with app.test_request_context(method="POST"):
        plan = home_figures_plan()
    on_reimbursements = [step for step in plan if "reimbursements" in step]
    assert any("ix_reimbursements_patient_paid (patient_id=? AND status=? AND paid_on>?)" in s for s in plan), plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
    assert not any(s.startswith("SCAN reimbursements") for s in on_reimbursements), plan
