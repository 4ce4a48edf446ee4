"""Brute force on logins: wrong passwords slow down (never a hard lock for the owner), wrong
emailed codes are counted per account across codes, codes sent are capped, the holder is told
by mail and can unlock their own device with the mailed link, or log in with a passkey."""

import html
import json
import re
from datetime import timedelta

from blueprints.auth import passkeys
from core import clock, notify
from tests.helpers import PASSWORD, csrf_token, last_code

WRONG = "not the password at all"


def _mails(app, email):
    with app.app_context():
        return [m for m in notify.read_outbox(500) if m.to == email]


def _text(r):
    return r.get_data(as_text=True)


def _password(client, account, password=PASSWORD):
    token = csrf_token(client)
    return client.post("/connexion", data={"email": account.email, "password": password, "csrf_token": token})


def _code(client, code):
    token = csrf_token(client)
    return client.post("/connexion/code", data={"code": code, "csrf_token": token})


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1000000:06d}"


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def _flashed(client) -> str:
    return _text(client.get("/connexion"))


# --- emailed codes -----------------------------------------------------------------------


def test_nine_wrong_codes_across_codes_then_the_right_one_works(app, make_holder):
    account, _ = make_holder()
    client = app.test_client()
    for wrong in (4, 4, 1):
        assert _password(client, account).status_code == 303
        good = last_code(app, account.email)
        for _ in range(wrong):
            assert _code(client, _wrong(good)).status_code == 422
    assert _code(client, good).status_code == 303 and _logged_in(client)


def test_ten_wrong_codes_across_codes_pause_password_logins_and_tell_the_holder(app, make_holder):
    account, _ = make_holder()
    client = app.test_client()
    for wrong in (4, 4):
        assert _password(client, account).status_code == 303
        good = last_code(app, account.email)
        for _ in range(wrong):
            assert _code(client, _wrong(good)).status_code == 422
    assert _password(client, account).status_code == 303
    good = last_code(app, account.email)
    assert _code(client, _wrong(good)).status_code == 422  # the 9th
    r = _code(client, _wrong(good))  # the 10th: across three codes
    assert r.status_code == 303 and r.headers["Location"].endswith("/connexion")
    page = _flashed(client)
    assert "Trop de codes erronés" in page and "clé d’accès" in page
    assert _code(client, good).status_code in (302, 303) and not _logged_in(client)  # that code is gone
    mail = _mails(app, account.email)[0]
    assert "pausée" in mail.subject and "/connexion/deblocage/" in mail.body
    # the right password from anywhere sends no new code: the pause holds for the day
    sent = len(_mails(app, account.email))
    fresh = app.test_client()
    r = _password(fresh, account)
    assert r.status_code == 429 and "Trop de codes erronés" in _text(r) and "heures" in _text(r)
    assert len(_mails(app, account.email)) == sent
    clock.advance(timedelta(hours=24, minutes=1))
    assert _password(fresh, account).status_code == 303
    assert _code(fresh, last_code(app, account.email)).status_code == 303 and _logged_in(fresh)


def test_codes_sent_per_account_per_hour_are_capped(app, make_holder):
    account, _ = make_holder()
    client = app.test_client()
    for _ in range(5):
        assert _password(client, account).status_code == 303
    fifth = last_code(app, account.email)
    sent = len(_mails(app, account.email))
    r = _password(client, account)
    assert r.status_code == 429 and "déjà été envoyés" in _text(r) and "minutes" in _text(r)
    assert len(_mails(app, account.email)) == sent
    assert _password(app.test_client(), account).status_code == 429
    assert _code(client, fifth).status_code == 303 and _logged_in(client)  # the last code sent still works
    clock.advance(timedelta(minutes=61))
    client = app.test_client()
    assert _password(client, account).status_code == 303
    assert _code(client, last_code(app, account.email)).status_code == 303 and _logged_in(client)


# --- wrong passwords ----------------------------------------------------------------------


def test_nine_wrong_passwords_then_the_right_one_works(app, make_holder):
    account, _ = make_holder()
    attacker = app.test_client()
    for _ in range(9):
        assert _password(attacker, account, WRONG).status_code == 422
    assert _password(app.test_client(), account).status_code == 303
    assert _mails(app, account.email)[0].subject.startswith("Votre code")  # no pause mail


