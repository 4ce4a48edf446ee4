"""Every passkey endpoint answers a malformed body with 400, never 500: the browser's answer
is untrusted input, whatever its shape."""

import base64
import json

import pytest

from core.db import db
from core.people import Credential
from tests.helpers import csrf_token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _answer(challenge: str, **extra) -> dict:
    client_data = _b64(json.dumps({"type": "webauthn.get", "challenge": challenge}).encode())
    return {"response": {"clientDataJSON": client_data, **extra.pop("response", {})}, **extra}


BODIES = [
    b"{not json",
    b"[1, 2]",
    b'"a string"',
    b"null",
    b"42",
    b'{"response": []}',
    b'{"response": {"clientDataJSON": 5}}',
    b'{"response": {"clientDataJSON": "%%%"}}',
    b'{"credential": [1], "name": 5}',
    b'{"credential": "x", "name": ["a"]}',
]


def _deep(challenge: str) -> list[bytes]:
    """Bodies that answer a real challenge, so they reach the parsing after it."""
    return [
        json.dumps(b).encode()
        for b in (
            _answer(challenge, rawId=5),
            _answer(challenge, rawId=["x"]),
            _answer(challenge, rawId="AAAA", response={"userHandle": 7}),
            _answer(challenge, rawId="AAAA", response={"userHandle": ["x"]}),
            _answer(challenge, rawId="AAAA", response={"userHandle": "%%%"}),
            {"response": {"clientDataJSON": _b64(json.dumps({"challenge": 12}).encode())}},
            {"response": {"clientDataJSON": _b64(b"[1]")}},
        )
    ]


DEEP = len(_deep("x"))


def _key(app, account):
    """A stored passkey whose id is "AAAA" in base64url, so bodies naming it get past the lookup."""

    with app.app_context():
        db.session.add(Credential(account_id=account.id, credential_id=b"\0\0\0", public_key=b"k", name="Clé"))
        db.session.commit()


@pytest.fixture
def fresh_holder(app, client, make_holder, login):
    account, _ = make_holder()
    _key(app, account)
    login(client, account)
    return client, csrf_token(client, "/compte")


def _post(client, url, token, body):
    return client.post(url, data=body, headers={"X-CSRFToken": token, "Content-Type": "application/json"})


def test_login_passkey_malformed_bodies_are_400(app, client, make_holder):
    _key(app, make_holder()[0])
    token = csrf_token(client)
    for body in BODIES:
        r = _post(client, "/connexion/passkey", token, body)
        assert r.status_code == 400, (body, r.status_code)
    for i in range(DEEP):
        challenge = _post(client, "/connexion/passkey/options", token, b"").json["challenge"]
        body = _deep(challenge)[i]
        r = _post(client, "/connexion/passkey", token, body)
        assert r.status_code == 400, (body, r.status_code)


def test_registration_malformed_bodies_are_400(app, fresh_holder):
    client, token = fresh_holder
    for body in BODIES:
        _post(client, "/compte/cles-d-acces/options", token, b"")
        r = _post(client, "/compte/cles-d-acces", token, body)
        assert r.status_code == 400, (body, r.status_code)
    for i in range(DEEP):
        challenge = _post(client, "/compte/cles-d-acces/options", token, b"").json["challenge"]
        body = _deep(challenge)[i]
        wrapped = json.dumps({"credential": json.loads(body), "name": "Téléphone"}).encode()
        r = _post(client, "/compte/cles-d-acces", token, wrapped)
        assert r.status_code == 400, (body, r.status_code)


def test_step_up_passkey_malformed_bodies_are_400(app, fresh_holder):
    client, token = fresh_holder
    for body in BODIES:
        r = _post(client, "/compte/confirmer/cle", token, body)
        assert r.status_code == 400, (body, r.status_code)
    for i in range(DEEP):
        challenge = _post(client, "/compte/confirmer/options", token, b"").json["challenge"]
        body = _deep(challenge)[i]
        r = _post(client, "/compte/confirmer/cle", token, body)
        assert r.status_code == 400, (body, r.status_code)
