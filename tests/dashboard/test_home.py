"""The home screen: the figures of its cards, read through statements built once."""

from datetime import timedelta

import pytest
from flask import g

from blueprints.agenda import appointments
from blueprints.history import services as history
from blueprints.measures import kinds
from blueprints.measures.models import Measure
from blueprints.messaging import services as messaging
from blueprints.sharing import notices
from core import clock
from core.access import viewer_for
from core.audit import AuditEvent
from core.compiled import Fixed
from core.db import db
from core.grants import EmergencyAccess, Grant, Share
from core.notify import Notification
from tests.helpers import statements


def test_home_shows_this_holders_figures_only(app, client, make_holder, login_as):
    """Statements are built once and shared: each holder still sees only their own space."""
    first, _ = make_holder(given_names="Aurore")
    second, _ = make_holder(given_names="Bastien")
    login_as(client, first)
    other = login_as(app.test_client(), second)
    other.get("/")  # builds and caches the statements with the other holder
    page = client.get("/").get_data(as_text=True)
    assert "Aurore" in page and "Bastien" not in page
    assert "1 session active" in page or "1 active session" in page


def test_active_sessions_leave_the_count_when_idle(app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account)
    clock.advance(timedelta(minutes=10))
    second = login_as(app.test_client(), account)
    page = second.get("/").get_data(as_text=True)
    assert "2 sessions actives" in page or "2 active sessions" in page
    clock.advance(timedelta(minutes=6))  # the first one is 16 minutes idle now
    page = second.get("/").get_data(as_text=True)
    assert "1 session active" in page or "1 active session" in page


def test_previous_login_is_the_one_before_this_session(app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account)
    assert "first login" in client.get("/").get_data(as_text=True) or "première connexion" in client.get("/").get_data(
        as_text=True
    )
    clock.advance(timedelta(days=3))
    again = login_as(app.test_client(), account)
    page = again.get("/").get_data(as_text=True)
    assert "first login" not in page and "première connexion" not in page


def test_every_visit_builds_the_page_afresh(app, client, make_holder, login):
    """No response cache: a value written a second ago (here without any trace, as a
    background import writes between its start and end traces) shows on the next visit."""

    account, _ = make_holder()
    login(client, account)
    assert "72,4" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        weight = kinds.get("weight")
        db.session.add(
            Measure(
                patient_id=account.patient_id,
                kind="weight",
                taken_at=int(clock.utcnow().timestamp()),
                utc_offset=60,
                value=72.4,
                source="apple",
                dedup=kinds.dedup_key(weight, 72.4, None, None),
            )
        )
        db.session.commit()
    assert "72,4" in client.get("/").get_data(as_text=True)


def _notice(patient_id, actor, minutes_ago, alarm=False, read=False, grant_id=None):

    at = clock.utcnow() - timedelta(minutes=minutes_ago)
    db.session.add(
        Notification(
            patient_id=patient_id,
            kind="emergency" if alarm else "access",
            actor_name=actor,
            grant_id=grant_id,
            detail={"identity": "verified", "grants": [grant_id] if grant_id else []},
            created_at=at,
            alarm=alarm,
            read_at=at if read else None,
        )
    )
    db.session.commit()


def test_notice_card_one_statement_alarm_first_and_this_space_only(app, make_holder):
    """The card's statement is shared by every holder: an unread alarm still comes before a
    newer routine visit, and another space's cards are neither counted nor shown."""

    first, _ = make_holder()
    second, _ = make_holder()
    with app.test_request_context(method="POST"):
        _notice(first.patient_id, "Dr Alarme", 60, alarm=True)
        _notice(first.patient_id, "Dr Routine", 5)
        _notice(first.patient_id, "Dr Lu", 1, read=True)
        _notice(second.patient_id, "Dr Ailleurs", 0, alarm=True)
        _notice(second.patient_id, "Dr Ailleurs", 0)
        _notice(second.patient_id, "Dr Ailleurs", 0)
        viewer, other = viewer_for(db.session.merge(first)), viewer_for(db.session.merge(second))
        assert notices.latest(other)[0] == 3  # builds and caches the statement with the other holder
        unread, shown = notices.latest(viewer)
        assert unread == 2 and shown.actor == "Dr Alarme" and shown.alarm
        _notice(first.patient_id, "Dr Plus Tard", 0, read=True)  # nothing new: the newest card
        db.session.execute(
            notices.update(notices.Notification)
            .where(notices.Notification.patient_id == first.patient_id)
            .values(read_at=clock.utcnow())
        )
        assert notices.latest(viewer)[0] == 0 and notices.latest(viewer)[1].actor == "Dr Plus Tard"


