"""The home's "previous login" is one index seek on the account's logins (docs/performance.md,
43): through the action's index, SQLite read every login of every account (35 ms a visit at
1,000 spaces, the home's largest cost in the morning peak)."""

from __future__ import annotations

import pytest

from tests.helpers import home_figures_plan


@pytest.mark.sqlite_only  # SQLite plans by its rules alone; PostgreSQL by the table's statistics
def test_the_previous_login_is_a_seek_on_the_accounts_logins(app):
    with app.test_request_context(method="POST"):
        plan = home_figures_plan()
    on_audit = [step for step in plan if "audit_events" in step]
    assert len(on_audit) == 1, plan
    assert "ix_audit_events_account_action_id (account_id=? AND action=?)" in on_audit[0], plan
