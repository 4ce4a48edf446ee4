"""The axe watcher of the browser tests (tests/browser/axe.py) on pages made for it: a page that
keeps changing under the check is reported as such, but a countdown (role="timer") that ticks
during it is part of a still page. The kiosk's countdown ticks every second, and a check can
take longer than that on a busy machine."""

from __future__ import annotations

import pytest

from tests.browser.helpers import KIOSK, new_context

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Décompte</title></head>
<body><main><h1>Décompte</h1><p>Se ferme dans <strong id="left"{role}>2:00</strong></p>
<script src="/tick.js"></script></main></body></html>"""
TICK = "let n = 0; setInterval(() => { document.getElementById('left').textContent = String(n++); }, 2);"


def _checked(browser, base_url, problems, role: str) -> list[str]:
    context = new_context(browser, base_url, KIOSK, problems)
    context.route(
        f"{base_url}/decompte", lambda route: route.fulfill(body=PAGE.format(role=role), content_type="text/html")
    )
    context.route(f"{base_url}/tick.js", lambda route: route.fulfill(body=TICK, content_type="text/javascript"))
    page = context.new_page()
    page.goto("/decompte")
    found = problems.problems()
    context.close()
    return found


def test_a_ticking_timer_leaves_the_page_still(browser, base_url, problems):
    assert _checked(browser, base_url, problems, ' role="timer"') == []
    assert [s for s in problems.screens() if s.startswith("/decompte (load")]


def test_any_other_change_during_every_check_is_reported(browser, base_url, problems):
    assert _checked(browser, base_url, problems, "") == [
        "axe could not run on /decompte (load, None×None): Error: the page kept changing during the check"
    ]
