"""A registered kiosk: its enrolment link opened by a fresh browser (the test client)."""

from __future__ import annotations

import re

import pytest

from blueprints.kiosk import services
from tests.kiosk.helpers import TokenRecorder, enrol_link


@pytest.fixture
def kiosk_client(app):
    """(client carrying the kiosk cookie, kiosk name): a device registered as a public kiosk."""
    name = "CPAM Lyon 3e - borne 2"
    link = enrol_link(app, name)
    client = app.test_client()
    page = client.get(link).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'"X-CSRFToken": "([^"]+)"', page
    )
    r = client.post(link, data={"csrf_token": token.group(1)})
    assert r.status_code == 303 and r.headers["Location"].endswith("/borne"), r.status_code
    assert client.get_cookie(app.config["KIOSK_COOKIE_NAME"]) is not None
    return client, name


@pytest.fixture
def secrets_issued(monkeypatch) -> TokenRecorder:
    """The secrets the kiosk services hand out (enrolment links, QR codes), in order."""
    recorder = TokenRecorder(services.secrets)
    monkeypatch.setattr(services, "secrets", recorder)
    return recorder
