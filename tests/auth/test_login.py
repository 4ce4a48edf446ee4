from datetime import timedelta

from core import clock, throttle
from core.db import db
from tests.helpers import PASSWORD, csrf_token, last_code, statements


def test_password_then_code(app, client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    r = client.get("/")
    assert r.status_code == 200 and "Bonjour Camille" in r.get_data(as_text=True)


def test_code_expires_after_ten_minutes(app, client, make_holder):
    account, _ = make_holder()
    token = csrf_token(client)
    client.post("/connexion", data={"email": account.email, "password": PASSWORD, "csrf_token": token})
    clock.advance(timedelta(minutes=11))
    r = client.post("/connexion/code", data={"code": last_code(app, account.email), "csrf_token": token})
    assert r.status_code in (302, 303) and r.headers["Location"].endswith("/connexion")
    assert client.get("/").status_code == 302


def test_code_five_tries(app, client, make_holder):
    account, _ = make_holder()
    token = csrf_token(client)
    client.post("/connexion", data={"email": account.email, "password": PASSWORD, "csrf_token": token})
    good = last_code(app, account.email)
    wrong = f"{(int(good) + 1) % 1000000:06d}"
    for _ in range(4):
        r = client.post("/connexion/code", data={"code": wrong, "csrf_token": token})
        assert r.status_code == 422
    r = client.post("/connexion/code", data={"code": wrong, "csrf_token": token})
    assert r.status_code in (302, 303)
    r = client.post("/connexion/code", data={"code": good, "csrf_token": token})
    assert r.status_code in (302, 303) and r.headers["Location"].endswith("/connexion")
    assert client.get("/").status_code == 302


def test_errors_do_not_reveal_accounts(client, make_holder):
    account, _ = make_holder()
    token = csrf_token(client)
    unknown = client.post(
        "/connexion", data={"email": "nobody@example.fr", "password": "whatever it is", "csrf_token": token}
    )
    wrong = client.post("/connexion", data={"email": account.email, "password": "whatever it is", "csrf_token": token})
    assert unknown.status_code == wrong.status_code == 422

    def message(r):
        import re

        return re.search(r'class="field-error"[^>]*>.*?<span>(.*?)</span>', r.get_data(as_text=True), re.S).group(1)

    assert message(unknown) == message(wrong)


def test_failed_logins_limited_per_account(app, client, make_holder, monkeypatch):
    monkeypatch.setitem(app.config, "FAILED_LOGINS_PER_ACCOUNT_HOUR", 3)
    account, _ = make_holder()
    token = csrf_token(client)
    for _ in range(3):
        client.post("/connexion", data={"email": account.email, "password": "nope nope nope", "csrf_token": token})
    r = client.post("/connexion", data={"email": account.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429
    clock.advance(timedelta(minutes=61))
    r = client.post("/connexion", data={"email": account.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303


def test_a_login_clears_its_accounts_failure_counters_and_no_one_elses(app, client, make_holder, login, monkeypatch):
    monkeypatch.setitem(app.config, "FAILED_LOGINS_PER_ACCOUNT_HOUR", 3)
    account, _ = make_holder()
    other, _ = make_holder(email="other@example.fr")
    token = csrf_token(client)
    for who in (account, other, account, other):
        r = client.post("/connexion", data={"email": who.email, "password": "nope nope nope", "csrf_token": token})
        assert r.status_code == 422
    with app.app_context():
        for who in (account, other):
            throttle.fail("otp-account", who.id)
        db.session.commit()
        engine = db.engine
    with statements(engine) as seen:
        login(client, account)
    # both of the account's counters in one statement on the table (docs/performance.md, 57)
    assert len([s for s in seen if s.startswith("DELETE FROM auth_attempts")]) == 1
    with app.app_context():
        assert [throttle.count(s, k) for s, k in (("login-account", account.email), ("otp-account", account.id))] == [
            0,
            0,
        ]
        assert [throttle.count(s, k) for s, k in (("login-account", other.email), ("otp-account", other.id))] == [2, 1]
        assert throttle.count("login-ip", "127.0.0.1") == 4  # the address's count is not the account's to clear
    elsewhere = app.test_client()
    token = csrf_token(elsewhere)
    elsewhere.post("/connexion", data={"email": other.email, "password": "nope nope nope", "csrf_token": token})
    r = elsewhere.post("/connexion", data={"email": other.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429


def test_failed_logins_limited_per_ip(app, client, make_holder, monkeypatch):
    monkeypatch.setitem(app.config, "FAILED_LOGINS_PER_IP_HOUR", 4)
    account, _ = make_holder()
    token = csrf_token(client)
    for i in range(4):
        client.post("/connexion", data={"email": f"x{i}@example.fr", "password": "nope nope", "csrf_token": token})
    r = client.post("/connexion", data={"email": account.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429


def test_professional_lands_on_no_access_page(client, make_pro, login):
    pro = make_pro()
    login(client, pro)
    html = client.get("/").get_data(as_text=True)
    assert "Aucun accès patient" in html


def test_htmx_form_error_is_a_fragment_with_422(client):
    token = csrf_token(client)
    r = client.post(
        "/connexion", data={"email": "", "password": "", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert body.lstrip().startswith("<form") and "<html" not in body
    assert 'aria-invalid="true"' in body and 'aria-describedby="email-error"' in body


def test_language_switch(client):
    token = csrf_token(client)
    r = client.post("/langue/en", data={"csrf_token": token, "next": "/connexion"})
    assert r.status_code == 303
    assert "Log in to your health space" in client.get("/connexion").get_data(as_text=True)
    client.post("/langue/fr", data={"csrf_token": token, "next": "/connexion"})
    assert "Connectez-vous" in client.get("/connexion").get_data(as_text=True)
