"""Step-up confirmation (/compte/confirmer): wrong passwords count with the login's counter
for the account, and the session ends after a few of them."""

from datetime import timedelta

from core import clock
from core.db import db
from core.sessions import UserSession
from tests.helpers import PASSWORD, csrf_token

WRONG = "not the password at all"


def _stale(app, client, account, login):
    login(client, account)
    clock.advance(timedelta(minutes=6))  # no longer a fresh authentication
    return csrf_token(client, "/compte")


def _confirm(client, token, password):
    return client.post("/compte/confirmer?next=/compte/mot-de-passe", data={"password": password, "csrf_token": token})


def test_four_wrong_then_the_right_password_confirms(app, client, make_holder, login):
    account, _ = make_holder()
    token = _stale(app, client, account, login)
    for left in (4, 3, 2, 1):
        r = _confirm(client, token, WRONG)
        assert r.status_code == 422
        assert f"Il vous reste {left} essai" in r.get_data(as_text=True)
    r = _confirm(client, token, PASSWORD)
    assert r.status_code == 303 and r.headers["Location"] == "/compte/mot-de-passe"
    assert client.get("/compte/mot-de-passe").status_code == 200


def test_fifth_wrong_password_ends_the_session(app, client, make_holder, login):
    account, _ = make_holder()
    token = _stale(app, client, account, login)
    for _ in range(4):
        assert _confirm(client, token, WRONG).status_code == 422
    r = _confirm(client, token, WRONG)
    assert r.status_code == 303 and r.headers["Location"].endswith("/connexion")
    page = client.get("/connexion").get_data(as_text=True)
    assert "Trop de mots de passe erronés" in page and "déconnecté" in page
    assert client.get("/").status_code == 302
    r = _confirm(client, token, PASSWORD)  # the right password no longer unlocks anything here
    assert r.status_code in (302, 400, 401) and client.get("/compte/mot-de-passe").status_code == 302
    with app.app_context():
        ended = db.session.query(UserSession.end_reason).filter(UserSession.account_id == account.id).all()
    assert ("confirm",) in ended


def test_wrong_confirmations_count_with_the_logins_counter(app, make_holder, login):
    """Sessions of a few tries each cannot add up to more than the login's allowance: the
    account's delays then apply to the confirmation too, and to password logins."""
    account, _ = make_holder()
    clients = [app.test_client() for _ in range(3)]
    for c in clients:
        login(c, account)
    clock.advance(timedelta(minutes=6))
    tokens = [csrf_token(c, "/compte") for c in clients]
    for c, t, tries in zip(clients, tokens, (4, 4, 2)):
        for _ in range(tries):
            assert _confirm(c, t, WRONG).status_code == 422
    third, token3 = clients[2], tokens[2]
    r = _confirm(third, token3, PASSWORD)  # after the account's 10th failure
    assert r.status_code == 429 and "Réessayez dans 1 minute" in r.get_data(as_text=True)
    assert "clé d’accès" in r.get_data(as_text=True)
    fresh = app.test_client()
    r = fresh.post("/connexion", data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_token(fresh)})
    assert r.status_code == 429
    clock.advance(timedelta(seconds=61))
    assert _confirm(third, token3, PASSWORD).status_code == 303
