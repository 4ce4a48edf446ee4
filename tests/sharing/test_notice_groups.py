"""Notifications grouped by person and day, saying what happened, as the holder chose to be
told; an emergency access and someone new are always told, in Carnet and by mail."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest

from blueprints.documents import services as documents
from blueprints.documents.models import Document
from blueprints.pro import services
from blueprints.sharing import notices
from core import access, clock, grants, notify
from core.access import holder_viewer
from core.db import db
from core.notify import Notification, NotificationPreferences
from core.people import Account
from tests.helpers import rows, token_of, traces

MORNING = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)  # 8:30 in Paris


@pytest.fixture
def morning(app):
    clock.freeze(MORNING)
    yield


def mails(app, to):

    with app.app_context():
        return [m for m in notify.read_outbox(500) if m.to == to and m.subject.startswith("Carnet")]


@pytest.fixture
def on_record(app, professional):
    """on_record(patient_id, rpps) → a function running `do(viewer)` as that professional on
    the holder's record through a permanent grant (a verified account)."""

    def factory(patient_id, rpps="81234567899"):
        pro = professional(rpps)
        with app.app_context():
            grant = grants.Grant(patient_id=patient_id, professional_id=pro["id"])
            db.session.add(grant)
            db.session.commit()
            grant_id = grant.id

        def run(do):
            with app.test_request_context(method="POST"):
                viewer = access.record_viewer(access.viewer_for(db.session.get(Account, pro["account"].id)), grant_id)
                result = do(viewer)
                db.session.commit()
                return result

        run.pro, run.grant_id = pro, grant_id
        return run

    return factory


def visit(viewer, documents=()):
    """A visit as the record pages leave it: the first view tells the holder, each page is traced."""

    services.viewed(viewer, "overview", first_in_session=True)
    for doc_id in documents:
        services.viewed(viewer, "document", db.session.get(Document, doc_id))


def add_documents(app, patient_id, *titles):

    with app.test_request_context(method="POST"):
        viewer = holder_viewer("x", patient_id, "Holder")
        ids = [
            documents.add_documents(
                viewer,
                [documents.Upload(io.BytesIO(b"texte"), f"{t}.txt")],
                category="BIOLOGIE",
                act_date=date(2026, 11, 1),
                title=t,
            )[0].id
            for t in titles
        ]
        db.session.commit()
        return ids


def known_yesterday(app, patient_id, run):
    """The professional already came the day before: today's visits are routine."""
    run(visit)
    with app.app_context():
        for note in db.session.query(Notification).all():
            note.created_at = note.last_at = note.created_at - timedelta(days=1)
            note.read_at = note.created_at
        db.session.commit()


def test_six_visits_of_a_morning_make_one_card_and_one_mail(app, morning, holder, on_record, login_as):
    client, account = holder
    run = on_record(account.patient_id)
    known_yesterday(app, account.patient_id, run)
    before = len(mails(app, account.email))
    docs = add_documents(app, account.patient_id, "Bilan A", "Bilan B", "Bilan C")
    for i in range(6):
        run(lambda v, i=i: visit(v, documents=docs[: 1 + i % 3]))
        clock.advance(timedelta(minutes=25))
    today = [n for n in rows(app, Notification) if clock.aware(n.created_at) >= MORNING]
    assert len(today) == 1 and today[0].detail["visits"] == 6 and not today[0].alarm
    assert len(mails(app, account.email)) == before + 1
    mail = mails(app, account.email)[0]
    assert run.pro["family_name"] in mail.subject and "verified professional account" in mail.body.lower()

    # then a deposit: the same card says it, and a mail names the document

    def deposit(viewer):

        services.deposit(
            viewer,
            [documents.Upload(io.BytesIO(b"compte rendu"), "cr.txt")],
            category="CPT_REND",
            act_date=date(2026, 12, 2),
            title="Compte rendu de consultation",
            note=None,
        )

    run(deposit)
    today = [n for n in rows(app, Notification) if clock.aware(n.created_at) >= MORNING]
    assert len(today) == 1 and today[0].detail["deposits"] == ["Compte rendu de consultation"]
    newest = mails(app, account.email)[0]
    assert len(mails(app, account.email)) == before + 2
    assert "“Compte rendu de consultation”" in newest.subject and "opened your space" not in newest.body

    login_as(client, account)  # the morning went by: the session idled out
    page = client.get("/partage").get_data(as_text=True)
    notices = page.split('id="notifications"')[1].split("</section>")[0]
    assert notices.count('class="list-row share-notice') == 2  # today's card and yesterday's
    assert "consulted 3 documents and added “Compte rendu de consultation”" in notices
    assert "6 visits, the last at" in notices and "verified professional account" in notices


