"""The audit chain cannot be cut undetected (SECURITY.md, "Audit trail"): each trace is chained
by an HMAC under a key kept outside the database, and the chain's head is anchored outside the
database after every commit that appended traces. Someone who can write the database (and
nothing else) cannot delete the newest traces, nor delete one in the middle and re-chain the rest
(with plain SHA-256, or with an HMAC under another key), without `flask audit verify` failing
with a message that names the problem."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from app import create_app
from core import audit
from core.config import ConfigError
from core.db import db
from tests.helpers import csrf_token, statements

OTHER_KEY = secrets.token_bytes(32)


def _events(n, start=0):
    for i in range(start, start + n):
        audit.append(action="login", actor_type="holder", actor_name=f"Person {i}", detail={"i": i})
        db.session.commit()  # one commit per request, each anchored


def _ids():
    return db.session.scalars(select(audit.AuditEvent.id).order_by(audit.AuditEvent.id)).all()


def _anchor_lines(app) -> list[str]:
    path = Path(app.config["AUDIT_ANCHOR_FILE"])
    return path.read_text().splitlines() if path.exists() else []


def _rechain(digest, *, legacy: bool = False) -> None:
    """What someone who can write the database does after deleting traces: recompute every link
    and hash from the first trace on, with the hash function they have."""
    prev, seq = audit.GENESIS, 0
    for event in db.session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)).all():
        seq += 1
        event.prev_hash, event.seq = prev, None if legacy else seq
        event.hash = digest(audit._payload(event))
        prev = event.hash
    db.session.commit()


def _plain(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _hmac_other(payload: bytes) -> str:
    return hmac.new(OTHER_KEY, payload, hashlib.sha256).hexdigest()


def _cli(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


# --------------------------------------------------------------------------- intact


def test_intact_chain_reaches_every_anchor(app, ctx):
    _events(5)
    assert len(_anchor_lines(app)) == 5
    result = audit.verify()
    assert result.ok and result.count == 5 and result.anchors == 5
    out = _cli(app)
    assert out.exit_code == 0 and "intact: 5 events" in out.output and "5 anchored heads" in out.output


def test_each_event_is_keyed(app, ctx):
    """The stored hash is the HMAC under the audit key, not a plain SHA-256 anyone can recompute."""
    _events(2)
    event = db.session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)).all()[-1]
    payload = audit._payload(event)
    assert event.seq == 2
    assert event.hash == hmac.new(app.config["AUDIT_KEY"], payload, hashlib.sha256).hexdigest()
    assert event.hash != hashlib.sha256(payload).hexdigest()


# --------------------------------------------------------------------------- truncation


def test_deleting_the_newest_traces_is_detected(app, ctx):
    _events(6)
    ids = _ids()
    db.session.execute(delete(audit.AuditEvent).where(audit.AuditEvent.id.in_(ids[-2:])))
    db.session.commit()
    result = audit.verify()
    assert not result.ok and result.reason == "truncated"
    assert result.anchor.count == 6 and result.anchor.last_id == ids[-1] and result.count == 4
    out = _cli(app)
    assert out.exit_code == 1
    assert "TRUNCATED" in out.output and "newest traces were deleted" in out.output
    assert f"6 events up to event #{ids[-1]}" in out.output and f"after 4 events at #{ids[-3]}" in out.output


def test_deleting_every_trace_is_detected(app, ctx):
    _events(3)
    db.session.execute(delete(audit.AuditEvent))
    db.session.commit()
    result = audit.verify()
    assert not result.ok and result.reason == "truncated" and result.count == 0


def test_truncation_stays_detected_after_new_traces(app, ctx):
    """New traces chained onto the cut head: the older anchor still records what was cut."""
    _events(5)
    ids = _ids()
    db.session.execute(delete(audit.AuditEvent).where(audit.AuditEvent.id.in_(ids[-2:])))
    db.session.commit()
    _events(4, start=10)
    result = audit.verify()
    assert not result.ok
    out = _cli(app)
    assert out.exit_code == 1
    if result.reason == "missing":  # PostgreSQL: the new traces have new ids
        assert result.anchor.last_id == ids[-1] and f"BROKEN at event #{ids[-1]} (missing)" in out.output
    else:  # SQLite gives the cut ids again: two anchors disagree on the first of them
        assert result.reason == "anchor" and result.broken_id == ids[-2]
        assert f"BROKEN at event #{ids[-2]} (anchor)" in out.output and "cut back" in out.output


# --------------------------------------------------------------------------- deletion in the middle


def test_middle_deletion_rechained_with_plain_sha256_is_detected(app, ctx):
    _events(5)
    ids = _ids()
    db.session.execute(delete(audit.AuditEvent).where(audit.AuditEvent.id == ids[2]))
    db.session.commit()
    _rechain(_plain)
    result = audit.verify()
    assert not result.ok and result.reason == "content" and result.broken_id == ids[0]
    out = _cli(app)
    assert out.exit_code == 1 and f"BROKEN at event #{ids[0]}" in out.output and "HMAC" in out.output


def test_middle_deletion_rechained_as_unkeyed_traces_is_detected(app, ctx):
    """Passing the whole trail off as traces from before the key: the anchors say otherwise."""
    _events(5)
    ids = _ids()
    db.session.execute(delete(audit.AuditEvent).where(audit.AuditEvent.id == ids[2]))
    db.session.commit()
    _rechain(_plain, legacy=True)
    result = audit.verify()
    assert not result.ok and result.reason == "anchor" and result.broken_id == ids[0]
    out = _cli(app)
    assert out.exit_code == 1 and "(anchor)" in out.output and "rewritten" in out.output


def test_middle_deletion_rechained_with_another_key_is_detected(app, ctx):
    _events(5)
    ids = _ids()
    db.session.execute(delete(audit.AuditEvent).where(audit.AuditEvent.id == ids[2]))
    db.session.commit()
    _rechain(_hmac_other)
    result = audit.verify()
    assert not result.ok and result.reason == "content" and result.broken_id == ids[0]
    assert _cli(app).exit_code == 1


def test_middle_deletion_without_rechaining_names_the_link(app, ctx):
    _events(4)
    ids = _ids()
    db.session.execute(delete(audit.AuditEvent).where(audit.AuditEvent.id == ids[1]))
    db.session.commit()
    result = audit.verify()
    assert not result.ok and result.reason == "link" and result.broken_id == ids[2]


def test_keyed_event_turned_unkeyed_is_detected(app, ctx):
    _events(3)
    last = db.session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)).all()[-1]
    last.seq = None
    last.hash = _plain(audit._payload(last))
    db.session.commit()
    result = audit.verify()
    assert not result.ok and result.reason == "unkeyed" and result.broken_id == last.id


# --------------------------------------------------------------------------- the key


def test_wrong_key_at_verify_is_named(app, ctx):
    _events(3)
    result = audit.verify(key=OTHER_KEY)
    assert not result.ok and result.reason == "key"
    assert result.detail["key_id"] == audit.key_id(app.config["AUDIT_KEY"])
    kept = app.config["AUDIT_KEY"]
    app.config["AUDIT_KEY"] = OTHER_KEY
    try:
        out = _cli(app)
    finally:
        app.config["AUDIT_KEY"] = kept
    assert out.exit_code == 1 and "WRONG AUDIT KEY" in out.output and "CARNET_AUDIT_KEY" in out.output
    assert audit.verify().ok  # the right key still verifies


def test_wrong_key_without_anchors_fails_on_the_first_event(app, ctx):
    _events(2)
    os.remove(app.config["AUDIT_ANCHOR_FILE"])
    result = audit.verify(key=OTHER_KEY)
    assert not result.ok and result.reason == "content" and result.count == 0


# --------------------------------------------------------------------------- the anchor file


def test_deleted_anchor_file_is_detected(app, ctx):
    _events(3)
    os.remove(app.config["AUDIT_ANCHOR_FILE"])
    result = audit.verify()
    assert not result.ok and result.reason == "no_anchor"
    out = _cli(app)
    assert out.exit_code == 1 and "NOT ANCHORED" in out.output


def test_altered_anchor_line_is_detected(app, ctx):
    _events(3)
    path = Path(app.config["AUDIT_ANCHOR_FILE"])
    lines = path.read_text().splitlines()
    parts = lines[-1].split(" ")
    parts[2] = "2"  # "the chain had 2 events then", to hide the third one's deletion
    lines[-1] = " ".join(parts)
    path.write_text("\n".join(lines) + "\n")
    result = audit.verify()
    assert not result.ok and result.reason == "anchor_line" and result.detail["line"] == 3
    assert "ALTERED" in _cli(app).output


def test_a_torn_last_line_is_ignored(app, ctx):
    """A crash in the middle of an anchor's write leaves a line without its end: never fsynced,
    never trusted, never an alarm."""
    _events(2)
    with open(app.config["AUDIT_ANCHOR_FILE"], "a") as fh:
        fh.write("a1 2026-12-02T10:00:00")
    result = audit.verify()
    assert result.ok and result.anchors == 2


def test_anchor_file_is_private(app, ctx):
    _events(1)
    mode = os.stat(app.config["AUDIT_ANCHOR_FILE"]).st_mode & 0o777
    assert mode == 0o600


def test_one_anchor_per_committing_request(app, client):
    """A request that appended traces anchors once, after its commit; one that appended none
    anchors nothing; a rolled-back transaction anchors nothing."""
    token = csrf_token(client)
    assert _anchor_lines(app) == []
    r = client.post(
        "/connexion", data={"email": "nobody@example.fr", "password": "wrong password", "csrf_token": token}
    )
    assert r.status_code == 422
    lines = _anchor_lines(app)
    assert len(lines) == 1
    client.get("/connexion")
    assert len(_anchor_lines(app)) == 1
    with app.test_request_context(method="POST"):
        audit.append(action="login", actor_type="holder")
        db.session.rollback()
        assert len(_anchor_lines(app)) == 1
        last = db.session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id.desc())).first()
        _v, _at, count, last_id, head, _kid, _mac = lines[0].split(" ")
        assert (int(count), int(last_id), head) == (last.seq, last.id, last.hash)
        assert audit.verify().ok


def test_a_savepoint_rolled_back_takes_its_traces_out_of_the_anchor(app, ctx):
    """A trace written in a savepoint that is rolled back (with one of its own savepoints) is gone
    from the database: the anchor written at the commit names the last trace that stayed."""
    kept = audit.append(action="login", actor_type="holder", actor_name="Kept")
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            audit.append(action="login", actor_type="holder", actor_name="Dropped")
            with db.session.begin_nested():
                audit.append(action="login", actor_type="holder", actor_name="Dropped inside")
            raise RuntimeError("the caller gives up")
    with db.session.begin_nested():
        inner = audit.append(action="logout", actor_type="holder", actor_name="Kept in a savepoint")
    db.session.commit()
    names = db.session.scalars(select(audit.AuditEvent.actor_name).order_by(audit.AuditEvent.id)).all()
    assert names == ["Kept", "Kept in a savepoint"]
    _v, _at, count, last_id, head, _kid, _mac = _anchor_lines(app)[-1].split(" ")
    assert (int(count), int(last_id), head) == (inner.seq, inner.id, inner.hash) and kept.seq == 1
    assert audit.verify().ok


def test_a_trace_is_one_insert_of_its_own(app, ctx):
    """A trace is written by one INSERT built once (docs/performance.md, 81), in the session's
    transaction: the ORM's unit of work is not run for it, and it is rolled back with the rest."""
    with statements(db.engine) as seen:
        audit.append(action="login", actor_type="holder", actor_name="One")
        db.session.commit()
    assert not [s for s in seen if "INSERT INTO audit_events" in s]  # run on the driver, not through the ORM
    audit.append(action="login", actor_type="holder", actor_name="Two")
    db.session.rollback()
    assert db.session.scalars(select(audit.AuditEvent.actor_name)).all() == ["One"]
    assert len(_anchor_lines(app)) == 1 and audit.verify().ok


