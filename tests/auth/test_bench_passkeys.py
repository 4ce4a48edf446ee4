"""The morning peak's passkey logins are real: an assertion made by benchmarks.passkeys is
verified by py_webauthn through the app's own endpoints, and a wrong one is refused."""

from __future__ import annotations

from benchmarks import passkeys, peak
from core.config import DEFAULTS
from core.db import db
from core.people import Credential
from tests.helpers import csrf_token


def _register(app, account) -> None:
    with app.app_context():
        db.session.add(
            Credential(
                account_id=account.id,
                credential_id=passkeys.credential_id(account.email),
                public_key=passkeys.cose_public_key(passkeys.private_key(account.email)),
                name="Téléphone",
            )
        )
        db.session.commit()


def _post(client, url, token, body: str = "{}"):
    return client.post(url, data=body, headers={"X-CSRFToken": token, "Content-Type": "application/json"})


def test_a_bench_passkey_logs_in_through_the_app(app, client, make_holder):
    account, _ = make_holder()
    _register(app, account)
    token = csrf_token(client)
    options = _post(client, "/connexion/passkey/options", token).json
    credential = passkeys.assertion(account.email, account.user_handle, options, app.config["WEBAUTHN_ORIGIN"])
    r = _post(client, "/connexion/passkey", token, credential)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert client.get("/").status_code == 200 and b'id="login-form"' not in client.get("/").data


def test_an_assertion_for_another_origin_or_challenge_is_refused(app, client, make_holder):
    account, _ = make_holder()
    _register(app, account)
    token = csrf_token(client)
    options = _post(client, "/connexion/passkey/options", token).json
    wrong = passkeys.assertion(account.email, account.user_handle, options, "https://elsewhere.example")
    assert _post(client, "/connexion/passkey", token, wrong).status_code == 400
    options = _post(client, "/connexion/passkey/options", token).json
    stale = passkeys.assertion(
        account.email, account.user_handle, {**options, "challenge": "AAAA"}, app.config["WEBAUTHN_ORIGIN"]
    )
    assert _post(client, "/connexion/passkey", token, stale).status_code == 400
    assert client.get("/").status_code in (302, 303)  # still not logged in


def test_a_person_whose_codes_are_paused_comes_in_with_their_passkey():
    """Carnet mails at most OTP_SENDS_PER_ACCOUNT_HOUR login codes an hour to an account: a
    professional of the peak who comes back every few seconds then gets in with their passkey,
    as the page that refuses the code tells them to, instead of counting a refusal as an error."""
    sessions = peak.Sessions(idle_seconds=1800)
    for _ in range(DEFAULTS["OTP_SENDS_PER_ACCOUNT_HOUR"]):
        assert sessions.may_mail_a_code("pro1@bench.example")
        sessions.mailed("pro1@bench.example")
    assert not sessions.may_mail_a_code("pro1@bench.example")
    assert sessions.may_mail_a_code("pro2@bench.example")
