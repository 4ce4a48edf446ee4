"""The morning peak's PostgreSQL has the statistics a server in service keeps (autovacuum): a
copied population is analysed, not read by the planner as empty tables."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from benchmarks import population
from core.db import db


def _url() -> str:
    return db.engine.url.render_as_string(hide_password=False)


@pytest.mark.postgresql_only
def test_a_database_is_analysed_and_vacuumed_as_autovacuum_would(app):
    with app.app_context():
        url = _url()
        with db.engine.begin() as c:
            c.execute(text("DROP TABLE IF EXISTS bench_probe"))
            c.execute(text("CREATE TABLE bench_probe (id integer)"))
            c.execute(text("INSERT INTO bench_probe SELECT generate_series(1, 1000)"))
        db.engine.dispose()
        try:

            def probe(column: str):
                with db.engine.connect() as c:
                    return c.scalar(text(f"SELECT {column} WHERE relname = 'bench_probe'"))

            tuples, vacuumed = "reltuples FROM pg_class", "last_vacuum FROM pg_stat_user_tables"
            assert probe(tuples) < 0  # never analysed: the planner guesses
            population.statistics(url)
            assert probe(tuples) == 1000
            assert probe(vacuumed) is None
            population.statistics(url, vacuum=True)
            assert probe(vacuumed) is not None
            assert population._vacuumed(url, db.engine.url.database)  # what a run asks of its seed
            assert population.autovacuum(url) in (True, False)
        finally:
            with db.engine.begin() as c:
                c.execute(text("DROP TABLE bench_probe"))


def test_sqlite_is_left_to_its_own_planner(tmp_path):
    url = f"sqlite:///{tmp_path / 'carnet.db'}"
    assert population.autovacuum(url) is None
    population.statistics(url, vacuum=True)
    assert not (tmp_path / "carnet.db").exists()  # nothing opened it


@pytest.mark.postgresql_only
def test_a_benchmarks_database_is_made_when_the_server_has_none_of_its_name(app):
    with app.app_context():
        url = _url().rsplit("/", 1)[0] + f"/{db.engine.url.database}_made_by_bench"
    assert not population._pg_exists(url, url.rsplit("/", 1)[1])
    try:
        population.create_database(url)
        population.create_database(url)  # there already: left as it is
        assert population._pg_exists(url, url.rsplit("/", 1)[1])
    finally:
        with population._pg_admin(url).connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"'))
