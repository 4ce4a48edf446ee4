"""The frame's fixed parts (core/frame.py): drawn once per app, mount point, language and flags,
each the same as its template drawn anew (docs/performance.md, 58)."""

import pytest
from flask import render_template_string
from flask_babel import force_locale

from core import frame as frame_module
from core.frame import frame

TOASTS = '{% include "layouts/_toasts.html" %}'
HEAD = '{% include "layouts/_head_links.html" %}'


@pytest.fixture
def drawings(app):
    """The parts drawn from here on, as the app keeps them (one entry per drawing)."""
    parts = app.extensions[frame_module._PARTS]
    parts.clear()
    return parts


def test_a_part_is_its_template_drawn_once_per_language_and_flags(app, drawings):
    with app.test_request_context("/"):
        for idle in (True, False):
            for kiosk in (True, False):
                for lang in ("fr", "en"):
                    with force_locale(lang):
                        first = frame("toasts", idle=idle, kiosk=kiosk)
                        again = frame("toasts", idle=idle, kiosk=kiosk)
                        assert again is first
                        assert first == render_template_string(TOASTS, idle=idle, kiosk=kiosk)
    assert len(drawings) == 8 and {key[0] for key in drawings} == {"toasts"}


def test_the_toasts_say_what_their_flags_ask_in_the_pages_language(app, drawings):
    with app.test_request_context("/"):
        with force_locale("fr"):
            kiosk = frame("toasts", idle=1800, kiosk=True)
            holder = frame("toasts", idle=900, kiosk=False)  # any timeout: the same toast
            public = frame("toasts", idle=None, kiosk=None)
            assert frame("toasts", idle=60, kiosk=False) is holder
        with force_locale("en"):
            english = frame("toasts", idle=900, kiosk=False)
    assert "data-still-here" in kiosk and "data-still-here" not in holder
    assert 'id="idle-warning"' in holder and 'id="idle-warning"' not in public
    assert 'id="request-error"' in public and "Fermer" in public
    assert "Close" in english and "Fermer" not in english


def test_the_heads_links_follow_the_mount_point(app, drawings):
    with app.test_request_context("/"):
        root = frame("head_links")
        assert root == render_template_string(HEAD) and 'href="/static/' in root
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/carnet"}):
        mounted = frame("head_links")
        assert mounted == render_template_string(HEAD) and 'href="/carnet/static/' in mounted
    with app.test_request_context("/"):
        assert frame("head_links") is root
    assert len(drawings) == 2 and {key[0] for key in drawings} == {"head_links"}
    for n in range(frame_module._PARTS_MAX + 5):  # a mount point per request would not grow it for ever
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": f"/m{n}"}):
            assert f'href="/m{n}/static/' in frame("head_links")
    assert len(drawings) <= frame_module._PARTS_MAX


def test_every_page_writes_the_parts_as_its_layout_wrote_them(client, login_as, make_holder):
    public = client.get("/connexion").get_data(as_text=True)
    assert public.count('id="request-error"') == 1 and 'id="idle-warning"' not in public
    assert public.count('rel="stylesheet"') == 4 and "<title>" in public.split('rel="manifest"')[0]
    account, _ = make_holder()
    login_as(client, account)
    page = client.get("/").get_data(as_text=True)
    assert page.count('id="idle-warning"') == 1 and page.count('id="request-error"') == 1
    head = page.split("</head>")[0]
    assert head.index('rel="manifest"') < head.index("js/app.js") and "data-still-here" not in page


# The macros the components replaced (docs/performance.md, 60), word for word: the reference.
_MACROS = """{#- The footer mention the RGAA asks for on every page, linking to the statement. -#}
{%- macro accessibility_link() -%}
<a class="footer-link" href="{{ url_for('dashboard.accessibility') }}">{{ _("Accessibility: partially compliant") }}</a>
{%- endmacro -%}

{%- macro language_switch(languages, current) -%}
{%- if languages %}
<div class="lang-switch" role="group" aria-label="{{ _('Language') }}">
  {{ svg_icon("languages") }}
  {%- set next_url = request.full_path if request.query_string else request.path %}
  {%- for lang in languages %}
  {%- if lang.code == current %}
  <span class="lang-current" lang="{{ lang.code }}" aria-current="true">{{ lang.label }}</span>
  {%- else %}
  <form method="post" action="{{ lang.url }}" hx-boost="false">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <input type="hidden" name="next" value="{{ next_url }}">
    <button type="submit" class="btn btn-ghost btn-small" lang="{{ lang.code }}">{{ lang.label }}</button>
  </form>
  {%- endif %}
  {%- endfor %}
</div>
{%- endif %}
{%- endmacro -%}

{#- Logout button (POST form, full page load so Clear-Site-Data applies).
    compact=True: icon only on narrow screens (the label stays for screen readers). -#}
{%- macro logout_button(logout_url, compact=False, label=None) -%}
{%- if logout_url %}
<form method="post" action="{{ logout_url }}" class="logout-form" hx-boost="false">
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  <button type="submit" class="btn btn-ghost{% if compact %} btn-compact{% endif %}">
    {{- svg_icon("log-out") }}<span class="{{ 'label-wide' if compact else '' }}">{{ label or _("Log out") }}</span></button>
</form>
{%- endif %}
{%- endmacro -%}


"""
_LANGUAGES = [
    {"code": "fr", "label": "Français", "url": "/langue/fr"},
    {"code": "en", "label": "English", "url": "/langue/en"},
]


@pytest.mark.parametrize("path", ["/documents", "/documents?q=%3Cb%3E&x=%221%22&t=a%26b", "/a'b\"c<d>"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_footer_and_the_logout_button_are_what_their_macros_drew(app, path, lang):
    calls = [
        "language_switch(languages, current)",
        "language_switch([], current)",
        "language_switch(languages, 'de')",
        "accessibility_link()",
        "logout_button('/deconnexion', compact=true)",
        "logout_button('/deconnexion')",
        "logout_button('/deconnexion?x=1&y=\\'2\\'', label='<Quitter & “partir”>')",
        "logout_button('')",
        "logout_button(none)",
    ]
    with app.test_request_context(path), force_locale(lang):
        for call in calls:
            expected = render_template_string(_MACROS + "{{ " + call + " }}", languages=_LANGUAGES, current=lang)
            drawn = render_template_string(
                '{%- import "components/ui.html" as ui -%}{{ ui.' + call + " }}", languages=_LANGUAGES, current=lang
            )
            assert drawn == expected, call
        assert ("Langue" if lang == "fr" else "Language") in render_template_string(
            '{%- import "components/ui.html" as ui -%}{{ ui.language_switch(languages, current) }}',
            languages=_LANGUAGES,
            current=lang,
        )
