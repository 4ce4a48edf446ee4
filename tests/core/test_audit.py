from sqlalchemy import select, update

from core import audit
from core.db import db


def _events(n):
    for i in range(n):
        audit.append(action="login", actor_type="holder", actor_name=f"Person {i}", detail={"i": i})
    db.session.commit()


def test_chain_verifies(ctx):
    _events(5)
    result = audit.verify()
    assert result.ok and result.count == 5


def test_changed_content_is_named(ctx):
    _events(4)
    third = db.session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)).all()[2]
    db.session.execute(
        update(audit.AuditEvent).where(audit.AuditEvent.id == third.id).values(actor_name="Someone else")
    )
    db.session.commit()
    result = audit.verify()
    assert not result.ok and result.broken_id == third.id and result.reason == "content" and result.count == 2


def test_deleted_event_breaks_the_link(ctx):
    _events(4)
    ids = db.session.scalars(select(audit.AuditEvent.id).order_by(audit.AuditEvent.id)).all()
    db.session.execute(audit.AuditEvent.__table__.delete().where(audit.AuditEvent.id == ids[1]))
    db.session.commit()
    result = audit.verify()
    assert not result.ok and result.broken_id == ids[2] and result.reason == "link"


def test_verify_command(app, ctx):
    _events(3)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "3 events" in ok.output
    db.session.execute(
        update(audit.AuditEvent)
        .where(
            audit.AuditEvent.id
            == db.session.scalar(select(audit.AuditEvent.id).order_by(audit.AuditEvent.id.desc()).limit(1))
        )
        .values(action="nothing")
    )
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN" in broken.output
