"""What one holder can make, and what the sharing screen promises.

A holder keeps at most MAX_LIVE_SHARES shares running (ended and expired ones do not count,
a share whose code was locked still does: its link works), also under parallel requests; the
search for a free code prefix gives up cleanly after a fixed number of tries; the blocks
screen says truthfully what a block does to a code already given.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.sharing import services
from core import clock, codes, grants
from core.db import db
from core.grants import Share
from tests.helpers import csrf_token, use_code

LIMIT = getattr(services, "MAX_LIVE_SHARES", 20)


def _too_many(html: str) -> bool:
    return (
        re.search(
            rf"Vous avez déjà {LIMIT}\s?partages en cours, le maximum en même temps\. Mettez d’abord fin "
            r"à certains d’entre eux",
            html,
        )
        is not None
    )


@pytest.fixture
def signed_in(app, make_holder, login_as):
    account, _ = make_holder()
    return login_as(app.test_client(), account), account


def _post_share(client, csrf=None, **fields):
    data = {
        "documents": "all",
        "summary": "y",
        "duration": "24h",
        "label": "Dr Durand",
        "csrf_token": csrf or csrf_token(client, "/partage"),
        **fields,
    }
    return client.post("/partage/nouveau", data=data)


def _count(app, patient_id, live_only=True) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(Share).where(Share.patient_id == patient_id)
        if live_only:
            stmt = stmt.where(Share.revoked_at.is_(None), Share.expires_at > clock.utcnow())
        return db.session.scalar(stmt)


def test_live_shares_per_holder_are_capped(app, signed_in, make_share):
    client, account = signed_in
    pid = account.patient_id
    ended_id, _, _ = make_share(pid)
    expired_id, _, _ = make_share(pid)
    locked_id, _, _ = make_share(pid)
    with app.app_context():
        db.session.get(Share, ended_id).revoked_at = clock.utcnow()
        db.session.get(Share, expired_id).expires_at = clock.utcnow() - timedelta(minutes=1)
        db.session.get(Share, locked_id).locked_at = clock.utcnow()  # still running: its link works
        db.session.commit()
    for _ in range(LIMIT - 2):
        make_share(pid, hours=24)
    assert _count(app, pid) == LIMIT - 1

    r = _post_share(client)  # the last one allowed
    assert r.status_code == 200 and "share-code-group" in r.get_data(as_text=True)
    assert _count(app, pid) == LIMIT

    r = _post_share(client)  # one too many: refused, clearly, on the creation screen
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and _too_many(html) and "share-code-group" not in html
    assert re.search(r'role="alert"[^>]*>.*?Vous avez déjà', html, re.S)
    assert 'href="/partage#partages"' in html
    assert _count(app, pid) == LIMIT and _count(app, pid, live_only=False) == LIMIT + 2
    # said before the form is even filled in, as a page and as an htmx fragment
    assert _too_many(client.get("/partage/nouveau").get_data(as_text=True))
    fragment = client.get("/partage/nouveau", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _too_many(fragment) and "<html" not in fragment

    # ending one makes room again
    with app.app_context():
        one = db.session.scalar(
            select(Share.id)
            .where(Share.patient_id == pid, Share.revoked_at.is_(None), Share.expires_at > clock.utcnow())
            .limit(1)
        )
    token = csrf_token(client, "/partage")
    assert client.post(f"/partage/{one}/revoquer", data={"csrf_token": token}).status_code == 303
    assert not _too_many(client.get("/partage/nouveau").get_data(as_text=True))
    assert _post_share(client).status_code == 200 and _count(app, pid) == LIMIT


def test_parallel_creations_stop_exactly_at_the_cap(app, signed_in, make_share):
    client, account = signed_in
    for _ in range(LIMIT - 3):
        make_share(account.patient_id)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    csrf = csrf_token(client, "/partage")
    clients = []
    for _ in range(8):
        c = app.test_client()
        c.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
        clients.append(c)
    start = threading.Barrier(len(clients))
    statuses, errors = [], []

    def create(c):
        try:
            start.wait()
            statuses.append(_post_share(c, csrf=csrf).status_code)
        except Exception as exc:  # collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(statuses) == [200] * 3 + [422] * 5
    assert _count(app, account.patient_id) == LIMIT


def test_the_search_for_a_free_prefix_is_bounded(app, signed_in, make_share, monkeypatch):
    client, account = signed_in
    share_id, code, _ = make_share(account.patient_id)
    taken = code[:4]
    free = next(c for c in codes.ALPHABET * 4 if c != taken[0]) * 4
    calls = []

    def prefixes(first: str, then: str, after: int):
        def fake(groups=3, size=4):
            calls.append(1)
            if len(calls) > 1000:
                raise AssertionError("the search for a free prefix does not stop")
            return f"{first if len(calls) <= after else then}-2345-6789"

        return fake

    tries = getattr(grants, "PREFIX_TRIES", 20)
    with app.test_request_context(method="POST"):
        # a free prefix found at the last try: the share is made
        monkeypatch.setattr(codes, "activation_code", prefixes(taken, free, tries - 1))
        made, prefix, _ = grants.new_share_secrets()
        assert prefix == free and made.startswith(free) and len(calls) == tries
        # none free in all the tries: a clean error after exactly that many
        calls.clear()
        monkeypatch.setattr(codes, "activation_code", prefixes(taken, taken, tries))
        with pytest.raises(grants.NoFreePrefix):
            grants.new_share_secrets()
        assert len(calls) == tries
    # on the screen: a clear French sentence, nothing made
    calls.clear()
    r = _post_share(client)
    html = r.get_data(as_text=True)
    assert r.status_code == 503 and "Aucun code n’a pu être créé pour le moment. Réessayez dans un instant." in html
    assert 'role="alert"' in html and len(calls) == tries
    assert _count(app, account.patient_id, live_only=False) == 1


def test_the_blocks_screen_says_what_a_block_does_to_a_code_already_given(app, signed_in, make_share):
    client, account = signed_in
    sentence = (
        "Un blocage s’applique au numéro RPPS que le professionnel indique. Il n’arrête pas une personne "
        "qui détient un code déjà remis et indique un autre numéro\u00a0: pour arrêter un code, mettez fin "
        "à son partage."
    )
    page = client.get("/partage").get_data(as_text=True)
    assert sentence in page
    blocks = page[page.index('id="blocages"') :]
    assert blocks.index(sentence) < blocks.index('name="rpps"')  # beside the block form
    # the block form's own fragment (an htmx answer with an error) says it too
    r = client.post(
        "/partage/blocages",
        data={"rpps": "123", "csrf_token": csrf_token(client, "/partage")},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 422 and sentence in r.get_data(as_text=True)

    # and it is the truth: the block refuses the code with that RPPS, not with another number
    share_id, code, token = make_share(account.patient_id)
    blocked, other = "20202020202", "30303030303"
    assert (
        client.post(
            "/partage/blocages",
            data={"rpps": blocked, "name": "Paul Durand", "csrf_token": csrf_token(client, "/partage")},
        ).status_code
        == 303
    )
    assert use_code(app.test_client(), code, rpps=blocked).status_code == 422
    assert use_code(app.test_client(), token=token, rpps=blocked).status_code == 422
    r = use_code(app.test_client(), code, rpps=other)
    assert r.status_code == 303 and r.headers["Location"] == f"/pro/dossier/{share_id}"
    # ending the share is what stops the code
    assert (
        client.post(f"/partage/{share_id}/revoquer", data={"csrf_token": csrf_token(client, "/partage")}).status_code
        == 303
    )
    assert use_code(app.test_client(), code, rpps=other).status_code == 422
