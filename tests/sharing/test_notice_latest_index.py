"""The home's notices card finds its card and its unread count by index (docs/performance.md,
28): it sorted every card of the space on each visit (+0.8–1.2 ms per home at 1,000 cards, one
per professional and day over the years)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from blueprints.sharing import notices
from core.access import viewer_for
from core.db import db
from core.notify import Notification
from core.people import Account
from tests.helpers import sqlite_plan


@pytest.mark.sqlite_only  # SQLite plans by its rules alone; PostgreSQL by the table's statistics
def test_the_card_and_the_count_are_seeks_never_the_cards_sorted(app):
    with app.test_request_context(method="POST"):
        plan = sqlite_plan(notices._latest_statement("holder").statement, {"patient_id": "p"})
    assert not any("TEMP B-TREE" in step or step.startswith("SCAN") for step in plan), plan
    assert any("ix_notifications_patient_unread (patient_id=? AND read_at=? AND alarm=?)" in s for s in plan), plan
    assert any("ix_notifications_patient_latest (patient_id=?)" in s for s in plan), plan
    assert any("ix_notifications_patient_unread (patient_id=? AND read_at=?)" in s for s in plan), plan


def test_the_card_shown_is_the_first_of_all_cards_in_the_cards_order(app, make_holder):
    """Whatever the mix (alarms read or not, muted cards, activity later than the card's day),
    the card is the one the whole list puts first: an unread alarm, else the newest activity;
    the count is the unread cards not muted."""
    mine, _ = make_holder()
    other, _ = make_holder()
    rng = random.Random(28)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for trial in range(12):
        with app.app_context():
            db.session.query(Notification).delete()
            notes = []
            for i in range(rng.randint(1, 30)):
                created = start + timedelta(hours=rng.randint(0, 9000))
                notes.append(
                    Notification(
                        patient_id=mine.patient_id,
                        kind="access",
                        created_at=created,
                        last_at=created + timedelta(hours=rng.randint(0, 48)) if rng.random() < 0.5 else None,
                        read_at=None if rng.random() < 0.3 else created,
                        alarm=rng.random() < 0.2,
                        muted=rng.random() < 0.15,
                        actor_name=f"{trial}-{i}",
                    )
                )
            newest_elsewhere = start + timedelta(days=800)  # another space's card is never shown here
            db.session.add(
                Notification(patient_id=other.patient_id, kind="access", alarm=True, created_at=newest_elsewhere)
            )
            db.session.add_all(notes)
            db.session.commit()
        with app.test_request_context():
            viewer = viewer_for(db.session.get(Account, mine.id))
            unread, row = notices.latest(viewer)
            shown = [n for n in notes if not n.muted]
            expected = min(
                shown,
                key=lambda n: (
                    0 if n.read_at is None and n.alarm else 1,
                    -(n.last_at or n.created_at).timestamp(),
                    -n.created_at.timestamp(),
                ),
                default=None,
            )
            assert unread == (sum(1 for n in shown if n.read_at is None) if expected else 0)
            assert (row is None) == (expected is None)
            if expected is not None:
                assert row.id == expected.id, trial
