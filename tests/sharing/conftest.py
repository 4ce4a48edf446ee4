"""Sharing fixtures: a logged-in holder reading English, a share made through the screen,
and readers for the rows and traces it leaves."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token

HX = {"HX-Request": "true"}


@pytest.fixture
def holder(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    token = csrf_token(client, "/partage")
    assert client.post("/langue/en", data={"csrf_token": token}).status_code == 303
    return client, account


def token_of(client, path: str = "/partage") -> str:
    return csrf_token(client, path)


def make_share(client, **fields):
    """Post the share form; returns (response, code, link token)."""
    data = {"documents": "all", "summary": "y", "duration": "24h", "csrf_token": token_of(client), **fields}
    r = client.post("/partage/nouveau", data=data)
    html = r.get_data(as_text=True)
    groups = re.findall(r'<span class="share-code-group">([0-9A-Z]{4})</span>', html)
    token = re.search(r'name="token" value="([^"]+)"', html)
    return r, "-".join(groups), token.group(1) if token else None


def rows(app, model, *where):
    from core.db import db

    with app.app_context():
        found = list(db.session.scalars(select(model).where(*where)))
        db.session.expunge_all()
        return found


def traces(app, action=None):
    from core.audit import AuditEvent

    return rows(app, AuditEvent, *((AuditEvent.action == action,) if action else ()))


def hashes(app, code: str, token: str) -> tuple[str, str]:
    from core import grants

    with app.app_context():
        return grants.code_hash(code), grants.link_hash(token)


@pytest.fixture
def professional(app, make_pro):
    """professional(rpps) → a registered professional as a plain dict (id, rpps, name)."""
    from core.db import db
    from core.people import Account

    def factory(rpps: str) -> dict:
        account = make_pro(rpps=rpps)
        with app.app_context():
            pro = db.session.get(Account, account.id).professional
            return {"id": pro.id, "rpps": pro.rpps, "name": pro.display_name, "family_name": pro.family_name,
                    "account": account}
    return factory
