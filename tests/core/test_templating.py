"""Template helpers kept cheap must still answer exactly what the slow path would."""

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import flask_babel
import pytest
from babel import numbers as babel_numbers
from flask import render_template_string
from flask_babel import force_locale, format_decimal
from itsdangerous import TimestampSigner
from markupsafe import Markup

from core import clock, formatting, i18n, templating


def test_gettext_memo_follows_the_locale(app):
    with app.test_request_context("/"):
        with force_locale("fr"):
            fr = render_template_string('{{ _("Home") }}|{{ _("Hello %(name)s", name="<b>") }}')
        with force_locale("en"):
            en = render_template_string('{{ _("Home") }}|{{ _("Hello %(name)s", name="<b>") }}')
        with force_locale("fr"):
            again = render_template_string('{{ _("Home") }}')
    assert en == "Home|Hello &lt;b&gt;"
    assert fr.startswith("Accueil|") and "&lt;b&gt;" in fr
    assert again == "Accueil"


@pytest.mark.parametrize("babel_keeps_its_locale_elsewhere", [False, True])
def test_macros_of_a_template_imported_without_context_follow_each_renders_locale(
    app, monkeypatch, babel_keeps_its_locale_elsewhere
):
    """Such a template's module is made once and shared by every render of the process: a memo
    kept by its evaluation context alone answered in the first render's language ever after.
    The locale is read where Flask-Babel keeps it; were that to move, its get_locale() answers."""
    if babel_keeps_its_locale_elsewhere:
        monkeypatch.setattr(i18n, "_BABEL_STATE", "elsewhere")
        monkeypatch.setattr(i18n, "_reads_babel", True)
        i18n.check_where_babel_keeps_its_locale(app)
        assert i18n._reads_babel is False
    page = '{% import "components/ui.html" as ui %}{{ ui.accessibility_link() }}'
    with app.test_request_context("/"):
        with force_locale("fr"):
            fr = render_template_string(page)
        with force_locale("en"):
            en = render_template_string(page)
        with force_locale("fr"):
            again = render_template_string(page)
    assert "Accessibilité" in fr and again == fr
    assert "Accessibility: partially compliant" in en


def test_ngettext_formats_the_number(app):
    with app.test_request_context("/"), force_locale("en"):
        out = render_template_string('{{ ngettext("%(num)d document", "%(num)d documents", 3) }}')
    assert out == "3 documents"


def test_icon_and_badge_escape_their_text(app):
    with app.test_request_context("/"):
        out = render_template_string(
            '{% import "components/ui.html" as ui %}'
            '{{ ui.icon("x", "<Close>") }}{{ ui.badge("a<b", "danger", icon="x") }}'
        )
    assert '<span class="visually-hidden">&lt;Close&gt;</span>' in out
    assert '<span class="badge badge-danger"><svg' in out and "a&lt;b</span>" in out
    g = app.jinja_env.globals
    svg = g["svg_icon"]("x")
    icon, badge = g["ui_icon"], g["ui_badge"]
    assert icon("x") == svg and icon("x", "") == svg
    assert icon("x", Markup("<b>Fermer</b>")) == svg + Markup('<span class="visually-hidden"><b>Fermer</b></span>')
    assert icon("x", 3) == svg + Markup('<span class="visually-hidden">3</span>')
    assert badge("l'été") == Markup('<span class="badge badge-neutral">l&#39;été</span>')
    assert badge(Markup("<i>x</i>"), '"warn"', icon="x") == Markup(
        f'<span class="badge badge-&#34;warn&#34;">{svg}<i>x</i></span>'
    )


def test_card_renders_what_the_macro_did_and_escapes(app):
    """ui.card is Python: same markup as the macro it replaced, its title and link escaped,
    the call block inside as Markup (not escaped twice)."""
    with app.test_request_context("/"):
        out = render_template_string(
            '{% import "components/ui.html" as ui %}'
            '{% call ui.card("A<b", href="/x?a=1&b=2", id="c1", level=3) %}<em>{{ "<i>" }}</em>{% endcall %}'
            '|{{ ui.card("Plain") }}'
        )
    linked, plain = out.split("|")
    assert linked.startswith(
        '<section class="card card-link" id="c1">\n  <h3 class="card-title"><a href="/x?a=1&amp;b=2">A&lt;b</a>'
    )
    assert linked.endswith('</svg></span></h3>\n  <div class="card-body"><em>&lt;i&gt;</em></div>\n</section>')
    assert plain == '<section class="card">\n  <h2 class="card-title"><span>Plain</span></h2>\n</section>'