# --------------------------------------------------------------------------- traces from before the key


def _legacy(n):
    """Traces as the code before the key wrote them: no position, plain SHA-256, no anchor."""
    prev = db.session.scalar(select(audit.AuditEvent.hash).order_by(audit.AuditEvent.id.desc()).limit(1))
    prev = prev or audit.GENESIS
    for i in range(n):
        event = audit.AuditEvent(
            at=audit.clock.utcnow(),
            actor_type="holder",
            action="login",
            actor_name=f"Before {i}",
            detail={},
            prev_hash=prev,
            seq=None,
        )
        event.hash = _plain(audit._payload(event))
        db.session.add(event)
        db.session.flush()
        prev = event.hash
    db.session.commit()


def test_traces_from_before_the_key_are_sealed_by_the_first_keyed_one(app, ctx):
    _legacy(3)
    assert audit.verify().ok and audit.verify().unkeyed == 3  # not sealed yet: nothing to anchor
    _events(2)
    first_keyed = db.session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.seq.is_not(None)).order_by(audit.AuditEvent.id)
    ).first()
    assert first_keyed.seq == 4  # the count of the unkeyed traces, under the key
    result = audit.verify()
    assert result.ok and result.count == 5 and result.unkeyed == 3
    assert "3 of them from before the audit key" in _cli(app).output


