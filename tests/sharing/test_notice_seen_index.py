"""What a notice card's people consulted is read by space, action and day (docs/performance.md,
20): the home's notices card reads that space's consultations since the card's day, never its
whole trail (3.4 ms per home visit at 6,000 traces before; 0.04 ms after)."""

from __future__ import annotations

import pytest

from blueprints.sharing import notices
from core import clock
from core.db import db


@pytest.mark.sqlite_only  # SQLite plans by its rules alone; PostgreSQL by the table's statistics
def test_what_they_consulted_is_an_index_seek_never_the_whole_trail(app):
    """With several accesses in the IN list, SQLite took the space's whole trail newest first
    (ix_audit_events_patient_id_id, to skip a sort) and filtered it."""
    with app.test_request_context(method="POST"):
        statement = notices._seen_statement("holder").statement
        params = {"patient_id": "p", "grant_ids": ["g1", "g2", "g3"], "since": clock.utcnow()}
        expanded = statement.compile(db.engine).construct_expanded_state(params)
        raw = db.session.connection().connection.driver_connection
        values = [v.isoformat(" ") if hasattr(v, "isoformat") else v for v in expanded.positional_parameters]
        plan = " | ".join(row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + expanded.statement, values))
    assert "ix_audit_events_patient_action_at (patient_id=? AND action=? AND at>?)" in plan, plan
