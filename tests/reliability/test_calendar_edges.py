"""Every page the demo's holder and professional reach by its links answers at the calendar's
edges, where "today" in Paris and in UTC differ or a date has no twin a year away: just after
midnight in Paris on a leap day and on New Year's Day, and in the hours the clocks change.
Nor does any link lead to an error. (Closing one's space once answered 500 on 29 February.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from blueprints.demo.seed import HOLDER_EMAIL, PRO_EMAIL
from core import clock
from core.db import db
from core.people import Account
from tests.helpers import walk

EDGES = {
    "leap-day": datetime(2028, 2, 28, 23, 30, tzinfo=UTC),  # 00:30 on 29 February in Paris
    "new-year": datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # 00:30 on 1 January in Paris
    "summer-time": datetime(2027, 3, 28, 1, 30, tzinfo=UTC),  # 03:30, an hour after 02:00 became 03:00
    "winter-time": datetime(2027, 10, 31, 1, 30, tzinfo=UTC),  # 02:30 for the second time that night
}
NOT_FOLLOWED = ("/static/", "/telecharger", ".pdf", ".csv", ".json", ".zip", "/fhir/")


def _crawl(client) -> set[str]:
    """The pages a person reaches from the home (a few of each shape) that answered 200."""
    shown = set()
    for url, r in walk(client, ["/"], skip=NOT_FOLLOWED, limit=250, per_shape=2):
        assert r.status_code < 400, f"{url} answered {r.status_code}"  # a 500, or a link to nowhere
        if r.status_code == 200:
            shown.add(url)
    return shown


@pytest.mark.parametrize("edge", EDGES, ids=str)
def test_every_linked_page_answers_at_the_calendars_edges(app, client, login_as, edge):
    clock.freeze(EDGES[edge])
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    with app.app_context():
        holder, pro = (db.session.scalar(select(Account).where(Account.email == e)) for e in (HOLDER_EMAIL, PRO_EMAIL))
    login_as(client, holder)
    shown = _crawl(client)
    assert {"/documents", "/constantes", "/remboursements", "/partage", "/historique", "/profil/synthese"} <= shown
    assert any("/graphique.svg" in p for p in shown)
    other = app.test_client()
    login_as(other, pro)
    assert any(p.startswith("/pro/dossier/") for p in _crawl(other))
