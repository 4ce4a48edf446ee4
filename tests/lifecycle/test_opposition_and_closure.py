"""Opposition within 6 weeks, opening by default, closure, reopening, deletion timers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.auth import services as auth
from blueprints.lifecycle import services
from blueprints.lifecycle.models import Opposition, SpaceLife
from blueprints.lifecycle.provision import nir_hash
from core import audit, blobs, clock, notify
from core.access import viewer_for
from core.blobs import BlobKey
from core.db import Base, db
from core.grants import Share
from core.people import Account, Patient
from core.storage import StorageError
from tests.helpers import csrf_token, traces, use_code

BORN = date(1987, 3, 14)


def _oppose(client, account, code, **kw):
    data = {
        "nir": kw.get("nir", account.patient.nir),
        "birth_date": BORN.isoformat(),
        "code": code,
        "confirm": "y",
        "csrf_token": csrf_token(client, "/opposition"),
    }
    data.update(kw)
    return client.post("/opposition", data=data)


def _space_rows(app, patient_id: str) -> dict:
    """Rows naming the space in any table but the trail."""
    found = {}
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            if "patient_id" in table.c and table.name != "audit_events":
                n = db.session.scalar(select(func.count()).select_from(table).where(table.c.patient_id == patient_id))
                if n:
                    found[table.name] = n
        if db.session.get(Patient, patient_id) is not None:
            found["patients"] = 1
    return found


def test_an_objection_deletes_the_space_and_its_files_and_keeps_only_a_hash(
    app, client, make_holder, make_document, fresh_store
):
    account, code = make_holder(pending=True)
    pid, nir = account.patient_id, account.patient.nir
    doc = make_document(pid)  # a file already there (as a professional's deposit would be)
    with app.app_context():
        key = db.session.get(BlobKey, doc.blob_id)
        wrapped, sha = key.wrapped_key, key.sha256
    assert _space_rows(app, pid)

    sent = _oppose(client, account, code)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/opposition/recepisse")
    html = client.get("/opposition/recepisse").get_data(as_text=True)
    assert client.get("/opposition/recepisse").status_code == 302  # shown once
    assert "OPP-" in html
    assert _space_rows(app, pid) == {}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 0
        assert db.session.scalar(select(func.count()).select_from(BlobKey)) == 0
        with pytest.raises(StorageError):  # whatever copy of the file is left cannot be read
            blobs.store().open(doc.blob_id, wrapped, sha)
        opposition = db.session.scalar(select(Opposition))
        assert opposition.nir_hash == nir_hash(nir) and nir not in opposition.nir_hash
        assert opposition.receipt in html
        receipt = notify.latest_to(account.email)
        assert opposition.receipt in receipt.body
    opposed = traces(app, audit.Action.SPACE_OPPOSED)
    assert len(opposed) == 1 and opposed[0].patient_id == pid and nir not in str(opposed[0].detail)


def test_a_wrong_code_or_a_late_objection_deletes_nothing(app, client, make_holder):
    account, code = make_holder(pending=True)
    wrong = _oppose(client, account, "AAAA-BBBB-CCCC")
    assert wrong.status_code == 422 and "ne correspondent" in wrong.get_data(as_text=True)
    assert traces(app, audit.Action.OPPOSITION_FAILED)
    unconfirmed = _oppose(client, account, code, confirm="")
    assert unconfirmed.status_code == 422
    clock.advance(timedelta(weeks=6, days=1))
    late = _oppose(client, account, code)
    assert late.status_code == 422
    assert _space_rows(app, account.patient_id)


def test_an_activated_space_cannot_be_objected_to(app, client, make_holder):
    account, code = make_holder()  # activated with its code
    assert _oppose(client, account, code).status_code == 422
    assert _space_rows(app, account.patient_id)


def test_after_six_weeks_a_space_opens_by_default_and_can_still_be_activated(app, make_holder):
    account, _code = make_holder(pending=True)
    runner = app.test_cli_runner()
    assert "0 spaces were opened" in runner.invoke(args=["lifecycle", "run"]).output
    clock.advance(timedelta(weeks=6, hours=1))
    dry = runner.invoke(args=["lifecycle", "run", "--dry-run"])
    assert "1 spaces would be opened" in dry.output
    with app.app_context():
        assert db.session.get(Patient, account.patient_id).status == "pending"
    assert "1 spaces were opened" in runner.invoke(args=["lifecycle", "run"]).output
    assert "0 spaces were opened" in runner.invoke(args=["lifecycle", "run"]).output  # idempotent
    with app.test_request_context(method="POST"):
        patient = db.session.get(Patient, account.patient_id)
        assert patient.status == "active" and patient.activated_at is None
        auth.request_new_letter(patient.nir, BORN, "10.0.0.1")
        db.session.commit()
    assert len(traces(app, audit.Action.SPACE_OPENED_BY_DEFAULT)) == 1


def test_closing_ends_every_access_at_once(app, client, make_holder, make_share, login_as):
    account, _ = make_holder()
    share_id, code, _token = make_share(account.patient_id)
    pro = app.test_client()
    assert use_code(pro, code).status_code in (200, 303)
    assert pro.get(f"/pro/dossier/{share_id}").status_code == 200
    login_as(client, account)
    page = client.get("/mon-espace/fermer")
    assert page.status_code == 200 and "1 partage" in page.get_data(as_text=True)
    done = client.post(
        "/mon-espace/fermer", data={"when": "archive", "confirm": "y", "csrf_token": csrf_token(client, "/compte")}
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/espace-ferme")
    assert client.get("/compte").status_code == 302  # logged out
    gone = pro.get(f"/pro/dossier/{share_id}")
    assert gone.status_code in (302, 303) and "/pro/acces" in gone.headers["Location"]
    with app.app_context():
        patient = db.session.get(Patient, account.patient_id)
        life = db.session.get(SpaceLife, account.patient_id)
        assert patient.status == "closed" and not db.session.get(Account, account.id).active
        assert clock.aware(life.delete_after).year == clock.utcnow().year + 10
        assert db.session.get(Share, share_id).revoked_at is not None
    assert traces(app, audit.Action.SPACE_CLOSED)


def test_closing_needs_a_fresh_authentication(app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account, fresh=False)
    answer = client.get("/mon-espace/fermer")
    assert answer.status_code in (302, 303) and "/compte/confirmer" in answer.headers["Location"]


def _close(app, account, delete_now=False):
    with app.test_request_context(method="POST"):
        services.close(viewer_for(db.session.get(Account, account.id)), delete_now=delete_now)
        db.session.commit()


def test_a_closed_space_is_deleted_after_ten_years_or_at_once_on_request(app, make_holder, make_document, fresh_store):
    kept, _ = make_holder()
    asked, _ = make_holder()
    make_document(kept.patient_id)
    _close(app, kept)
    _close(app, asked, delete_now=True)
    runner = app.test_cli_runner()
    assert "1 closed spaces were deleted" in runner.invoke(args=["lifecycle", "run"]).output
    assert _space_rows(app, asked.patient_id) == {}
    assert _space_rows(app, kept.patient_id)
    clock.advance(timedelta(days=365 * 10 + 3))
    out = runner.invoke(args=["lifecycle", "run"]).output
    assert "1 closed spaces were deleted (1 files shredded)" in out
    assert _space_rows(app, kept.patient_id) == {}
    assert len(traces(app, audit.Action.SPACE_DELETED)) == 2


def test_a_closed_space_reopens_with_a_new_letter(app, make_holder):
    account, _ = make_holder()
    _close(app, account)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["lifecycle", "reopen", "--nir", account.patient.nir, "--birth-date", "1987-03-14"])
    assert "reopened" in out.output, out.output
    with app.app_context():
        patient = db.session.get(Patient, account.patient_id)
        acc = db.session.get(Account, account.id)
        assert patient.status == "pending" and acc.active and acc.password_hash is None
        assert "code" in notify.latest_to(account.email).body.lower()
    assert traces(app, audit.Action.SPACE_REOPENED)


def test_paper_objection_and_deletion_request_by_command(app, make_holder):
    pending, _ = make_holder(pending=True)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["lifecycle", "oppose", "--nir", pending.patient.nir, "--birth-date", "1987-03-14"])
    assert "Objection recorded" in out.output, out.output
    assert _space_rows(app, pending.patient_id) == {}
    active, _ = make_holder()
    refused = runner.invoke(args=["lifecycle", "delete", "--nir", active.patient.nir, "--birth-date", "1987-03-14"])
    assert refused.exit_code != 0  # only a closed space
    _close(app, active)
    ok = runner.invoke(args=["lifecycle", "delete", "--nir", active.patient.nir, "--birth-date", "1987-03-14"])
    assert ok.exit_code == 0
    runner.invoke(args=["lifecycle", "run"])
    assert _space_rows(app, active.patient_id) == {}


def test_objection_attempts_are_limited_per_connection(app, client, make_holder, monkeypatch):
    monkeypatch.setitem(app.config, "ACTIVATION_ATTEMPTS_PER_IP_HOUR", 2)
    account, code = make_holder(pending=True)
    assert _oppose(client, account, "AAAA-BBBB-CCCC").status_code == 422
    assert _oppose(client, account, "AAAA-BBBB-CCCD").status_code == 422
    limited = _oppose(client, account, code)  # even the right code waits once the limit is reached
    assert limited.status_code == 429 and "Trop de tentatives" in limited.get_data(as_text=True)
    assert _space_rows(app, account.patient_id)


def test_wrong_codes_block_the_letter_after_its_tries(app, client, make_holder):
    account, code = make_holder(pending=True)
    for _ in range(app.config["ACTIVATION_MAX_TRIES"]):
        _oppose(client, account, "AAAA-BBBB-CCCC")
    assert _oppose(client, account, code).status_code == 422  # the letter's code is blocked after its tries
    assert _space_rows(app, account.patient_id)
