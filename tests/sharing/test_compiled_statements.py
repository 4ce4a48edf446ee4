"""The sharing page reads shares, their uses, grants, blocks, notices and the emergency settings
through statements built and compiled once per kind of viewer (docs/performance.md, 48): none
goes through SQLAlchemy's execution on a visit, and each stays behind the gate."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import event

from core.db import db
from tests.helpers import token_of, use_code

TABLES = ("shares", "share_uses", "grants", "blocks", "notifications", "emergency_settings")


def _page_statements(app: Flask, client) -> tuple[str, list[str]]:
    with app.app_context():
        engine = db.engine
    seen = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().startswith("UPDATE"):  # the notices seen now are marked read: a write
            seen.extend(t for t in TABLES if f" {t}" in statement or f'"{t}"' in statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        r = client.get("/partage")
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert r.status_code == 200
    return r.get_data(as_text=True), seen


def test_the_sharing_page_builds_none_of_its_statements(app, holder, make_share, make_holder, professional, login_as):
    client, account = holder
    _id, code, _token = make_share(account, label="Cabinet Lenoir")
    pro = professional("81234567890")
    client.post("/partage/acces", data={"professional_id": pro["id"], "csrf_token": token_of(client)})
    client.post("/partage/blocages", data={"rpps": "12345678901", "name": "Dr Zed", "csrf_token": token_of(client)})
    client.post("/partage/urgence", data={"allow_hidden": "y", "csrf_token": token_of(client)})
    assert use_code(app.test_client(), code, given_name="Inès", family_name="Carré").status_code in (302, 303)
    page, seen = _page_statements(app, client)
    assert seen == []
    for shown in ("Cabinet Lenoir", "Inès Carré", pro["name"], "Dr Zed", "12345678901"):
        assert shown in page, shown
    assert re.search(r'<input checked[^>]* name="allow_hidden"', page)
    assert re.search(r'<input id="allow_samu" name="allow_samu"', page)  # no longer allowed: unchecked

    other, _code = make_holder()
    login_as(client, other)
    page, seen = _page_statements(app, client)
    assert seen == []
    for hidden in ("Cabinet Lenoir", "Inès Carré", pro["name"], "Dr Zed"):
        assert hidden not in page, hidden
    assert re.search(r'<input checked[^>]* name="allow_samu"', page)  # never set: Mon Espace Santé's defaults
