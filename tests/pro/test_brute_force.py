"""Share-code guessing under load: 1,000 wrong codes sent at once by 20 browsers from 10 addresses.

Counters must be exact (per share, per address, overall), the share locks at its limit, the
right code is refused afterwards, and every refusal is the same page. Runs on the database the
suite runs on (SQLite by default, PostgreSQL with TEST_DATABASE_URL): nothing here is skipped.
"""
from __future__ import annotations

import secrets
import threading

from sqlalchemy import select

from core import grants, throttle
from core.db import db
from tests.pro.conftest import form_token, strip_variable, use_code

THREADS, EACH, ADDRESSES = 20, 50, 10
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32


def _wrong(code: str) -> str:
    while True:
        secret = "".join(secrets.choice(ALPHABET) for _ in range(8))
        guess = f"{code[:4]}-{secret[:4]}-{secret[4:]}"
        if guess != code:
            return guess


def test_a_thousand_parallel_wrong_codes(app, space, make_share):
    share_id, code, _ = make_share(space["patient_id"])
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
        for c in db.session.scalars(select(throttle.Counter)):   # a run across the hour spans two windows
            counts[(c.scope, c.key)] = counts.get((c.scope, c.key), 0) + c.n
    assert counts[("share_all", throttle._key("*"))] == 1000
    for n in range(ADDRESSES):
        assert counts[("share_ip", throttle._key(f"10.7.{n}.1"))] == THREADS * EACH // ADDRESSES

    late = app.test_client()
    late.environ_base["REMOTE_ADDR"] = "10.8.0.1"  # an address with no attempt yet
    right = use_code(late, code, htmx=True)
    answers.append((right.status_code, strip_variable(right.get_data(as_text=True))))
    assert {status for status, _ in answers} == {422}
    assert len({body for _, body in answers}) == 1
