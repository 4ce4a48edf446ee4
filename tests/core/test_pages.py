"""Carnet's Jinja environment (core.templating.Pages) answers what Jinja answers, faster: plain
data read by key without an exception, imports without a generator per global, plain functions
called without asking what they want passed, and link URLs without arguments made once
(docs/performance.md, 36 and 37)."""

from __future__ import annotations

import sys

import jinja2
import pytest
from flask import render_template_string, url_for
from flask_babel import force_locale
from jinja2 import pass_context, pass_environment, pass_eval_context
from jinja2.runtime import Context

from core import templating


def _exceptions_raised(render) -> tuple[str, list[str]]:
    """What `render()` returns, and the exceptions raised in Python frames while it runs (a
    tracer's 'exception' events), by type name."""
    seen: list[str] = []

    def tracer(frame, event, arg):
        if event == "exception":
            seen.append(arg[0].__name__)
        return tracer

    sys.settrace(tracer)
    try:
        out = render()
    finally:
        sys.settrace(None)
    return out, seen


def test_plain_data_is_read_by_key_as_jinja_reads_it(app):
    data = {"count": 3, "items": "a key named like a method", "nested": {"name": "<b>"}}
    page = "{{ d.count }}|{{ d.nested.name }}|{{ d.missing }}|{{ d.items() | list | length }}|{{ d.get('count') }}"
    with app.test_request_context("/"):
        assert render_template_string(page, d=data) == "3|&lt;b&gt;||3|3"
        with pytest.raises(jinja2.UndefinedError):
            render_template_string("{{ d.missing.deeper }}", d=data)
        # objects, lists and dict subclasses: Jinja's own order (attribute first)
        assert render_template_string("{{ o.real }}|{{ l.count(1) }}", o=5, l=[1, 1]) == "5|2"


def test_reading_plain_data_raises_no_exception(app):
    """Jinja asks getattr() first: on a dict each `d.key` raised and caught an AttributeError."""
    data = {"documents": {"count": 2, "latest": {"title": "Ordonnance"}}}
    with app.test_request_context("/"):
        render_template_string("{{ d.documents.count }}", d=data)  # compiled before tracing
        out, raised = _exceptions_raised(
            lambda: render_template_string("{{ d.documents.count }} {{ d.documents.latest.title }}", d=data)
        )
    assert out == "2 Ordonnance"
    assert "AttributeError" not in raised, raised


def test_a_templates_globals_keys_are_a_set_and_imports_see_the_same_globals(app):
    """Every {% import %} subtracts the imported template's globals' keys from the page's."""
    template = app.jinja_env.get_template("components/ui.html")
    keys = template.globals.keys()
    assert isinstance(keys, set) and keys == set(app.jinja_env.globals) | set(template.globals.maps[0])
    with app.test_request_context("/"):
        out = render_template_string('{% import "components/ui.html" as ui %}{{ ui.badge("x", "primary") }}')
    assert out == '<span class="badge badge-primary">x</span>'


def test_functions_are_called_with_what_they_ask_for(app, monkeypatch):
    @pass_context
    def with_context(context, x):
        return f"{context['who']}-{x}"

    @pass_eval_context
    def with_eval_context(eval_ctx, x):
        return f"{eval_ctx.autoescape}-{x}"

    @pass_environment
    def with_environment(environment, x):
        return f"{environment is app.jinja_env}-{x}"

    class Callable:
        def __call__(self, x):
            return f"obj-{x}"

    def plain(x, **kw):
        return f"plain-{x}-{'+'.join(sorted(kw))}"

    def stops():
        raise StopIteration

    names = {"c": with_context, "e": with_eval_context, "n": with_environment, "o": Callable(), "p": plain, "s": stops}
    page = (
        "{{ c(1) }}|{{ e(2) }}|{{ n(3) }}|{{ o(4) }}|{{ p(5, k=1) }}|{{ s() }}|{% for i in [1] %}{{ p(i) }}{% endfor %}"
    )
    with app.test_request_context("/"):
        assert render_template_string(page, who="me", **names) == "me-1|True-2|True-3|obj-4|plain-5-k||plain-1-"


