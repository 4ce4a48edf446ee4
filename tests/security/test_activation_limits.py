"""Activation codes: only tries whose NIR and birth date both match count against the
letter's code (someone who knows only the NIR cannot burn it); a person can ask for a new
letter, with one answer whether or not the space exists, limited per space and per connection."""

import re

from core import notify
from tests.helpers import csrf_token, valid_nir

BIRTH = "1987-03-14"


def _letters(app, email):
    with app.app_context():
        return [m for m in notify.read_outbox(500) if m.to == email]


def _code_in(mail) -> str:
    return re.search(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b", mail.body).group(1)


def _activate(client, nir, code, birth=BIRTH):
    token = csrf_token(client, "/activation")
    return client.post("/activation", data={"nir": nir, "birth_date": birth, "code": code, "csrf_token": token})


def _ask(client, nir, birth=BIRTH):
    token = csrf_token(client, "/activation/nouveau-courrier")
    return client.post("/activation/nouveau-courrier", data={"nir": nir, "birth_date": birth, "csrf_token": token})


def test_tries_with_the_nir_only_do_not_burn_the_code(app, make_holder):
    account, code = make_holder(pending=True)
    stranger = app.test_client()
    for _ in range(12):  # knows the NIR, not the birth date
        assert _activate(stranger, account.patient.nir, "AAAA-BBBB-CCCC", birth="1990-01-01").status_code == 422
    assert _activate(app.test_client(), account.patient.nir, code).status_code == 303


def test_matching_tries_count_against_the_code_both_sides(app, make_holder):
    account, code = make_holder(pending=True)
    client = app.test_client()
    for _ in range(4):
        assert _activate(client, account.patient.nir, "AAAA-BBBB-CCCC").status_code == 422
    assert _activate(client, account.patient.nir, code).status_code == 303
    other, other_code = make_holder(pending=True)
    for _ in range(5):
        _activate(client, other.patient.nir, "AAAA-BBBB-CCCC")
    r = _activate(client, other.patient.nir, other_code)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "demandez un nouveau courrier" in body and 'href="/activation/nouveau-courrier"' in body


def test_a_new_letter_replaces_a_blocked_code(app, make_holder):
    account, code = make_holder(pending=True)
    client = app.test_client()
    for _ in range(5):
        _activate(client, account.patient.nir, "AAAA-BBBB-CCCC")
    before = len(_letters(app, account.email))
    r = _ask(client, account.patient.nir)
    assert r.status_code == 200 and "nouveau courrier" in r.get_data(as_text=True)
    letters = _letters(app, account.email)
    assert len(letters) == before + 1
    new_code = _code_in(letters[0])
    assert new_code != code
    assert _activate(client, account.patient.nir, code).status_code == 422  # the old letter no longer works
    assert _activate(client, account.patient.nir, new_code).status_code == 303


def test_one_answer_whether_or_not_the_space_exists(app, make_holder):
    account, _ = make_holder(pending=True)
    active, _ = make_holder()

    def message(r):
        return re.search(r'class="notice notice-success"[^>]*>.*?<p>(.*?)</p>', r.get_data(as_text=True), re.S).group(1)

    answers = [
        _ask(app.test_client(), account.patient.nir),
        _ask(app.test_client(), account.patient.nir, birth="1990-01-01"),
        _ask(app.test_client(), valid_nir("1920699123456")),
        _ask(app.test_client(), active.patient.nir),
    ]
    assert {r.status_code for r in answers} == {200}
    assert len({message(r) for r in answers}) == 1
    assert len(_letters(app, account.email)) == 2 and len(_letters(app, active.email)) == 1  # one new letter only


def test_new_letters_are_limited_per_space_and_per_connection(app, make_holder, monkeypatch):
    account, _ = make_holder(pending=True)
    first = len(_letters(app, account.email))
    for _ in range(4):
        assert _ask(app.test_client(), account.patient.nir).status_code == 200
    assert len(_letters(app, account.email)) == first + 3  # three a day, then the same answer without a letter
    monkeypatch.setitem(app.config, "LETTER_REQUESTS_PER_IP_HOUR", 6)
    client = app.test_client()
    for _ in range(2):
        assert _ask(client, valid_nir("1920699123456")).status_code == 200
    r = _ask(client, account.patient.nir)
    assert r.status_code == 429 and "Trop de demandes" in r.get_data(as_text=True)


def test_new_letter_page_works_as_page_and_fragment(client):
    page = client.get("/activation/nouveau-courrier")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    token = csrf_token(client, "/activation/nouveau-courrier")
    r = client.post(
        "/activation/nouveau-courrier",
        data={"nir": "123", "birth_date": BIRTH, "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and body.lstrip().startswith("<form") and "<html" not in body
    assert 'aria-invalid="true"' in body and "15 chiffres" in body
