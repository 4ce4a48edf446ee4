"""The emergency card as a shortcut of the installed app: the manifest's `shortcuts` entry is
valid, inside the app's scope, drawn with icons that exist, and names the one page the service
worker serves without a connection; the offline page (and its script) are pre-cached."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[2]
SW = (ROOT / "static/sw.js").read_text()


def _constant(name: str) -> str:
    return re.search(rf'const {name} = "([^"]+)"', SW).group(1)


def test_the_manifest_offers_the_emergency_card_as_a_shortcut(app, client):
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r.mimetype == "application/manifest+json"
    manifest = json.loads(r.get_data(as_text=True))
    [shortcut] = [s for s in manifest["shortcuts"] if s["name"] == "Carte d’urgence"]
    url = urljoin("https://carnet.example/", shortcut["url"])
    scope = urljoin("https://carnet.example/", manifest["scope"])
    assert url.startswith(scope)
    # the very page the service worker keeps and serves offline, and a route of the app
    assert urlsplit(url).path == _constant("CARD_URL") == "/carte-urgence/fiche"
    assert app.url_map.bind("localhost").match(urlsplit(url).path)[0] == "card.sheet"
    assert shortcut["icons"]
    for icon in shortcut["icons"]:
        path = urlsplit(icon["src"]).path
        assert path.startswith("/static/") and (ROOT / path.lstrip("/")).is_file(), icon
        assert client.get(path).status_code == 200


def test_the_offline_page_and_its_script_are_precached():
    precache = re.search(r"const PRECACHE = \[(.*?)\];", SW, re.S).group(1)
    files = re.findall(r'"(/static/[^"]+)"', precache)
    assert re.search(r"^\s*OFFLINE_URL,", precache, re.M) and "/static/js/offline.js" in files
    files.append(_constant("OFFLINE_URL"))
    for path in files:
        assert (ROOT / path.lstrip("/")).is_file(), path
    offline = (ROOT / "static/offline.html").read_text()
    assert '<script src="/static/js/offline.js" defer></script>' in offline
    assert offline.count('href="/carte-urgence/fiche"') == 2  # the plain link, and the button shown when kept