def test_a_plain_function_and_a_sentence_are_called_without_asking_what_they_want(app, monkeypatch):
    """Jinja's Context.call asks each callable what it wants passed (twice a call); a plain
    function and `_` (marked for the evaluation context) are answered from their __dict__ and
    never reach it."""
    asked = []
    original = Context.call
    monkeypatch.setattr(Context, "call", lambda self, obj, *a, **k: asked.append(obj) or original(self, obj, *a, **k))
    page = "{{ f(1) }}{{ f(2) }} {{ _('Home') }} {{ _('Hello %(name)s', name='<b>') }}"
    with app.test_request_context("/"), force_locale("en"):
        render_template_string(page, f=lambda x: x)
        asked.clear()
        assert render_template_string(page, f=lambda x: x) == "12 Home Hello &lt;b&gt;"
    assert asked == []


@pytest.fixture
def url_for_calls(monkeypatch) -> list:
    """The calls the templates' links make to Flask's url_for(), as (args, kwargs)."""
    calls = []
    real = templating.url_for
    monkeypatch.setattr(templating, "url_for", lambda *a, **k: calls.append((a, k)) or real(*a, **k))
    return calls


def test_links_without_arguments_are_url_for_made_once_per_mount_point(app, url_for_calls):
    calls = url_for_calls
    page = "{{ url_for('documents.index') }} {{ url_for('documents.index') }} {{ url_for('auth.set_language', lang='en') }}"
    with app.test_request_context("/"):
        first = render_template_string(page)
        expected = (
            f"{url_for('documents.index')} {url_for('documents.index')} {url_for('auth.set_language', lang='en')}"
        )
        calls.clear()
        again = render_template_string(page)
    assert first == again == expected
    assert calls == []  # made once: without arguments, and with these argument names
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/carnet"}):
        mounted = render_template_string("{{ url_for('documents.index') }}")
        assert mounted == url_for("documents.index") and mounted.startswith("/carnet/")
    with app.test_request_context("/documents"):
        assert render_template_string("{{ url_for('.index') }}") == url_for("documents.index")
    with app.test_request_context("/historique"):
        assert render_template_string("{{ url_for('.index') }}") == url_for("history.index")


_VALUES = [
    "abc-123",
    "8c1f2a9e-5b7d-4c1e-9f0a-3d2b6e4f1a7c",
    "x.y_z~",
    7,
    "a b",
    "é",
    "a/b",
    "%41",
    "",
    "Zq7Mark0x",
    True,
]


def test_links_with_arguments_are_what_url_for_makes(app):
    """Every route of the app, its arguments given ids, slugs, numbers, and values quoting would
    change (those ask url_for()), plus a query argument, at the root and mounted."""
    link = app.jinja_env.globals["url_for"]
    checked = 0
    for script in ("", "/carnet"):
        for rule in app.url_map.iter_rules():
            names = sorted(rule.arguments)
            for value in _VALUES:
                for extra in ({}, {"avant": value}):
                    values = {**{n: value for n in names}, **extra}
                    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": script}):
                        try:
                            expected = url_for(rule.endpoint, **values)
                        except Exception as error:  # noqa: BLE001  # an int converter refusing text
                            with pytest.raises(type(error)):
                                link(rule.endpoint, **values)
                            continue
                        assert link(rule.endpoint, **values) == expected, (rule.rule, values)
                        assert link(rule.endpoint, **values) == expected, (rule.rule, values)  # from the cut
                        checked += 1
    assert checked > 1000


def test_a_links_values_go_where_url_for_puts_them(app, url_for_calls):
    calls = url_for_calls
    page = "{{ url_for('measures.edit', slug=s, measure_id=m) }}|{{ url_for('measures.kind', slug=s, avant=m) }}"
    with app.test_request_context("/"):
        render_template_string(page, s="poids", m="m-1")
        calls.clear()
        out = render_template_string(page, s="tension", m="1764-abc")
        assert out == f"{url_for('measures.edit', slug='tension', measure_id='1764-abc')}|" + url_for(
            "measures.kind", slug="tension", avant="1764-abc"
        )
        assert calls == []
        assert render_template_string(page, s="tension", m="a b") == (
            f"{url_for('measures.edit', slug='tension', measure_id='a b')}|"
            + url_for("measures.kind", slug="tension", avant="a b")
        )
        assert len(calls) == 2  # a value quoting changes: url_for() itself
