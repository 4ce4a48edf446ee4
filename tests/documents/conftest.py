"""Documents fixtures: an empty blob store for every test, a holder's viewer (the logged-in
`holder` and `upload` are the root conftest's)."""

from __future__ import annotations

import pytest

from core.access import viewer_for
from core.db import db


@pytest.fixture(autouse=True)
def _empty_blob_store(request):
    """The app lives for the whole session; its blob directory starts empty for each test."""
    if "app" in request.fixturenames:
        request.getfixturevalue("fresh_store")


@pytest.fixture
def space(app, make_holder):
    """A request context with the holder's viewer, for service-level tests."""
    account, _ = make_holder()
    with app.test_request_context(method="POST"):
        yield viewer_for(db.session.merge(account))