def test_rewriting_a_trace_from_before_the_key_is_detected(app, ctx):
    _legacy(3)
    _events(2)
    ids = _ids()
    db.session.execute(delete(audit.AuditEvent).where(audit.AuditEvent.id == ids[1]))
    db.session.commit()
    # Re-chain the unkeyed part with plain SHA-256, as anyone can.
    prev = audit.GENESIS
    for event in db.session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.seq.is_(None)).order_by(audit.AuditEvent.id)
    ).all():
        event.prev_hash = prev
        event.hash = _plain(audit._payload(event))
        prev = event.hash
    db.session.commit()
    result = audit.verify()
    assert not result.ok and result.reason == "link" and result.broken_id == ids[3]


def test_changed_content_is_named(app, ctx):
    _events(4)
    ids = _ids()
    db.session.execute(update(audit.AuditEvent).where(audit.AuditEvent.id == ids[2]).values(actor_name="X"))
    db.session.commit()
    result = audit.verify()
    assert not result.ok and result.reason == "content" and result.broken_id == ids[2] and result.count == 2


# --------------------------------------------------------------------------- configuration


def test_production_needs_an_audit_key(tmp_path, monkeypatch):

    for key in list(os.environ):
        if key.startswith("CARNET_"):
            monkeypatch.delenv(key)
    base = {
        "ENV_NAME": "production",
        "SECRET_KEY": "s" * 48,
        "CODE_PEPPER": "p" * 48,
        "WEBAUTHN_ORIGIN": "https://carnet.example",
        "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
    }
    with pytest.raises(ConfigError, match="audit key"):
        create_app(base, instance_path=str(tmp_path))
    assert not (tmp_path / "keys" / "audit.key").exists()
    with pytest.raises(ConfigError, match="audit key"):
        create_app({**base, "AUDIT_KEY": "too-short"}, instance_path=str(tmp_path))
    key = secrets.token_urlsafe(32)
    monkeypatch.setenv("CARNET_AUDIT_KEY", key)
    ok = create_app(base, instance_path=str(tmp_path))
    assert ok.config["AUDIT_KEY"] == audit_key_bytes(key)


def test_development_generates_a_private_audit_key(tmp_path, monkeypatch):

    monkeypatch.delenv("CARNET_AUDIT_KEY", raising=False)
    a = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/d.db"}, instance_path=str(tmp_path))
    b = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/d.db"}, instance_path=str(tmp_path))
    assert a.config["AUDIT_KEY"] == b.config["AUDIT_KEY"] and len(a.config["AUDIT_KEY"]) == 32
    assert oct((tmp_path / "keys" / "audit.key").stat().st_mode)[-3:] == "600"
    assert a.config["AUDIT_ANCHOR_FILE"] == str(tmp_path / "audit" / "anchor.log")


def audit_key_bytes(text: str) -> bytes:

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
