"""The measures page and its chart read measures through statements built and compiled once
(docs/performance.md, 45): none goes through SQLAlchemy's execution on a visit, and what they
read stays behind the gate."""

from __future__ import annotations

from datetime import date, time

from blueprints.measures import series, services
from core.db import db
from tests.helpers import statements


def _measure_statements(app, client, paths) -> list[str]:
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        for path in paths:
            assert client.get(path).status_code == 200, path
    return [s for s in seen if "measures" in s]


def test_the_page_and_its_chart_build_no_measures_statement(app, holder, make_measure):
    client, account = holder
    for i, (kind, value, value2) in enumerate(
        (("weight", 70, None), ("blood_pressure", 125, 80), ("steps", 8000, None))
    ):
        make_measure(account, kind, value, value2, day=date(2026, 11, 1 + i))
    paths = [
        f"/constantes/{slug}{tail}" for slug in ("poids", "tension", "pas", "imc") for tail in ("", "/graphique.svg")
    ]
    paths += ["/constantes/poids?periode=all", "/constantes/tension/graphique.svg?periode=1m"]
    assert _measure_statements(app, client, paths) == []
    assert series._statement.cache_info().currsize >= 4
    assert services._recent_statement.cache_info().currsize >= 1


def test_another_space_reads_none_of_these_measures(app, holder, make_holder, make_measure, login_as):
    """Built once for every holder: the space is a parameter, the gate's filter is in the SQL."""
    client, account = holder
    make_measure(account, "weight", 81.5, day=date(2026, 11, 2), at=time(8, 0))
    assert "81,5" in client.get("/constantes/poids").get_data(as_text=True)
    other, _code = make_holder()
    login_as(client, other)
    page = client.get("/constantes/poids").get_data(as_text=True)
    assert "81,5" not in page
    assert "81,5" not in client.get("/constantes/poids/graphique.svg?periode=all").get_data(as_text=True)
