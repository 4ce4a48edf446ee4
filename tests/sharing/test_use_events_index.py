"""What was done through a space's shares is read by space and share (docs/performance.md, 82):
the sharing page reads those traces alone, never the space's whole trail newest first (a space
of 3,400 traces: 0.78 ms of its 2.2 ms page before; one of 225: 0.07 ms)."""

from __future__ import annotations

import pytest

from blueprints.sharing import services
from core import audit
from core.access import viewer_for
from core.db import db
from core.people import Account


@pytest.mark.sqlite_only  # SQLite plans by its rules alone; PostgreSQL by the table's statistics
def test_a_shares_traces_are_an_index_seek_never_the_whole_trail(app):
    """Ordered by id, SQLite took the space's whole trail newest first (ix_audit_events_patient_id_id,
    to spare the sort of a few rows) and filtered it by share."""
    with app.test_request_context(method="POST"):
        statement = services._use_events_statement("holder").statement
        params = {"patient_id": "p", "ids": ["s1", "s2", "s3"]}
        expanded = statement.compile(db.engine).construct_expanded_state(params)
        raw = db.session.connection().connection.driver_connection
        plan = " | ".join(
            row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + expanded.statement, expanded.positional_parameters)
        )
    assert "ix_audit_events_patient_grant_id (patient_id=? AND grant_id=?)" in plan, plan


def test_a_shares_traces_come_newest_first_and_only_its_own(app, make_holder, make_share):
    """The same traces as before, in the same order: a professional's, newest first, of this
    space's shares only; the holder's own traces and another space's are left out."""
    mine, _ = make_holder()
    other, _ = make_holder()
    share, _, _ = make_share(mine)
    theirs, _, _ = make_share(other)
    with app.test_request_context(method="POST"):
        for n, (patient, grant, actor) in enumerate(
            [
                (mine.patient_id, share, "professional"),
                (mine.patient_id, share, "holder"),
                (other.patient_id, theirs, "professional"),
                (mine.patient_id, share, "professional"),
            ]
        ):
            audit.append(action="record_viewed", actor_type=actor, patient_id=patient, grant_id=grant, detail={"n": n})
        db.session.commit()
        viewer = viewer_for(db.session.get(Account, mine.id))
        rows = services._use_events_statement("holder").all({"patient_id": viewer.patient_id, "ids": [share, theirs]})
    assert [r.detail["n"] for r in rows] == [3, 0]
