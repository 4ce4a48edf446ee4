"""The app installs on a phone's home screen, and its service worker keeps no health data:
only static files and the offline page, even after a holder has browsed their space."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import password_login

pytestmark = pytest.mark.browser

LIST_CACHES = """async () => {
  const out = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) {
      const res = await cache.match(req);
      out.push({cache: name, url: req.url, type: (res && res.headers.get("content-type")) || ""});
    }
  }
  return out;
}"""

OFFLINE_PAGE = "/static/offline.html"
# The web app manifest sits at the root of the site; it is public and carries no data.
MANIFEST = "/manifest.webmanifest"


def test_installable_and_service_worker_caches_static_files_only(profile_context, live_app, new_holder, problems):
    context = profile_context
    page = context.pages[0] if context.pages else context.new_page()
    page.goto("/connexion")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => new URL(r.scope).pathname)")
    assert scope == "/"

    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]

    # Browse the space the way a holder does, then look into every cache of the site.
    holder = new_holder()
    password_login(page, live_app, holder)
    page.goto("/compte")
    expect(page.locator("#sessions")).to_be_visible()
    page.goto("/")
    expect(page.locator("main h1")).to_contain_text(holder.first_name)

    entries = page.evaluate(LIST_CACHES)
    paths = {urlsplit(e["url"]).path: e for e in entries}
    assert OFFLINE_PAGE in paths, "the offline page must be pre-cached"
    for path, entry in paths.items():
        assert path.startswith("/static/") or path == MANIFEST, f"not a static file in the cache: {entry}"
        if "html" in entry["type"]:
            assert path == OFFLINE_PAGE, f"an HTML page other than the offline one is cached: {entry}"

    # Nor in the other storage a page can use: the htmx history cache is off (htmx keeps
    # only the current path in sessionStorage), no IndexedDB.
    storage = page.evaluate("""async () => ({
        local: Object.assign({}, localStorage), session: Object.assign({}, sessionStorage),
        idb: indexedDB.databases ? (await indexedDB.databases()).map(d => d.name) : []
    })""")
    assert storage["local"] == {} and storage["idb"] == [], storage
    assert set(storage["session"]) <= {"htmx-current-path-for-history"}, storage
    kept = repr(storage)
    for personal in (holder.first_name, holder.family_name, holder.nir, holder.email):
        assert personal not in kept, storage
    assert problems.problems() == []
