"""Sentences, filters and CSV cells, without a request to the page."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

from werkzeug.datastructures import MultiDict

import pytest
from flask_babel import force_locale

from blueprints.history import actions, services
from core import clock, csvout


@pytest.fixture
def ctx(ctx):
    """A request context read in English: assertions use the source strings."""
    with force_locale("en"):
        yield


def test_every_known_action_has_its_own_sentence(ctx):
    for code in actions.SENTENCES:
        plain = actions.sentence(code)
        labelled = actions.sentence(code, "documents", "Ordonnance", {"from": "Old", "count": 2})
        assert plain and labelled and "Other activity" not in plain + labelled, code


def test_every_action_the_code_records_has_its_sentence():
    """Each `audit.record(..., "code")` in the code has a sentence of its own in the history."""
    root = Path(__file__).resolve().parents[2]
    recorded = set()
    for path in [*root.glob("blueprints/**/*.py"), *root.glob("core/**/*.py")]:
        recorded |= set(re.findall(r'audit\.record\(\s*[\w.]+,\s*"([a-z_]+)"', path.read_text()))
    assert {"document_opened", "login_unlocked"} <= recorded
    assert sorted(recorded - set(actions.SENTENCES)) == []


def test_generic_verbs_and_unknown_codes(ctx):
    assert actions.sentence("read", "documents", "Radio") == actions.sentence("document_opened", None, "Radio")
    assert "Radio" in actions.sentence("read", "measures", "Radio")
    assert actions.sentence("brand_new_thing") and actions.sentence("")
    assert actions.is_failure("login_failed") and actions.is_failure("something_refused")
    assert not actions.is_failure("login")


def test_filters_from_query_string(ctx):
    f = services.Filters.from_args(MultiDict({"periode": "dates", "du": "2026-03-10", "au": "2026-03-01"}))
    assert (f.start, f.end) == (date(2026, 3, 1), date(2026, 3, 10))
    since, until = f.bounds()
    # local midnight in Paris (UTC+1 in March before the change of hour)
    assert since == datetime(2026, 2, 28, 23, 0, tzinfo=timezone.utc)
    assert until == datetime(2026, 3, 10, 23, 0, tzinfo=timezone.utc)
    assert services.Filters.from_args(MultiDict({"du": "2026-03-10"})).period == "dates"
    junk = services.Filters.from_args(MultiDict({"periode": "x", "qui": "y", "du": "0001-01-01"}))
    assert (junk.period, junk.actor, junk.start) == ("tout", "tous", None)
    week = services.Filters.from_args(MultiDict({"periode": "7j", "du": "2026-03-10"}))
    assert week.start is None and week.args() == {"periode": "7j", "qui": "tous"}
    clock.freeze(datetime(2026, 5, 1, tzinfo=timezone.utc))
    assert week.bounds() == (datetime(2026, 4, 24, tzinfo=timezone.utc), None)


def test_csv_cells_never_run_as_formulas():
    for text in ("=1+1", "+33 6", "-2", "@SUM(A1)", "\tx"):
        assert csvout.cell(text).startswith("'")
    assert csvout.cell("Dr Durand") == "Dr Durand" and csvout.cell(None) == ""


def test_cursor():
    assert services.parse_cursor("42") == 42
    assert services.parse_cursor("-1") is None and services.parse_cursor("x") is None
    assert services.parse_cursor(None) is None


def test_document_downloads_read_as_downloads(ctx):
    assert actions.sentence("document_opened", "documents", "Radio", {"how": "download"}).startswith("Document downloaded")
    assert actions.sentence("document_opened", "documents", "Radio", {"how": "preview"}).startswith("Document opened")
