"""Every page the demo's holder and professional reach by its links answers at the calendar's
edges, where "today" in Paris and in UTC differ or a date has no twin a year away: just after
midnight in Paris on a leap day and on New Year's Day, and in the hours the clocks change.
Nor does any link lead to an error. (Closing one's space once answered 500 on 29 February.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from blueprints.demo.seed import HOLDER_EMAIL, PRO_EMAIL
from core import clock
from core.db import db
from core.people import Account

EDGES = {
    "leap-day": datetime(2028, 2, 28, 23, 30, tzinfo=UTC),  # 00:30 on 29 February in Paris
    "new-year": datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # 00:30 on 1 January in Paris
    "summer-time": datetime(2027, 3, 28, 1, 30, tzinfo=UTC),  # 03:30, an hour after 02:00 became 03:00
    "winter-time": datetime(2027, 10, 31, 1, 30, tzinfo=UTC),  # 02:30 for the second time that night
}
LINK = re.compile(r'(?:href|hx-get)="(/[^"#]*)"|src="(/[^"#]*\.svg[^"#]*)"')
NOT_FOLLOWED = re.compile(r"^/static/|/telecharger|\.(pdf|csv|json|zip)$|^/fhir/")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d{2}-\d{2}\S*|\d+")
PER_SHAPE = 2  # pages of one shape (a list's rows): the first two of each
LIMIT = 250


def _crawl(client, start: str) -> set[str]:
    """GET every page reachable by links (and redirects) from `start`, breadth first, a few of each
    shape; returns the pages that answered 200."""
    queue, seen, shapes, shown = [start], {start}, {}, set()
    while queue and len(seen) <= LIMIT:
        url = queue.pop(0)
        r = client.get(url)
        assert r.status_code < 400, f"{url} answered {r.status_code}"  # a 500, or a link to nowhere
        found = [r.headers["Location"]] if 300 <= r.status_code < 400 else []
        if r.status_code == 200:
            shown.add(url)
        if r.status_code == 200 and r.mimetype == "text/html":
            found = [a or b for a, b in LINK.findall(r.get_data(as_text=True))]
        for href in found:
            path = urlsplit(urljoin(url, href.replace("&amp;", "&")))._replace(scheme="", netloc="").geturl()
            shape = ID.sub("#", path)
            if path in seen or NOT_FOLLOWED.search(urlsplit(path).path) or shapes.get(shape, 0) >= PER_SHAPE:
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            seen.add(path)
            queue.append(path)
    return shown


@pytest.mark.parametrize("edge", EDGES, ids=str)
def test_every_linked_page_answers_at_the_calendars_edges(app, client, login_as, edge):
    clock.freeze(EDGES[edge])
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    with app.app_context():
        holder, pro = (db.session.scalar(select(Account).where(Account.email == e)) for e in (HOLDER_EMAIL, PRO_EMAIL))
    login_as(client, holder)
    shown = _crawl(client, "/")
    assert {"/documents", "/constantes", "/remboursements", "/partage", "/historique", "/profil/synthese"} <= shown
    assert any("/graphique.svg" in p for p in shown)
    other = app.test_client()
    login_as(other, pro)
    assert any(p.startswith("/pro/dossier/") for p in _crawl(other, "/"))
