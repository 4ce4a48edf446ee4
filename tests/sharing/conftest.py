"""Sharing fixtures: a logged-in holder reading English, a registered professional."""

from __future__ import annotations

import pytest

from core.db import db
from core.people import Account
from tests.helpers import csrf_token


@pytest.fixture
def holder(app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account)
    token = csrf_token(client, "/partage")
    assert client.post("/langue/en", data={"csrf_token": token}).status_code == 303
    return client, account


@pytest.fixture
def professional(app, make_pro):
    """professional(rpps) → a registered professional as a plain dict (id, rpps, name)."""

    def factory(rpps: str) -> dict:
        account = make_pro(rpps=rpps)
        with app.app_context():
            pro = db.session.get(Account, account.id).professional
            return {
                "id": pro.id,
                "rpps": pro.rpps,
                "name": pro.display_name,
                "family_name": pro.family_name,
                "account": account,
            }

    return factory
