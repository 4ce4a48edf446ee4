"""At a kiosk the browser keeps no secret, and the pages enforce it: every field a kiosk is
sent has autocomplete="off" (passwords "new-password"), no <datalist>, no prefilled e-mail or
password; checked on every page a kiosk session reaches by links, before and after logging in,
and on the rewrite itself (blueprints/kiosk/autofill.py)."""

from __future__ import annotations

import re
from datetime import date

from blueprints.kiosk.autofill import no_autofill
from tests.helpers import csrf_token, walk

FIELD = re.compile(r"""<(input|select|textarea|form)\b((?:"[^"]*"|'[^']*'|[^>"'])*)>""", re.IGNORECASE)
SKIPPED = ("/static/", "/deconnexion", "/borne/terminer", "/telecharger", "/export", ".pdf", "/pdf")


def _problems(url: str, html: str) -> tuple[int, list[str]]:
    """(fields checked, what breaks the kiosk rule) in one page."""
    found, checked = [], 0
    if re.search(r"<datalist\b", html, re.IGNORECASE) or re.search(r"<input\b[^>]*\slist=", html):
        found.append(f"{url}: a datalist")
    for tag, attrs in FIELD.findall(html):
        kind = (re.search(r'\stype="([^"]*)"', attrs) or [None, "text"])[1]
        if tag.lower() == "input" and kind == "hidden":
            continue
        checked += 1
        want = "new-password" if kind == "password" else "off"
        values = re.findall(r'\sautocomplete="([^"]*)"', attrs)
        if values != [want]:
            found.append(f"{url}: <{tag}{attrs[:120]}> autocomplete {values}")
        name = (re.search(r'\sname="([^"]*)"', attrs) or [None, ""])[1]
        if tag.lower() == "input" and (kind in ("email", "password") or name == "email") and " value=" in attrs:
            found.append(f"{url}: <{tag}{attrs[:120]}> prefilled")
    return checked, found


def _walk(client, start: list[str]) -> tuple[set[str], int, list[str]]:
    """Every page reachable by links from `start` (no downloads nor logout): (pages, fields
    checked, what breaks the kiosk rule)."""
    seen, checked, problems = set(), 0, []
    for url, r in walk(client, start, skip=SKIPPED):
        seen.add(url.split("?")[0])
        if r.status_code == 200 and r.mimetype == "text/html":
            n, found = _problems(url, r.get_data(as_text=True))
            checked, problems = checked + n, problems + found
    return seen, checked, problems


def test_the_rewrite_keeps_nothing_for_the_browser():
    page = (
        '<form method="post" hx-target="find > p"><input type="hidden" name="csrf_token" value="k">'
        '<input id="e" name="email" type="email" value="camille@example.fr" autocomplete="username webauthn" required>'
        '<input type="password" name="password" value="secret" autocomplete="current-password">'
        '<input name="q" list="names"><datalist id="names"><option value="Camille Martin"></datalist>'
        '<textarea name="note"></textarea><select name="s"><option>1</option></select></form>'
    )
    out = no_autofill(page)
    assert "camille@example.fr" not in out and "secret" not in out and "Camille Martin" not in out
    assert '<input type="hidden" name="csrf_token" value="k">' in out  # hidden fields untouched
    assert 'hx-target="find > p" autocomplete="off">' in out  # a ">" inside quotes is no end
    assert 'type="password" name="password" autocomplete="new-password">' in out
    assert out.count('autocomplete="off"') == 5 and "list=" not in out and "<datalist" not in out
    assert _problems("sample", out)[1] == [] and _problems("sample", page)[1] != []


def test_every_form_a_kiosk_renders_keeps_nothing(app, kiosk_client, make_holder, make_document, login):
    kiosk, _name = kiosk_client
    # before anyone logs in: the welcome screen and every way in
    seen, checked, problems = _walk(kiosk, ["/borne", "/connexion", "/pro/acces", "/activer"])
    assert problems == [], problems
    assert {"/connexion", "/pro/acces"} <= seen and checked >= 4
    # a login that failed comes back without the address typed
    token = csrf_token(kiosk, "/connexion")
    r = kiosk.post("/connexion", data={"email": "camille@example.fr", "password": "faux", "csrf_token": token})
    assert "camille@example.fr" not in r.get_data(as_text=True)
    assert _problems("/connexion (refused)", r.get_data(as_text=True))[1] == []
    # a holder's space at the kiosk: every page its links reach
    account, _ = make_holder()
    make_document(account, title="Ordonnance", act_date=date(2026, 3, 12))
    login(kiosk, account)
    seen, checked, problems = _walk(kiosk, ["/"])
    assert problems == [], problems
    assert {"/documents", "/profil", "/messages", "/remboursements"} <= seen, sorted(seen)
    assert checked >= 40, checked
    # the same pages on a personal device keep their autofill hints (the rule is the kiosk's)
    personal = app.test_client()
    assert 'autocomplete="username webauthn"' in personal.get("/connexion").get_data(as_text=True)
