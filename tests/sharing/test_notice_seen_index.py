"""What a notice card's people consulted is read by space, action and day (docs/performance.md,
20): the home's notices card reads that space's consultations since the card's day, never its
whole trail (3.4 ms per home visit at 6,000 traces before; 0.04 ms after)."""

from __future__ import annotations

import pytest

from blueprints.sharing import notices
from core import clock
from core.access import viewer_for
from core.db import db
from core.notify import Notification
from core.people import Account
from tests.factories import make_share


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


def test_cards_made_before_identities_say_typed_for_this_spaces_shares_only(app, make_holder):
    """An old card (no identity kept) reads "typed" when its access is a share of this space,
    through one statement compiled once (docs/performance.md, 25); another space's share id
    is not found through the gate, so its card reads as a verified account's."""

    mine, _ = make_holder()
    other, _ = make_holder()
    my_share, _, _ = make_share(app, mine)
    their_share, _, _ = make_share(app, other)
    with app.test_request_context(method="POST"):
        viewer = viewer_for(db.session.get(Account, mine.id))
        notes = [
            Notification(id=f"n{i}", patient_id=viewer.patient_id, kind="access", grant_id=g, detail=d)
            for i, (g, d) in enumerate(
                [(my_share, None), (their_share, {}), ("a-grant", None), (my_share, {"identity": "verified"})]
            )
        ]
        found = notices._identities(viewer, notes)
        assert notices._shares_statement.cache_info().currsize >= 1
    assert found == {"n0": "typed", "n1": "verified", "n2": "verified", "n3": "verified"}