# The macro ui.nav_count was, kept here as the reference the Python one must match.
_NAV_COUNT_MACRO = (
    "{%- macro nav_count(class_, badge, n, oob=false) -%}\n"
    "<span class=\"nav-count\" id=\"count-{{ class_ }}-{{ badge|replace('.', '-') }}\""
    '{% if oob %} hx-swap-oob="true"{% endif %}{% if not n %} hidden{% endif %}>\n'
    '  <span aria-hidden="true">{{ n if n < 100 else "99+" }}</span><span class="visually-hidden">'
    '{{ ngettext("%(num)d unread", "%(num)d unread", n) }}</span></span>\n'
    "{%- endmacro -%}"
)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_nav_count_renders_what_the_macro_did(app, locale):
    """ui.nav_count is Python (docs/performance.md, 16): the same markup as the macro, in each
    language, hidden at zero, 99+ past 99, out-of-band for the poll."""
    calls = [("sidenav", "messaging.unread", n, oob) for n in (0, 1, 2, 99, 100, 250) for oob in (False, True)]
    with app.test_request_context("/"), force_locale(locale):
        for class_, badge, n, oob in calls:
            args = f"{class_!r}, {badge!r}, {n}, oob={oob}"
            expected = render_template_string(_NAV_COUNT_MACRO + "{{ nav_count(" + args + ") }}")
            got = render_template_string('{% import "components/ui.html" as ui %}{{ ui.nav_count(' + args + ") }}")
            assert got == expected, (args, got, expected)
        one = render_template_string('{% import "components/ui.html" as ui %}{{ ui.nav_count("a", "b.c", 1) }}')
    assert ("1 non lu" if locale == "fr" else "1 unread") in one and 'id="count-a-b-c"' in one


_MAIN_NAV_MACRO = """{%- macro main_nav(nav, class_, counts={}) -%}
<nav class="{{ class_ }}" aria-label="{{ _('Main navigation') }}">
  <ul>
    {%- for item in (nav if class_ != "bottomnav" else (nav|selectattr("phone")|list)[:5]) %}
    <li><a href="{{ item.url }}"{% if item.active %} aria-current="page"{% endif %}>{{ svg_icon(item.icon) }}<span>{{ item.label }}</span>
      {%- if item.badge %}{{ nav_count(class_, item.badge, counts.get(item.badge, 0)) }}{% endif %}</a></li>
    {%- endfor %}
  </ul>
</nav>
{%- endmacro -%}"""


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_main_nav_renders_what_the_macro_did(app, locale):
    """ui.main_nav is Python (docs/performance.md, 18): the same markup as the macro, side and
    bottom bar (its first five phone entries), current entry, counts, escaped labels and URLs."""
    nav = [
        {
            "url": f"/s{i}?a=1&b=2",
            "label": f"Entrée <{i}>",
            "icon": "house",
            "active": i == 2,
            "badge": "messaging.unread" if i == 3 else None,
            "phone": i != 1,
        }
        for i in range(8)
    ]
    with app.test_request_context("/"), force_locale(locale):
        for class_ in ("sidenav", "bottomnav"):
            for counts in ({}, {"messaging.unread": 3}, {"messaging.unread": 120}):
                args = {"nav": nav, "class_": class_, "counts": counts}
                expected = render_template_string(
                    _NAV_COUNT_MACRO + _MAIN_NAV_MACRO + "{{ main_nav(nav, class_, counts) }}", **args
                )
                got = render_template_string(
                    '{% import "components/ui.html" as ui %}{{ ui.main_nav(nav, class_, counts) }}', **args
                )
                assert got == expected, (class_, counts)
        assert got.count("<li>") == 5 and "Entrée &lt;1&gt;" not in got and 'href="/s0?a=1&amp;b=2"' in got


