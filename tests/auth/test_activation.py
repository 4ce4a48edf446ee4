import re
from datetime import timedelta

from sqlalchemy import select

from core import clock, notify
from core.db import db
from core.people import Account
from tests.helpers import csrf_token, valid_nir


def _letter_code(app, email):
    with app.app_context():
        mail = notify.latest_to(email)
    return re.search(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b", mail.body).group(1)


def _activate(client, account, code, birth="1987-03-14"):
    token = csrf_token(client, "/activation")
    return client.post(
        "/activation", data={"nir": account.patient.nir, "birth_date": birth, "code": code, "csrf_token": token}
    ), token


def test_cli_creates_pending_space_and_letter(app):
    nir = valid_nir("1920699123456")
    result = app.test_cli_runner().invoke(
        args=[
            "patients",
            "create",
            "--nir",
            nir,
            "--email",
            "Jean.Dupont@Example.fr",
            "--birth-date",
            "1992-06-01",
            "--given-name",
            "Jean Pierre",
            "--family-name",
            "Dupont",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == "jean.dupont@example.fr"))
        assert account.patient.status == "pending" and account.password_hash is None
    assert _letter_code(app, "jean.dupont@example.fr")
    bad = app.test_cli_runner().invoke(
        args=[
            "patients",
            "create",
            "--nir",
            nir[:-2] + "00",
            "--email",
            "x@example.fr",
            "--birth-date",
            "1992-06-01",
            "--given-name",
            "X",
            "--family-name",
            "Y",
        ]
    )
    assert bad.exit_code != 0 and "NIR" in bad.output


def test_activation_then_password_then_passkey_invitation(app, client, make_holder):
    account, code = make_holder(pending=True)
    r, token = _activate(client, account, code)
    assert r.status_code == 303 and r.headers["Location"].endswith("/activation/mot-de-passe")
    r = client.post("/activation/mot-de-passe", data={"password": "short", "confirm": "short", "csrf_token": token})
    assert r.status_code == 422
    pw = "une phrase assez longue"
    r = client.post("/activation/mot-de-passe", data={"password": pw, "confirm": pw, "csrf_token": token})
    assert r.status_code == 303 and r.headers["Location"].endswith("/compte/cles-d-acces")
    assert client.get("/").status_code == 200
    with app.app_context():
        acc = db.session.get(Account, account.id)
        assert acc.patient.status == "active" and acc.password_hash.startswith("$argon2id$")


def test_code_is_single_use(client, make_holder, app):
    account, code = make_holder(pending=True)
    r, token = _activate(client, account, code)
    assert r.status_code == 303
    other = app.test_client()
    r, _ = _activate(other, account, code)
    assert r.status_code == 422


def test_wrong_and_expired_codes_get_the_same_message(client, make_holder):
    account, code = make_holder(pending=True)
    wrong, _ = _activate(client, account, "AAAA-BBBB-CCCC")
    wrong_birth, _ = _activate(client, account, code, birth="1990-01-01")
    clock.advance(timedelta(days=43))
    expired, _ = _activate(client, account, code)
    bodies = {r.status_code for r in (wrong, wrong_birth, expired)}
    assert bodies == {422}
    msg = "ne correspondent pas"
    for r in (wrong, wrong_birth, expired):
        assert msg in r.get_data(as_text=True)


def test_code_locks_after_five_wrong_tries(client, make_holder):
    account, code = make_holder(pending=True)
    for _ in range(5):
        r, _ = _activate(client, account, "AAAA-BBBB-CCCC")
        assert r.status_code == 422
    r, _ = _activate(client, account, code)
    assert r.status_code == 422


def test_activation_attempts_limited_per_ip(app, client, make_holder, monkeypatch):
    monkeypatch.setitem(app.config, "ACTIVATION_ATTEMPTS_PER_IP_HOUR", 3)
    account, code = make_holder(pending=True)
    for _ in range(3):
        _activate(client, account, "AAAA-BBBB-CCCC")
    r, _ = _activate(client, account, code)
    assert r.status_code == 429


def test_invalid_nir_is_explained(client):
    token = csrf_token(client, "/activation")
    r = client.post(
        "/activation",
        data={
            "nir": "1 84 12 75 123 456 00",
            "birth_date": "1987-03-14",
            "code": "AAAA-BBBB-CCCC",
            "csrf_token": token,
        },
    )
    assert r.status_code == 422 and "15 chiffres" in r.get_data(as_text=True)


def test_cli_creates_professional_with_valid_rpps(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(
        args=[
            "pros",
            "create",
            "--rpps",
            "10101234599",
            "--email",
            "Dr.Leroy@example.fr",
            "--given-name",
            "Paul",
            "--family-name",
            "Leroy",
            "--profession",
            "pharmacien",
            "--password",
            "un mot de passe solide",
        ]
    )
    assert ok.exit_code == 0, ok.output
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == "dr.leroy@example.fr"))
        assert account.role == "professional" and account.professional.rpps == "10101234599"
    bad = runner.invoke(
        args=[
            "pros",
            "create",
            "--rpps",
            "1234",
            "--email",
            "x@example.fr",
            "--given-name",
            "A",
            "--family-name",
            "B",
            "--profession",
            "medecin",
            "--password",
            "un mot de passe solide",
        ]
    )
    assert bad.exit_code != 0 and "11 digits" in bad.output
