"""Sentences, filters and CSV cells, without a request to the page."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from blueprints.history import actions, services
from core import audit, clock, csvout
from core.audit import Action


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


def _members(node) -> list[str]:
    return [
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and ast.unparse(n.value) in ("audit.Action", "Action")
    ]


def _recorded_codes() -> set:
    """The codes blueprints/ and core/ record: the action argument of every `audit.record(...)`
    call, which must be an `audit.Action` member, or the `action` a function is handed and
    passes on (then the members given as its default or as `action=` by its callers)."""
    root = Path(__file__).resolve().parents[2]
    used, loose = set(), []
    for path in [*root.glob("blueprints/**/*.py"), *root.glob("core/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "audit.record":
                arg = node.args[1] if len(node.args) > 1 else None
                if arg is None or not (_members(arg) or (isinstance(arg, ast.Name) and arg.id == "action")):
                    loose.append(f"{path.relative_to(root)}:{node.lineno} {ast.unparse(arg) if arg else '-'}")
                elif arg is not None:
                    used |= set(_members(arg))
            if isinstance(node, ast.Call):  # action=..., or action_<when>=... (a registered import format's)
                used |= {
                    m
                    for kw in node.keywords
                    if kw.arg and (kw.arg == "action" or kw.arg.startswith("action_"))
                    for m in _members(kw.value)
                }
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "action" for t in node.targets):
                used |= set(_members(node.value))
            if isinstance(node, ast.FunctionDef):
                params = [*node.args.posonlyargs, *node.args.args]
                defaults = dict(zip(params[len(params) - len(node.args.defaults) :], node.args.defaults))
                defaults |= dict(zip(node.args.kwonlyargs, node.args.kw_defaults))
                used |= {m for a, d in defaults.items() if a.arg == "action" and d is not None for m in _members(d)}
    assert loose == [], "audit.record with a code that is not an Action member"
    return {Action[name] for name in used}


def test_the_history_has_a_sentence_for_every_recorded_code_and_no_other():
    """Every Action is recorded somewhere, every recorded code is an Action, and the history's
    sentences are keyed by exactly those codes: adding a sentence for a code nothing records, or
    recording a code without a sentence, fails here."""
    recorded = _recorded_codes()
    assert {Action.DOCUMENT_OPENED, Action.LOGIN_UNLOCKED, Action.DOCUMENT_DOWNLOADED} <= recorded
    assert sorted(set(Action) - recorded) == [], "Action members nothing records"
    assert set(actions.SENTENCES) == set(Action)
    assert all(isinstance(code, Action) for code in actions.SENTENCES)
    assert set(actions.ICONS) <= set(Action) and set(actions.FAILED) <= set(Action)


def test_record_refuses_a_code_outside_the_vocabulary(app):
    with app.test_request_context("/"), pytest.raises(ValueError):
        audit.record(None, "something_new")


def test_codes_no_longer_recorded_read_through_the_fallback(ctx):
    assert actions.sentence("document_read", "documents", "Radio") == "Other activity (document read): “Radio”"
    assert actions.sentence("read") == "Other activity (read)"


def test_filters_from_query_string(ctx):
    f = services.Filters.from_args(MultiDict({"periode": "dates", "du": "2026-03-10", "au": "2026-03-01"}))
    assert (f.start, f.end) == (date(2026, 3, 1), date(2026, 3, 10))
    since, until = f.bounds()
    # local midnight in Paris (UTC+1 in March before the change of hour)
    assert since == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert until == datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    assert services.Filters.from_args(MultiDict({"du": "2026-03-10"})).period == "dates"
    junk = services.Filters.from_args(MultiDict({"periode": "x", "qui": "y", "du": "0001-01-01"}))
    assert (junk.period, junk.actor, junk.start) == ("tout", "tous", None)
    week = services.Filters.from_args(MultiDict({"periode": "7j", "du": "2026-03-10"}))
    assert week.start is None and week.args() == {"periode": "7j", "qui": "tous"}
    clock.freeze(datetime(2026, 5, 1, tzinfo=UTC))
    assert week.bounds() == (datetime(2026, 4, 24, tzinfo=UTC), None)


def test_csv_cells_never_run_as_formulas():
    for text in ("=1+1", "+33 6", "-2", "@SUM(A1)", "\tx"):
        assert csvout.cell(text).startswith("'")
    assert csvout.cell("Dr Durand") == "Dr Durand" and csvout.cell(None) == ""


def test_cursor():
    assert services.parse_cursor("42") == 42
    assert services.parse_cursor("-1") is None and services.parse_cursor("x") is None
    assert services.parse_cursor(None) is None


def test_document_downloads_read_as_downloads(ctx):
    assert actions.sentence("document_opened", "documents", "Radio", {"how": "download"}).startswith(
        "Document downloaded"
    )
    assert actions.sentence("document_opened", "documents", "Radio", {"how": "preview"}).startswith("Document opened")