def test_someone_new_and_an_emergency_are_always_told(app, morning, holder, on_record, professional, login_as):

    client, account = holder
    with app.app_context():
        db.session.add(NotificationPreferences(patient_id=account.patient_id, access="none", deposit="none"))
        db.session.commit()
    run = on_record(account.patient_id)
    run(visit)  # never came before: told whatever the preferences
    (note,) = rows(app, Notification)
    assert note.alarm and note.detail["first"] and not note.muted
    assert "someone new" in mails(app, account.email)[0].subject

    clock.advance(timedelta(hours=1))
    run(visit)  # the same person, later the same day: the same card, no new mail
    assert len(rows(app, Notification)) == 1 and len(mails(app, account.email)) == 1

    # a routine visit the next day, with "do not tell me": kept, not shown, not mailed
    clock.advance(timedelta(days=1))
    run(visit)
    assert len(mails(app, account.email)) == 1
    assert [n.muted for n in rows(app, Notification) if not n.alarm] == [True]

    # an emergency access by the same person: its own card and a mail, whatever the preferences
    pro = run.pro
    with app.test_request_context(method="POST"):
        found = grants.EmergencyAccess(
            patient_id=account.patient_id,
            professional_id=pro["id"],
            samu=False,
            reason="Malaise dans la rue",
            expires_at=clock.utcnow() + timedelta(hours=12),
        )
        db.session.add(found)
        db.session.flush()
        viewer = access.record_viewer(access.viewer_for(db.session.get(Account, pro["account"].id)), found.id)
        notify.tell_holder(viewer, "emergency", None, {"reason": found.reason, "samu": False})
        db.session.commit()
    emergency = [n for n in rows(app, Notification) if n.kind == "emergency"]
    assert len(emergency) == 1 and emergency[0].alarm
    newest = mails(app, account.email)[0]
    assert "emergency" in newest.subject and "Malaise dans la rue" in newest.body

    # a code typed with a name nobody checked
    with app.test_request_context(method="POST"):
        share = grants.Share(
            patient_id=account.patient_id,
            prefix="ZZZZ",
            code_hash="1" * 64,
            link_hash="2" * 64,
            scope={"documents": "all"},
            expires_at=clock.utcnow() + timedelta(hours=2),
        )
        db.session.add(share)
        db.session.flush()
        use = grants.ShareUse(
            share_id=share.id,
            patient_id=account.patient_id,
            given_name="Jean",
            family_name="Imposteur",
            profession="medecin",
            rpps=pro["rpps"],
        )
        db.session.add(use)
        db.session.flush()
        notify.tell_holder(access.share_viewer(use.id), "access")
        db.session.commit()
    typed = mails(app, account.email)[0]
    assert "someone new" in typed.subject and "nobody checked them" in typed.body

    login_as(client, account)  # the morning went by: the session idled out
    page = client.get("/partage").get_data(as_text=True)
    notices = page.split('id="notifications"')[1].split("</section>")[0]
    assert notices.count('class="list-row share-notice') == 3  # the muted routine card is not shown
    assert "Reason given: “Malaise dans la rue”" in notices
    assert notices.count("First visit of this person") == 2
    assert "name given by the person, not verified" in notices