_CONFIRM_MACRO = """{%- macro _attrs(d, skip=()) -%}
{%- for k, v in d.items() if v is not none and v is not false and k not in skip -%}
{{ " " }}{{ "class" if k == "class_" else k|replace("_", "-") }}{% if v is not true %}="{{ v }}"{% endif %}
{%- endfor -%}
{%- endmacro -%}
{%- macro confirm(id, title, action_url, confirm_label, cancel_label=None, method="post") -%}
<div class="confirm-panel" id="{{ id }}" popover role="dialog" aria-labelledby="{{ id }}-title" tabindex="-1" autofocus>
  <p class="confirm-title" id="{{ id }}-title">{{ svg_icon("triangle-alert") }}<span>{{ title }}</span></p>
  {%- if caller %}<div class="confirm-body">{{ caller() }}</div>{% endif %}
  <form method="{{ method }}" action="{{ action_url }}" class="btn-row" hx-disabled-elt="find button[type=submit]"{{ _attrs(kwargs) }}>
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <button type="submit" class="btn btn-danger">{{ confirm_label }}</button>
    <button type="button" class="btn btn-ghost" popovertarget="{{ id }}" popovertargetaction="hide">{{ cancel_label or _("Cancel") }}</button>
  </form>
</div>
{%- endmacro -%}"""

_CONFIRM_CALLS = (
    '{{ C("d-1", "Supprimer <b>?", "/m/1?a=1&b=2", "Supprimer") }}',
    '{% call C("d-2", _("Delete this measure?"), "/m/2", _("Delete"), hx_post="/m/2", hx_target="#x") %}'
    "<p>{{ '<i>' }} 72,4 kg</p>{% endcall %}",
    '{{ C("d-3", "T", "/m/3", "Oui", "Non", "get", class_="wide", hx_boost=false, data_x=none, hidden=true) }}',
)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_confirm_renders_what_the_macro_did(app, client, locale):
    """ui.confirm is Python (docs/performance.md, 19): the same markup as the macro, with and
    without a body, its extra attributes on the form, escaping, the cancel label translated."""
    outputs = []
    with app.test_request_context("/"), force_locale(locale):
        for call in _CONFIRM_CALLS:
            expected = render_template_string(_CONFIRM_MACRO + "{% set C = confirm %}" + call)
            got = render_template_string('{% import "components/ui.html" as ui %}{% set C = ui.confirm %}' + call)
            assert got == expected, (call, got, expected)
            outputs.append(got)
    assert ">" + ("Annuler" if locale == "fr" else "Cancel") + "</button>" in outputs[1]
    assert 'hx-post="/m/2" hx-target="#x">' in outputs[1] and "&lt;i&gt;" in outputs[1]
    assert ' class="wide" hidden>' in outputs[2] and "hx-boost" not in outputs[2]


def test_csrf_token_is_signed_once_per_session_and_accepted(app, client, make_holder, login_as, monkeypatch):
    """The first page's token (signed when the session had none yet) is the one every later page
    shows, though the signer's clock moves between them (a second each signature here)."""
    ticks = itertools.count(1_800_000_000)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: next(ticks))
    account, _ = make_holder()
    login_as(client, account)

    def token():
        return client.get("/compte").get_data(as_text=True).split('"X-CSRFToken": "')[1].split('"')[0]

    first = token()
    clock.advance(timedelta(seconds=5))
    assert token() == first
    assert client.post("/deconnexion", data={"csrf_token": first}).status_code == 303


def test_csrf_token_is_looked_up_once_per_request(app, client, make_holder, make_measure, login_as, monkeypatch):
    """A page of rows puts the token in each row's confirmation form: it is found once per request
    (as Flask-WTF's generate_csrf keeps its own), and every form carries the same."""
    account, _ = make_holder()
    for day in range(1, 6):
        make_measure(account, "weight", 70 + day, day=date(2026, 3, day))
    login_as(client, account)
    found = []
    real = templating._csrf_token
    monkeypatch.setattr(templating, "_csrf_token", lambda: found.append(1) or real())
    page = client.get("/constantes/poids").get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', page)
    assert len(tokens) >= 5 and len(set(tokens)) == 1 and found == [1]
    assert client.post("/deconnexion", data={"csrf_token": tokens[0]}).status_code == 303