def test_access_words_of_this_space_only(app, make_holder, make_share):
    """The words of shares, grants and emergency accesses come from one statement shared by
    every holder: another space's share reads as a shared access, never by its label."""

    first, _ = make_holder()
    second, _ = make_holder()
    mine, _, _ = make_share(first, label="Dr Moi")
    theirs, _, _ = make_share(second, label="Dr Autre")
    with app.test_request_context(method="POST"):
        viewer, other = viewer_for(db.session.merge(first)), viewer_for(db.session.merge(second))
        assert "Dr Autre" in history.access_words(other, {theirs})[theirs]
        words = history.access_words(viewer, {mine, theirs})
        assert "Dr Moi" in words[mine] and "Dr Autre" not in words[theirs]
        assert words[theirs] == history.access_words(viewer, {"unknown"})["unknown"]


def test_home_statements_do_not_grow_with_the_space(app, client, make_holder, make_share, login_as, monkeypatch):
    """Each card is one statement (rows, not objects): more traces, shares and notifications
    make no more queries per home visit, whether SQLAlchemy runs them or compiled.Fixed does."""

    fixed = []
    real = Fixed._execute
    monkeypatch.setattr(Fixed, "_execute", lambda self, params: fixed.append(self) or real(self, params))

    account, _ = make_holder()
    login_as(client, account)
    with app.app_context():
        engine = db.engine

    def home_statements() -> int:
        fixed.clear()
        with statements(engine) as seen:
            assert client.get("/").status_code == 200
        return len(seen) + len(fixed)

    share, _, _ = make_share(account, label="Dr Un")
    with app.test_request_context(method="POST"):
        _notice(account.patient_id, "Dr Un", 5, grant_id=share)
    client.get("/")
    few = home_statements()
    for n in range(4):
        other, _, _ = make_share(account, label=f"Dr {n}")
        with app.test_request_context(method="POST"):
            _notice(account.patient_id, f"Dr {n}", n, alarm=n == 0, grant_id=other)
    # one per card (the agenda's and the messages' included), and the header's switch between
    # spaces, read on every page so that an ended guardianship shows at once
    assert home_statements() == few <= 11


def test_statements_built_per_kind_read_tables_the_gate_filters_by_patient_only():
    """The home's statements are built once per kind of viewer: right only while the gate
    filters these tables by patient alone (no hidden records, no categories to narrow)."""

    for model in (Notification, AuditEvent, Share, Grant, EmergencyAccess):
        columns = model.__table__.c
        assert "patient_id" in columns and "hidden" not in columns and "category" not in columns, model


def test_messages_and_agenda_cards_shared_statements_this_space_only(app, make_holder, make_pro):
    """The messages and agenda cards are statements built once for every holder: each holder
    still sees their own latest conversation, unread count and next appointments only."""

    first, _ = make_holder()
    second, _ = make_holder()
    pro = make_pro()
    soon = clock.utcnow() + timedelta(days=2)
    with app.test_request_context(method="POST"):
        doctor = viewer_for(db.session.merge(pro))
        for patient_id, subject in ((first.patient_id, "Vos résultats"), (second.patient_id, "Autre espace")):
            db.session.add(Grant(patient_id=patient_id, professional_id=pro.professional_id))
            db.session.flush()
            messaging.start_thread(doctor, patient_id, subject=subject, body="Bonjour.")
        mine, theirs = viewer_for(db.session.merge(first)), viewer_for(db.session.merge(second))
        for viewer, name in ((theirs, "Dr Ailleurs"), (mine, "Dr Ici")):
            appointments.add(
                viewer, with_name=name, starts_at=soon, duration=30, place="", reason="", notes="", reminder=None
            )
        db.session.commit()
        assert messaging.summary(theirs)["latest"]["subject"] == "Autre espace"  # builds the shared statements
        assert [r.with_name for r in appointments.upcoming(theirs, 3)] == ["Dr Ailleurs"]
        g.pop("messaging_unread")  # the navigation's count is kept per request: this is another holder
        card = messaging.summary(mine)
        assert card["unread"] == 1 and card["latest"]["subject"] == "Vos résultats"
        assert "Hélène Bernard" in card["latest"]["with"] and card["latest"]["with_detail"]
        assert [r.with_name for r in appointments.upcoming(mine, 3)] == ["Dr Ici"]