def test_home_card_shows_the_alarm_before_routine_visits(app, morning, holder, on_record, login_as):
    client, account = holder
    stranger = on_record(account.patient_id, rpps="89999999999")
    stranger(visit)  # first visit of someone new: an alarm
    usual = on_record(account.patient_id)
    known_yesterday(app, account.patient_id, usual)  # (also dates the stranger's card: still unread below)
    with app.app_context():
        alarm = db.session.query(Notification).filter(Notification.actor_rpps == "89999999999").one()
        alarm.read_at = None
        db.session.commit()
    for _ in range(6):
        clock.advance(timedelta(minutes=10))
        usual(visit)
    login_as(client, account)
    card = client.get("/").get_data(as_text=True).split('id="card-notifications"')[1].split("</section>")[0]
    assert "First visit of this person" in card and stranger.pro["family_name"] in card
    assert "2 new" in card


def test_preferences_page_saves_and_is_traced(app, holder):
    client, account = holder
    page = client.get("/partage").get_data(as_text=True)
    assert 'href="/partage/notifications/reglages"' in page
    form = client.get("/partage/notifications/reglages").get_data(as_text=True)
    assert "<html" in form and form.count("checked") == 4 and '<input checked id="access-0"' in form
    assert '<input checked id="appointment-0"' in form and 'value="none"' not in form.split('id="appointment-0"')[1]
    assert "cannot be turned off" in form
    bad = client.post(
        "/partage/notifications/reglages", data={"access": "sms", "deposit": "app", "csrf_token": token_of(client)}
    )
    assert bad.status_code == 422 and 'role="alert"' in bad.get_data(as_text=True)
    assert rows(app, NotificationPreferences) == []
    ok = client.post(
        "/partage/notifications/reglages",
        data={
            "access": "app",
            "deposit": "none",
            "message": "mail",
            "appointment": "app",
            "csrf_token": token_of(client),
        },
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/partage#notifications")
    (prefs,) = rows(app, NotificationPreferences)
    assert (prefs.access, prefs.deposit, prefs.appointment) == ("app", "none", "app")
    assert len(traces(app, "notification_preferences_updated")) == 1
    assert "Choices of how to be told changed" in client.get("/historique").get_data(as_text=True)


def test_in_carnet_only_means_no_mail(app, morning, holder, on_record):
    client, account = holder
    run = on_record(account.patient_id)
    known_yesterday(app, account.patient_id, run)

    with app.app_context():
        db.session.add(NotificationPreferences(patient_id=account.patient_id, access="app", deposit="mail"))
        db.session.commit()
    before = len(mails(app, account.email))
    run(visit)
    assert len(mails(app, account.email)) == before
    today = [n for n in rows(app, Notification) if clock.aware(n.created_at) >= MORNING]
    assert len(today) == 1 and not today[0].muted and today[0].read_at is None


def test_card_sentences_in_french(app):

    with app.test_request_context(method="POST"):
        said = notices._sentence("deposit", "Dr Bernard", {"visits": 3, "deposits": ["CR"], "deposit_count": 1}, {})
        assert said == "Dr Bernard a ouvert votre espace et a ajouté «\u00a0CR\u00a0»"
        said = notices._sentence(
            "access", "Dr Bernard", {"visits": 6}, {"documents": {"a", "b", "c"}, "pages": {"overview", "summary"}}
        )
        assert (
            said == "Dr Bernard a consulté 3\u00a0documents et a consulté votre résumé santé"
            or said == "Dr Bernard a consulté 3 documents et a consulté votre résumé santé"
        )
        said = notices._sentence("deposit", "Dr B", {"deposits": ["A", "B", "C"], "deposit_count": 4}, {})
        assert said == "Dr B a ajouté «\u00a0A\u00a0», a ajouté «\u00a0B\u00a0» et a ajouté 2 autres documents"
        assert notices._sentence("emergency", "Dr B", {}, {}) == "Dr B a ouvert votre espace en urgence"