def test_moment_memo_knows_what_today_is(app):
    at = datetime(2026, 3, 12, 8, 30, tzinfo=UTC)
    with app.test_request_context("/"), force_locale("en"):
        clock.freeze(at + timedelta(hours=1))
        assert formatting.moment(at).startswith("today")
        clock.freeze(at + timedelta(days=1))
        assert formatting.moment(at).startswith("yesterday")
        clock.freeze(at + timedelta(days=5))
        assert formatting.moment(at).startswith("12 March 2026")
    clock.reset()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_page_of_moments_reads_as_each_moment(app, locale):
    """formatting.moments(): today and the language asked once for a page of rows, the same words
    as moment() for each row (today, yesterday, a date; the day the clocks change included)."""
    now = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # already Monday in Paris
    instants = [now - timedelta(minutes=m) for m in (5, 90, 60 * 23, 60 * 24, 60 * 47, 60 * 24 * 9)]
    instants.append(datetime(2026, 3, 29, 0, 59))  # naive: UTC, as SQLite hands them back
    with app.test_request_context("/"), force_locale(locale):
        clock.freeze(now)
        write = formatting.moments()
        assert [write(at) for at in instants] == [formatting.moment(at) for at in instants]
    clock.reset()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_dates_write_what_flask_babel_writes(app, locale):
    """core.formatting formats dates with Babel directly, in Paris time and the reader's
    language (docs/performance.md, 24): the same text as Flask-Babel's wrappers, whose zone is
    Paris's, across both changes of time, for aware, naive (UTC, as stored) and foreign times."""
    instants = [
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # 1:59 in Paris, then the clocks go forward
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # the hour that happens twice
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 5, tzinfo=UTC),  # already next year in Paris
        datetime(2026, 7, 14, 8, 5),  # naive: UTC
        datetime(2026, 7, 14, 8, 5, tzinfo=ZoneInfo("America/New_York")),
    ]
    with app.test_request_context("/"), force_locale(locale):
        assert str(flask_babel.get_timezone()) == "Europe/Paris"
        for at in instants:
            assert formatting.when(at, "d MMM y") == flask_babel.format_datetime(at, "d MMM y"), at
            assert formatting.day(at) == flask_babel.format_datetime(at, "d MMMM y"), at
            fr = locale == "fr"
            assert formatting.clock_time(at) == flask_babel.format_time(at, "H'\u00a0h\u00a0'mm" if fr else "h:mm a")
            if at.tzinfo is not None and at.tzinfo is not UTC:
                local = flask_babel.format_time(at, "H'\u00a0h\u00a0'mm" if fr else "h:mm a", rebase=False)
                assert formatting.elsewhere(at).startswith(local), at
        assert formatting.day(datetime(2026, 3, 12).date()) == flask_babel.format_date(
            datetime(2026, 3, 12).date(), "long"
        )
        clock.freeze(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
        moment = formatting.moment(datetime(2026, 12, 31, 23, 5, tzinfo=UTC))
        clock.reset()
    assert moment == ("aujourd\u2019hui à 0\u00a0h\u00a005" if locale == "fr" else "today at 12:05 AM"), moment


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_days_and_times_of_a_whole_year_are_what_flask_babel_writes(app, locale):
    """Dates are written once per local day, times once per minute of the day (docs/performance.md,
    49): every 97 minutes of a year, both changes of time included, the same text as Flask-Babel."""
    pattern = "H'\u00a0h\u00a0'mm" if locale == "fr" else "h:mm a"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with app.test_request_context("/"), force_locale(locale):
        clock.freeze(datetime(2030, 1, 1, tzinfo=UTC))
        for step in range(0, 366 * 24 * 60, 97):
            at = start + timedelta(minutes=step)
            time_text = flask_babel.format_time(at, pattern)
            assert formatting.clock_time(at) == time_text, at
            assert formatting.when(at, "d MMM y") == flask_babel.format_datetime(at, "d MMM y"), at
            assert formatting.day(at) == flask_babel.format_datetime(at, "d MMMM y"), at
            expected = i18n.gettext(
                "%(date)s at %(time)s", date=flask_babel.format_datetime(at, "d MMMM y"), time=time_text
            )
            assert formatting.moment(at) == expected, at
        assert formatting.when(start, "d MMM y HH:mm") == flask_babel.format_datetime(start, "d MMM y HH:mm")
        clock.reset()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_decimal_writes_what_flask_babel_writes(app, locale):
    """formatting.decimal parses each pattern once (docs/performance.md, 21): the same text as
    Flask-Babel's format_decimal, in each language, for the patterns Carnet uses."""
    values = [0, 1, 7.25, 72.4, 72.45, 72.35, 2.675, 1.005, 0.05, -0.04, -0.0, 999.95, 1234.5, 1234567.891, -3.5, 0.95]
    values += [Decimal("2.50"), Decimal("-1234.565"), 10**15 + 0.5, float("nan"), float("inf")]
    patterns = ["#,##0", "#,##0.#", "#,##0.##", "#,##0.###", "#,##0.0", "#,##0.00", "0.#", "00.#"]
    with app.test_request_context("/"), force_locale(locale):
        for pattern in patterns:
            for value in values:
                assert formatting.decimal(value, pattern) == format_decimal(value, format=pattern), (pattern, value)
        assert formatting.number(1234.5) == ("1\u202f234,5" if locale == "fr" else "1,234.5")
        for cents in (0, 5, 99, 2350, 123456, 100000000, -1, -412, -123456):  # money: as Babel writes euros
            assert formatting.money(cents) == flask_babel.format_currency(cents / 100, "EUR"), cents
        for cents in (Decimal("2350"), Decimal("-412"), Decimal("2350.5"), 2350.0, 12.345):  # sums, fractions
            assert formatting.money(cents) == flask_babel.format_currency(cents / 100, "EUR"), cents


def test_plain_numbers_ask_babel_once_per_pattern_and_language(app, monkeypatch):
    """formatting.decimal writes a plain pattern's numbers itself, the pattern and the signs read
    from Babel once (docs/performance.md, 42); the text is Babel's (the test above)."""
    with app.test_request_context("/"):
        for locale in ("fr", "en"):
            with force_locale(locale):
                expected = [formatting.decimal(v, "#,##0.#") for v in (72.45, -1234.5)]
                monkeypatch.setattr(babel_numbers, "format_decimal", lambda *a, **k: pytest.fail("asked"))
                assert [formatting.decimal(v, "#,##0.#") for v in (72.45, -1234.5)] == expected
                monkeypatch.undo()


def test_money_asks_babel_once_per_language(app, monkeypatch):
    """Babel's format_currency looks up the currency's plural name at every call (a third of
    its cost); formatting.money reads the euro's pattern once per language (docs/performance.md, 39)."""
    with app.test_request_context("/"):
        for locale in ("fr", "en"):
            with force_locale(locale):
                expected = formatting.money(123456)
                monkeypatch.setattr(babel_numbers, "get_currency_name", lambda *a, **k: pytest.fail("asked"))
                assert formatting.money(123456) == expected
                monkeypatch.undo()


def test_attributes_render_what_the_macro_did(app):
    """ui's _attrs is Python, shared by the button macros and ui.confirm: the same text as the
    macro it replaced (names, bare and omitted attributes, escaping, skipped keys)."""
    macro = _CONFIRM_MACRO.split("{%- macro confirm")[0]
    cases = [
        ({"hx_post": "/a?b=1&c=2", "class_": "wide", "hidden": True, "data_x": None, "off": False}, ()),
        ({"aria_label": 'dire "non" <b>', "class_": "x", "class": "y", "id": 3}, ("class_", "class")),
        ({}, ()),
    ]
    with app.test_request_context("/"):
        for attrs, skip in cases:
            expected = render_template_string(macro + "{{ _attrs(d, skip=skip) }}", d=attrs, skip=skip)
            got = render_template_string(
                '{% import "components/ui.html" as ui %}{{ ui_attrs(d, skip=skip) }}', d=attrs, skip=skip
            )
            assert got == expected, (attrs, got, expected)
        button = render_template_string(
            '{% import "components/ui.html" as ui %}{{ ui.button("Envoyer", hx_post="/x", class_="big") }}'
        )
    assert 'hx-post="/x"' in button and 'class="big"' not in button