@pytest.mark.sqlite_only
def test_messages_card_seeks_the_newest_conversation_never_reads_them_all(app):
    """The card's statement is the newest conversation by index (LIMIT 1, no window over the
    space's threads: it read all 2,000 of a busy space, 10 ms per home visit); its unread count
    is the poll's, over the covering index of unread threads."""

    with app.app_context():
        statement = messaging._holder_summary_statement().statement
        assert "over" not in str(statement).lower()
        compiled = statement.compile(dialect=db.engine.dialect)
        params = compiled.construct_params({"patient_id": "x"})
        with db.engine.connect() as conn:
            raw = conn.connection.driver_connection
            plan = " | ".join(
                row[3]
                for row in raw.execute(
                    "EXPLAIN QUERY PLAN " + compiled.string, [params[n] for n in compiled.positiontup]
                )
            )
            unread = messaging._unread_statement("holder").statement.compile(dialect=db.engine.dialect)
            values = unread.construct_params({"patient_id": "x"})
            unread_plan = " | ".join(
                row[3]
                for row in raw.execute("EXPLAIN QUERY PLAN " + unread.string, [values[n] for n in unread.positiontup])
            )
    assert "SEARCH message_threads USING INDEX ix_message_threads_patient" in plan, plan
    assert "SCAN message_threads" not in plan, plan
    assert "COVERING INDEX ix_message_threads_holder_unread" in unread_plan, unread_plan


def test_every_compiled_statement_of_the_home_reads_what_sqlalchemy_reads(
    app, client, make_holder, make_pro, make_share, make_document, make_measure, login_as, monkeypatch
):
    """compiled.Fixed runs the home's statements on the driver's cursor (docs/performance.md, 12 and
    15): on a space where every card has something to show, each one, with the parameters the
    visit gave it, returns the rows and value types SQLAlchemy's own execution returns."""

    account, _ = make_holder()
    make_document(account.patient_id)
    make_measure(account.patient_id)
    share, _, _ = make_share(account, label="Dr Un")
    with app.test_request_context(method="POST"):
        _notice(account.patient_id, "Dr Un", 5, grant_id=share)
        _notice(account.patient_id, "Urgences", 2, alarm=True)
        appointments.add(
            viewer_for(db.session.merge(account)),
            with_name="Dr Ici",
            starts_at=clock.utcnow() + timedelta(days=2),
            duration=30,
            place="Cabinet",
            reason="",
            notes="",
            reminder=None,
        )
        db.session.commit()
    login_as(client, account)
    ran = []
    real = Fixed._execute
    monkeypatch.setattr(Fixed, "_execute", lambda self, params: ran.append((self, dict(params))) or real(self, params))
    page = client.get("/").get_data(as_text=True)
    assert "Dr Ici" in page and "Urgences" in page
    monkeypatch.undo()
    ran = [(f, params) for f, params in ran if f.statement.is_select]  # not the session's own UPDATE
    assert len({id(f) for f, _ in ran}) >= 6
    with app.test_request_context(method="POST"):
        for statement, params in ran:
            fixed = statement.all(params)
            plain = db.session.connection().execute(statement.statement, params).all()
            assert [tuple(r) for r in fixed] == [tuple(r) for r in plain], statement.statement
            assert [[type(v) for v in r] for r in fixed] == [[type(v) for v in r] for r in plain]
            assert [r._fields for r in fixed[:1]] == [tuple(r._fields) for r in plain[:1]]
