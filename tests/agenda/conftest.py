"""Agenda fixtures: a clock held still (a Thursday morning in Paris, logins made after it
stopped so sessions live on it), a holder, and a professional with a permanent access."""

from __future__ import annotations

import pytest

from core import grants
from core.db import db


@pytest.fixture
def now(held_clock):
    """3 December 2026, 9:00 in Paris (8:00 UTC), held still."""
    return held_clock


@pytest.fixture
def me(now, client, make_holder, login_as):
    """(client logged in as a fresh holder, account), on the held clock."""
    account, _ = make_holder()
    login_as(client, account)
    return client, account


@pytest.fixture
def granted(app, now, make_holder, make_pro, login_as):
    """(holder client, holder account, professional client, professional account, grant id)."""
    holder, _ = make_holder()
    pro = make_pro()
    with app.app_context():
        grant = grants.Grant(patient_id=holder.patient_id, professional_id=pro.professional_id)
        db.session.add(grant)
        db.session.commit()
        grant_id = grant.id
    holder_client, pro_client = app.test_client(), app.test_client()
    login_as(holder_client, holder)
    login_as(pro_client, pro)
    return holder_client, holder, pro_client, pro, grant_id
