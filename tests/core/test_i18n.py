"""Python code's words go through core.i18n (docs/performance.md, 23): the same catalogue and
formatting as Flask-Babel's gettext, ngettext and lazy_gettext, in the language of the moment."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import flask_babel
import pytest
from flask import session
from flask_babel import force_locale

from core import formatting, i18n

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [
    ("Home", {}),
    ("today at %(time)s", {"time": "9 h 30"}),
    ("%(size)s KB", {"size": "850"}),
    ("Left to pay in %(year)s:", {"year": 2026}),
    ("A sentence no catalogue has", {}),
]


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_gettext_says_what_flask_babel_says(app, locale):
    with app.test_request_context("/"), force_locale(locale):
        for string, variables in SAMPLES:
            assert i18n.gettext(string, **variables) == flask_babel.gettext(string, **variables), string
        for n in (0, 1, 2, 150):
            ours = i18n.ngettext("%(num)d unread", "%(num)d unread", n)
            assert ours == flask_babel.ngettext("%(num)d unread", "%(num)d unread", n)
        assert str(i18n.lazy_gettext("Home")) == flask_babel.gettext("Home")


def test_each_language_in_turn_and_a_lazy_string_in_the_language_of_its_use(app):
    label = i18n.lazy_gettext("Home")
    with app.test_request_context("/"):
        with force_locale("fr"):
            assert i18n.gettext("Home") == "Accueil" and str(label) == "Accueil"
        with force_locale("en"):
            assert i18n.gettext("Home") == "Home" and str(label) == "Home"
        with force_locale("fr"):
            assert i18n.gettext("Home") == "Accueil"


def test_outside_any_application_the_source_is_returned_formatted():
    assert i18n.gettext("Home") == "Home" == flask_babel.gettext("Home")
    assert i18n.gettext("%(size)s KB", size=3) == "3 KB"
    assert i18n.ngettext("%(num)d unread", "%(num)d unread", 2) == "2 unread"


def test_python_code_asks_core_i18n_for_its_words():
    """One way to translate in Python: a module importing Flask-Babel's gettext would pay its
    per-string lookups again (formatting, force_locale and the rest stay Flask-Babel's)."""
    moved = {"gettext", "ngettext", "lazy_gettext", "pgettext", "npgettext", "lazy_ngettext"}
    found = []
    for path in [*(ROOT / "core").rglob("*.py"), *(ROOT / "blueprints").rglob("*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                found += [f"{path.relative_to(ROOT)}: {a.name}" for a in node.names if a.name in moved]
            if (
                isinstance(node, ast.Attribute)
                and node.attr in moved
                and getattr(node.value, "id", "") == "flask_babel"
            ):
                if path.name != "i18n.py":
                    found.append(f"{path.relative_to(ROOT)}: flask_babel.{node.attr}")
    assert found == []


@pytest.mark.parametrize("flask_babel_first", [True, False])
@pytest.mark.parametrize("lang", ["fr", "en", None])
def test_the_request_locale_is_chosen_once_and_flask_babel_agrees(app, lang, flask_babel_first):
    """current_locale() asks select_locale() without Flask-Babel's proxies; whichever of the two
    asks first, both answer the session's language (else French)."""

    with app.test_request_context("/"):
        if lang:
            session["lang"] = lang
        if flask_babel_first:
            theirs, ours = flask_babel.get_locale(), i18n.current_locale()
        else:
            ours = i18n.current_locale()
            session["lang"] = "en" if lang != "en" else "fr"
            assert i18n.current_locale() is ours  # chosen once: a request speaks one language
            theirs = flask_babel.get_locale()
        assert str(ours) == str(theirs) == (lang or "fr")


def test_force_locale_wins_before_flask_babel_was_asked(app):
    """force_locale() swaps Flask-Babel's selector and forgets its locale until asked: the request's
    own choice must not answer meanwhile (mails in their reader's language)."""

    with app.test_request_context("/"):
        session["lang"] = "en"
        assert str(i18n.current_locale()) == "en"
        with force_locale("fr"):
            assert str(i18n.current_locale()) == "fr"
            assert i18n.gettext("Home") == "Accueil"
        assert str(i18n.current_locale()) == "en" and i18n.gettext("Home") == "Home"


def test_the_installed_flask_babel_keeps_its_locale_where_it_is_read(app):
    """The start-up check found Flask-Babel's locale where current_locale() reads it: the fast
    path is the one taken (a release that moved it would fall back to get_locale() unseen)."""
    assert i18n._reads_babel is True


DATES = [date(2026, 3, 29), date(2026, 10, 25), date(2025, 12, 31), date(2026, 1, 1), date(2024, 2, 29)]  # DST days too
PATTERNS = ["d MMM y", "EEE d MMM y", "LLLL y", "y", "d MMM", "MMM y", "MMM", "MMMMM", "LLLL yyyy", "MMMM yyyy"]


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_date_reads_as_flask_babel_writes_it(app, locale):
    """core.formatting.date_text: Flask-Babel's format_date of a date, asked of Babel once per
    date, pattern and language (docs/performance.md, 71), in the language of the moment."""
    with app.test_request_context("/"), force_locale(locale):
        for day in DATES:
            for pattern in PATTERNS:
                assert formatting.date_text(day, pattern) == flask_babel.format_date(day, pattern), (day, pattern)


def test_python_code_writes_dates_through_core_formatting():
    """Flask-Babel's format_date looks its locale and zone up on every call (a chart makes a
    dozen): Python code writes a date through core.formatting instead."""
    found = []
    for path in [*(ROOT / "core").rglob("*.py"), *(ROOT / "blueprints").rglob("*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                found += [f"{path.relative_to(ROOT)}" for a in node.names if a.name == "format_date"]
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "format_date"
                and getattr(node.value, "id", "") == "flask_babel"
            ):
                found.append(f"{path.relative_to(ROOT)}: flask_babel.format_date")
    assert found == []
