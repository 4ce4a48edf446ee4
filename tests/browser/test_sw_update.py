"""A new version of the service worker never leaves a page half old, half new: while a page of
the old version is open the new worker waits and the old files stay; the next navigation
loads that page whole under the new worker; then the old cache goes."""

from __future__ import annotations

import re

import pytest
from flask import make_response
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CACHES = "caches.keys()"
# Ask for an update check and resolve when the new worker has installed (events, not time).
UPDATE_AND_WAIT_INSTALLED = """async () => {
  const reg = await navigator.serviceWorker.getRegistration();
  await reg.update();
  const worker = reg.installing || reg.waiting;
  if (worker && worker.state !== "installed") {
    await new Promise((done) => worker.addEventListener("statechange", () => {
      if (worker.state !== "installing") done();  // installed (or beyond, if it took over at once)
    }));
  }
}"""
# The new worker's activation deletes the old cache: resolve when it has (its "activated" state).
OLD_CACHE_GONE = """async () => {
  const reg = await navigator.serviceWorker.ready;
  if (reg.active.state !== "activated") {
    await new Promise((done) => reg.active.addEventListener("statechange", () => {
      if (reg.active.state === "activated") done();
    }));
  }
  return caches.keys();
}"""
STATE = """navigator.serviceWorker.getRegistration().then(r => ({
  waiting: !!(r && r.waiting), active: r && r.active ? r.active.state : null,
  controlled: !!navigator.serviceWorker.controller,
}))"""


def test_update_waits_then_switches_on_a_whole_page_load(context, live_app, monkeypatch, problems):
    page = context.new_page()
    page.goto("/connexion")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    [old_cache] = page.evaluate(CACHES)

    # The server now serves a new version of the worker (a new cache name, as a release does).
    with open(f"{live_app.static_folder}/sw.js", encoding="utf-8") as f:
        current = f.read()
    new_version = old_cache + "-next"
    source = current.replace(f'"{old_cache}"', f'"{new_version}"')
    assert source != current

    def new_worker():
        resp = make_response(source)
        resp.headers["Content-Type"] = "text/javascript"
        resp.headers["Service-Worker-Allowed"] = "/"
        return resp

    monkeypatch.setitem(live_app.view_functions, "dashboard.service_worker", new_worker)
    page.evaluate(UPDATE_AND_WAIT_INSTALLED)

    # This page is of the old version: it keeps its worker and its files.
    assert page.evaluate(STATE) == {"waiting": True, "active": "activated", "controlled": True}
    assert sorted(page.evaluate(CACHES)) == sorted([old_cache, new_version])
    page.evaluate("window.carnetOldShell = true")

    # The next click: the whole page is loaded again, under the new worker, with its files only.
    page.locator("main a[href='/activation']").first.click()
    expect(page).to_have_url(re.compile(r"/activation$"))
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert page.evaluate("window.carnetOldShell === undefined"), "new markup was swapped into the old shell"
    assert page.evaluate(OLD_CACHE_GONE) == [new_version]
    assert page.evaluate(STATE)["waiting"] is False
    assert problems.problems() == []
