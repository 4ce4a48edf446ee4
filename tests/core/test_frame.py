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
