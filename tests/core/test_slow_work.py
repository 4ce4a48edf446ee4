"""core.db.before_slow_work: slow work (rendering a PDF's pages) holds no write transaction, and
never splits a unit of work that already wrote."""

from sqlalchemy import select, update

from core.db import before_slow_work, db
from core.people import Account


def test_a_transaction_that_only_read_is_ended(app, make_holder):
    account, _ = make_holder()
    with app.test_request_context(method="POST"):
        assert db.session.scalar(select(Account.email).where(Account.id == account.id))
        assert db.session().in_transaction()
        assert before_slow_work() is True
        assert not db.session().in_transaction()


def test_a_transaction_that_wrote_is_kept_whole(app, make_holder):
    account, _ = make_holder()
    with app.test_request_context(method="POST"):
        db.session.execute(update(Account).where(Account.id == account.id).values(locale="en"))
        assert before_slow_work() is False and db.session().in_transaction()
        db.session.rollback()
    with app.test_request_context(method="POST"):
        row = db.session.get(Account, account.id)
        assert row.locale != "en"  # nothing was committed half-way
        row.locale = "en"
        db.session.flush()
        assert before_slow_work() is False and db.session().in_transaction()
        db.session.rollback()
