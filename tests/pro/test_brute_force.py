"""Share-code guessing under load: 1,000 wrong codes sent at once by 20 browsers from 10 addresses.

Counters must be exact (per share, per address, overall), typing the share's code locks at its
limit (the right code typed afterwards is refused), every refusal is the same page, the holder
is told exactly once, and neither the lock nor the thousand refusals keep out the share's link
or another share's right code. Runs on the database the suite runs on (SQLite by default,
PostgreSQL with TEST_DATABASE_URL): nothing here is skipped.
"""

from __future__ import annotations

import secrets
import threading

from sqlalchemy import select

from core import grants, throttle
from core.db import db
from core.notify import Notification
from tests.helpers import form_token, strip_variable, use_code

THREADS, EACH, ADDRESSES = 20, 50, 10
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32


def _wrong(code: str) -> str:
    while True:
        secret = "".join(secrets.choice(ALPHABET) for _ in range(8))
        guess = f"{code[:4]}-{secret[:4]}-{secret[4:]}"
        if guess != code:
            return guess


def test_a_thousand_parallel_wrong_codes(app, space, make_share):
    share_id, code, token = make_share(space["patient_id"])
    other_id, other_code, _ = make_share(space["patient_id"], label="Pharmacie")
    clients = []
    for i in range(THREADS):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.7.{i % ADDRESSES}.1"
        clients.append((client, form_token(client)))
    start = threading.Barrier(THREADS)
    answers, errors = [], []

    def guess(client, csrf):
        try:
            start.wait()
            for _ in range(EACH):
                r = use_code(client, _wrong(code), csrf=csrf, htmx=True)
                answers.append((r.status_code, strip_variable(r.get_data(as_text=True))))
        except Exception as exc:  # collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=guess, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(answers) == THREADS * EACH == 1000

    with app.app_context():
        share = db.session.get(grants.Share, share_id)
        assert share.failed_attempts == grants.SHARE_MAX_FAILURES and share.locked_at is not None
        counts: dict = {}
        for c in db.session.scalars(select(throttle.Counter)):  # a run across the hour spans two windows
            counts[(c.scope, c.key)] = counts.get((c.scope, c.key), 0) + c.n
    assert counts[(grants.REFUSED_SCOPE, throttle._key("*"))] == 1000
    for n in range(ADDRESSES):
        assert counts[("share_ip", throttle._key(f"10.7.{n}.1"))] == THREADS * EACH // ADDRESSES
    with app.app_context():
        locked_notes = db.session.scalars(select(Notification).where(Notification.kind == "code_locked")).all()
        assert [n.grant_id for n in locked_notes] == [share_id]  # told once, however many raced

    late = app.test_client()
    late.environ_base["REMOTE_ADDR"] = "10.8.0.1"  # an address with no attempt yet
    right = use_code(late, code, htmx=True)  # typing this share's code is locked: the same refusal
    answers.append((right.status_code, strip_variable(right.get_data(as_text=True))))
    assert {status for status, _ in answers} == {422}
    assert len({body for _, body in answers}) == 1
    # a thousand refusals close nothing for anyone else: another share's right code opens it,
    assert use_code(late, other_code, htmx=True).status_code == 204
    # and the locked share's own link still opens it
    link = app.test_client()
    link.environ_base["REMOTE_ADDR"] = "10.7.0.1"  # even from an address over its cap
    r = use_code(link, token=token)
    assert r.status_code == 303 and r.headers["Location"] == f"/pro/dossier/{share_id}"