def test_wrong_passwords_grow_a_delay_instead_of_locking_the_owner_out(app, make_holder):
    account, _ = make_holder()
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(10):
        assert _password(attacker, account, WRONG).status_code == 422
    r = _password(attacker, account, WRONG)
    assert r.status_code == 429 and "Réessayez dans 1 minute" in _text(r) and "clé d’accès" in _text(r)
    r = _password(owner, account)  # the owner too, from a fresh address: told how long and how else
    assert r.status_code == 429 and "Réessayez dans 1 minute" in _text(r)
    [mail] = [m for m in _mails(app, account.email) if "pausée" in m.subject]
    assert "/connexion/deblocage/" in mail.body
    clock.advance(timedelta(seconds=61))
    assert _password(attacker, account, WRONG).status_code == 422  # the 11th: then 2 minutes
    clock.advance(timedelta(seconds=61))
    r = _password(owner, account)
    assert r.status_code == 429 and "Réessayez dans 1 minute" in _text(r)
    clock.advance(timedelta(seconds=60))
    assert _password(owner, account).status_code == 303  # the right password works once the delay is over
    # the delay doubles, up to an hour: never a lock that outlasts it
    for _ in range(10):
        clock.advance(timedelta(minutes=61))
        assert _password(attacker, account, WRONG).status_code == 422
    r = _password(owner, account)
    assert r.status_code == 429 and "Réessayez dans 60 minutes" in _text(r)
    clock.advance(timedelta(minutes=60, seconds=1))
    assert _password(owner, account).status_code == 303
    assert len([m for m in _mails(app, account.email) if "pausée" in m.subject]) <= 12  # at most one an hour


def test_unknown_and_known_accounts_are_paused_alike(app, make_holder):
    account, _ = make_holder()
    client = app.test_client()
    token = csrf_token(client)
    answers = []
    for email in (account.email, "personne@example.fr"):
        for _ in range(10):
            client.post("/connexion", data={"email": email, "password": WRONG, "csrf_token": token})
        r = client.post("/connexion", data={"email": email, "password": WRONG, "csrf_token": token})
        message = re.search(r'class="field-error"[^>]*>.*?<span>(.*?)</span>', _text(r), re.S).group(1)
        answers.append((r.status_code, message))
    assert answers[0] == answers[1] and answers[0][0] == 429


def test_the_mailed_link_unlocks_the_owners_device_only(app, make_holder):
    account, _ = make_holder()
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(10):
        _password(attacker, account, WRONG)
    [mail] = [m for m in _mails(app, account.email) if "pausée" in m.subject]
    link = re.search(r"https?://\S+(/connexion/deblocage/\w+)", mail.body).group(1)
    page = owner.get(link)
    assert page.status_code == 200 and "<form" in _text(page)  # GET changes nothing
    assert _password(owner, account).status_code == 429
    token = csrf_token(owner)
    r = owner.post(link, data={"csrf_token": token})
    assert r.status_code == 303 and "débloquée sur cet appareil" in _flashed(owner)
    assert _password(attacker, account, WRONG).status_code == 429  # still paused for everyone else
    assert _password(owner, account).status_code == 303
    assert _code(owner, last_code(app, account.email)).status_code == 303 and _logged_in(owner)
    assert _password(app.test_client(), account).status_code == 303  # a full login lifted the pause
    again = app.test_client()
    r = again.post(link, data={"csrf_token": csrf_token(again)})
    assert r.status_code == 422 and "plus valable" in _text(r)  # single use


def test_a_passkey_login_works_during_a_pause_and_lifts_it(app, client, make_holder, monkeypatch):

    account, _ = make_holder()
    attacker = app.test_client()
    for _ in range(10):
        _password(attacker, account, WRONG)
    assert _password(app.test_client(), account).status_code == 429
    # the ceremony itself is tested in the browser journeys: here it succeeds for this account
    monkeypatch.setattr(passkeys, "authenticate", lambda *a, **k: passkeys.db.session.get(type(account), account.id))
    token = csrf_token(client)
    r = client.post("/connexion/passkey", data="{}", headers={"X-CSRFToken": token, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json["redirect"] and _logged_in(client)
    assert _password(app.test_client(), account).status_code == 303


def test_htmx_swaps_the_limited_answers_into_the_form(client):
    """A 429 carries the form with its French message (how long to wait, what else to do):
    htmx must swap it like a 422, not show the generic error toast."""

    page = client.get("/connexion").get_data(as_text=True)
    config = json.loads(html.unescape(re.search(r'name="htmx-config" content=\'([^\']+)\'', page).group(1)))
    rules = config["responseHandling"]
    first = next(r for r in rules if re.fullmatch(r["code"], "429"))
    assert first["swap"] is True and not first.get("error")
