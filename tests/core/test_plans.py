"""A compiled statement's constant LIMIT is written into its SQL, so that PostgreSQL keeps one plan
for it instead of planning it anew at every run (core.compiled.in_sql, docs/performance.md, 91). That
PostgreSQL did so shows on the morning peak's population, not on the tests' few rows:
`python -m benchmarks.statements` names the statements it planned at every run."""

import re

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from blueprints.dashboard import services as dashboard
from blueprints.measures import services as measures
from core import audit
from core.compiled import in_sql


def _with_constant_limits():
    return {
        "the audit trail's head": audit._HEAD,
        "the home's latest measures": measures._latest_statement("holder"),
        "the home's latest document": dashboard._latest_document_statement("holder"),
        "a page of one kind's measures": measures._recent_statement("holder", False, 26),
    }


def test_the_limits_that_never_change_are_written_into_the_sql(app):
    for name, fixed in _with_constant_limits().items():
        for dialect in (postgresql.dialect(), sqlite.dialect()):
            sql = str(fixed.statement.compile(dialect=dialect))
            assert re.search(r"LIMIT \d+", sql), (name, dialect.name)
            assert not re.search(r"LIMIT\s+[^\d\s]", sql), (name, dialect.name, sql)


def test_only_a_whole_number_is_written():
    assert str(in_sql(2)) == "2"
    with pytest.raises(ValueError):
        in_sql("1; DELETE FROM documents")
