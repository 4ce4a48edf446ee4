"""Helpers for the kiosk tests: an operator's enrolment link, a QR code approved from a phone."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.helpers import HX, csrf_token


def enrol_link(app, name: str) -> str:
    """The path of the link `flask kiosks enrol` prints."""
    out = app.test_cli_runner().invoke(args=["kiosks", "enrol", "--name", name])
    assert out.exit_code == 0, out.output
    url = out.output.strip().splitlines()[-1]
    return urlsplit(url).path


def show_code(kiosk) -> str:
    """The kiosk asks for a QR code (as its welcome screen does on load): the fragment's HTML."""
    token = csrf_token(kiosk, "/borne")
    r = kiosk.post("/borne/code", headers={**HX, "X-CSRFToken": token})
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


class TokenRecorder:
    """Stands in for the `secrets` module of the kiosk services: the same randomness, and a
    record of each secret issued (the QR code carries it; a test cannot photograph it)."""

    def __init__(self, real):
        self._real = real
        self.issued: list[str] = []

    def token_hex(self, n):
        value = self._real.token_hex(n)
        self.issued.append(value)
        return value

    def approval_path(self) -> str:
        return f"/borne/valider/{self.issued[-1]}"


def approve_on_phone(phone, path: str):
    token = csrf_token(phone, path)
    return phone.post(path, data={"csrf_token": token})
