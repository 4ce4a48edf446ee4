"""Concurrent readers and writers: no "database is locked" reaches anyone, and the audit
chain never forks."""

import threading

from sqlalchemy import func, select

from core import audit
from core.db import db
from tests.helpers import csrf_token


def test_parallel_reads_and_writes(app, make_holder, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_BACKOFF_AFTER", 100)  # 12 failures each: no delays here
    n_threads, rounds = 4, 12
    holders = [make_holder()[0] for _ in range(n_threads)]
    errors, statuses = [], []

    def worker(i):
        client = app.test_client()
        try:
            if i % 2 == 0:
                login_as(client, holders[i])
            token = csrf_token(client, "/" if i % 2 == 0 else "/connexion")
            for _ in range(rounds):
                if i % 2 == 0:
                    statuses.append(client.get("/").status_code)
                else:
                    r = client.post(
                        "/connexion",
                        data={"email": f"nobody{i}@example.fr", "password": "wrong password", "csrf_token": token},
                    )
                    statuses.append(r.status_code)
        except Exception as exc:  # collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(statuses) <= {200, 422}, statuses
    assert statuses.count(422) == (n_threads // 2) * rounds
    with app.app_context():
        failed = db.session.scalar(
            select(func.count()).select_from(audit.AuditEvent).where(audit.AuditEvent.action == "login_failed")
        )
        assert failed == (n_threads // 2) * rounds
        assert audit.verify().ok
