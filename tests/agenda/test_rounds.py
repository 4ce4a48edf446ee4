"""Counter-proposals of any number of rounds: the professional proposes, the holder asks for
another time, the professional proposes a third, the holder accepts (or declines); each step
traced, told to the other side, kept in the appointment's history of times. Refused: the
wrong side, an answer to a time since replaced, a time that has passed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from werkzeug.exceptions import Conflict, Forbidden, UnprocessableEntity

from blueprints.agenda import appointments as appts
from blueprints.agenda.models import Appointment
from core import access, clock, notify
from core.access import Viewer
from core.db import db
from core.people import Account
from tests.helpers import csrf_token, rows, traces


def _post(client, url, data=None, page="/agenda/"):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, page)})


def _pro_post(pro_client, grant_id, path, data=None):
    page = f"/agenda/dossier/{grant_id}"
    return _post(pro_client, f"{page}/{path}", data, page=page)


def _one(app) -> Appointment:
    [a] = rows(app, Appointment)
    return a


def _proposed(app, pro_client, grant_id) -> Appointment:
    _pro_post(pro_client, grant_id, "proposer", {"day": "2026-12-15", "at": "14:00", "duration": "20"})
    return _one(app)


def _ask(holder_client, a, day="2026-12-16", at="17:30", version=None):
    return _post(
        holder_client,
        f"/agenda/rendez-vous/{a.id}/autre-horaire",
        {"day": day, "at": at, "version": a.sequence if version is None else version},
    )


def _again(pro_client, grant_id, a, day="2026-12-17", at="08:30", version=None):
    prefix = f"a{a.id[:8]}-"
    data = {prefix + "day": day, prefix + "at": at, "version": a.sequence if version is None else version}
    return _pro_post(pro_client, grant_id, f"{a.id}/autre-horaire", data)


def test_three_rounds_then_the_holder_accepts(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    a = _proposed(app, pro_client, grant_id)
    assert _ask(holder_client, a).status_code == 303
    a = _one(app)
    assert a.status == "countered"
    page = pro_client.get(f"/agenda/dossier/{grant_id}").get_data(as_text=True)
    assert "Proposer un autre horaire" in page and f'id="again-{a.id}"' in page
    # the professional cannot take 17:30 and proposes a third time
    assert _again(pro_client, grant_id, a).status_code == 303
    a = _one(app)
    assert a.status == "proposed" and a.counter_starts_at is None
    assert clock.aware(a.starts_at) == datetime(2026, 12, 17, 7, 30, tzinfo=UTC)
    assert [p["by"] for p in a.proposals] == ["professional", "holder", "professional"]
    # the holder is told (card and mail) and sees every time put forward
    notes = rows(app, notify.Notification, notify.Notification.kind == "appointment")
    assert [n.detail["event"] for n in notes][-1] == "reproposed"
    with app.app_context():
        assert "17 décembre 2026" in notify.latest_to(holder.email).body
    show = holder_client.get(f"/agenda/rendez-vous/{a.id}").get_data(as_text=True)
    assert "Horaires proposés" in show and "16 décembre" in show and "15 décembre" in show
    assert "propose celui-ci à la place" in show
    # the holder asks again (a fourth time), the professional proposes a fifth, the holder accepts
    _ask(holder_client, a, day="2026-12-18", at="10:00")
    a = _one(app)
    _again(pro_client, grant_id, a, day="2026-12-19", at="11:00")
    a = _one(app)
    r = _post(holder_client, f"/agenda/rendez-vous/{a.id}/accepter", {"reminder": "60", "version": a.sequence})
    assert r.status_code == 303
    a = _one(app)
    assert a.status == "confirmed" and clock.aware(a.starts_at) == datetime(2026, 12, 19, 10, 0, tzinfo=UTC)
    assert len(a.proposals) == 5 and a.reminder_minutes == 60
    with app.app_context():
        assert "accepté" in notify.latest_to(pro.email).body
    actions = [t.action for t in traces(app) if t.action.startswith("appointment_")]
    assert actions == [
        "appointment_proposed",
        "appointment_countered",
        "appointment_reproposed",
        "appointment_countered",
        "appointment_reproposed",
        "appointment_accepted",
    ]
    history = holder_client.get("/historique").get_data(as_text=True)
    assert "Un autre horaire vous est proposé pour un rendez-vous" in history


def test_the_holder_declines_after_a_second_round(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    a = _proposed(app, pro_client, grant_id)
    _ask(holder_client, a)
    _again(pro_client, grant_id, _one(app))
    a = _one(app)
    _post(holder_client, f"/agenda/rendez-vous/{a.id}/refuser", {"version": a.sequence})
    assert _one(app).status == "declined"
    with app.app_context():
        assert "refusé" in notify.latest_to(pro.email).body


def test_an_answer_to_a_time_since_replaced_is_refused(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    a = _proposed(app, pro_client, grant_id)
    first_version = a.sequence
    _ask(holder_client, a)
    _again(pro_client, grant_id, _one(app))
    a = _one(app)
    # an old tab still shows the first proposal: accepting it would take a time never meant
    r = _post(holder_client, f"/agenda/rendez-vous/{a.id}/accepter", {"reminder": "60", "version": first_version})
    assert r.status_code == 303
    assert _one(app).status == "proposed"
    assert "a proposé un autre horaire entre-temps" in holder_client.get(r.headers["Location"]).get_data(as_text=True)
    _post(holder_client, f"/agenda/rendez-vous/{a.id}/refuser", {"version": first_version})
    _ask(holder_client, a, version=first_version)
    _post(holder_client, f"/agenda/rendez-vous/{a.id}/refuser")  # no version at all
    assert _one(app).status == "proposed" and len(_one(app).proposals) == 3
    # the professional answering an older request of the patient is refused too
    _ask(holder_client, a)
    a = _one(app)
    _again(pro_client, grant_id, a, version=a.sequence - 1)
    _pro_post(pro_client, grant_id, f"{a.id}/confirmer", {"version": a.sequence - 1})
    assert _one(app).status == "countered" and len(_one(app).proposals) == 4


def test_the_wrong_side_cannot_answer(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    a = _proposed(app, pro_client, grant_id)
    # the professional cannot answer their own proposal; the holder's routes are not theirs
    assert _again(pro_client, grant_id, a).status_code == 303  # "nothing to answer", nothing changes
    r = pro_client.post(
        f"/agenda/rendez-vous/{a.id}/accepter",
        data={"version": a.sequence, "csrf_token": csrf_token(pro_client, f"/agenda/dossier/{grant_id}")},
    )
    assert r.status_code in (403, 404)
    assert _one(app).status == "proposed" and len(_one(app).proposals) == 1
    # the holder cannot reach the professional's answer
    r = holder_client.post(
        f"/agenda/dossier/{grant_id}/{a.id}/autre-horaire",
        data={"version": a.sequence, "csrf_token": csrf_token(holder_client, "/agenda/")},
    )
    assert r.status_code in (403, 404)
    assert _one(app).status == "proposed"


def test_services_refuse_wrong_side_stale_version_and_past_times(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    a = _proposed(app, pro_client, grant_id)
    with app.test_request_context(method="POST"):
        a = db.session.get(Appointment, a.id)
        account = db.session.get(Account, holder.id)
        me = access.holder_viewer(account.id, account.patient_id, account.display_name)
        pro_account = db.session.get(Account, pro.id)
        doctor = access.record_viewer(
            Viewer("professional", pro_account, professional=pro_account.professional), grant_id
        )
        later = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
        with pytest.raises(Forbidden):
            appts.repropose(me, a, later, a.sequence)  # the holder has no professional's right
        with pytest.raises(Forbidden):
            appts.counter(doctor, a, later, a.sequence)  # a proposal is the holder's to answer
        with pytest.raises(Conflict):
            appts.counter(me, a, later, a.sequence + 1)
        with pytest.raises(UnprocessableEntity):
            appts.counter(me, a, datetime(2026, 12, 2, 9, 0, tzinfo=UTC), a.sequence)
        appts.counter(me, a, later, a.sequence)
        with pytest.raises(Conflict):
            appts.accept(me, a, 60, a.sequence)  # waiting for the professional now
        with pytest.raises(UnprocessableEntity):
            appts.repropose(doctor, a, datetime(2026, 12, 3, 7, 0, tzinfo=UTC), a.sequence)
        appts.repropose(doctor, a, datetime(2026, 12, 21, 9, 0, tzinfo=UTC), a.sequence)
        assert a.status == "proposed" and len(a.proposals) == 3
        clock.freeze(datetime(2026, 12, 22, 8, 0, tzinfo=UTC))  # the proposed time went by unanswered
        with pytest.raises(UnprocessableEntity):
            appts.accept(me, a, 60, a.sequence)
        db.session.rollback()


def test_the_professional_is_told_to_propose_again_when_the_asked_time_passed(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    a = _proposed(app, pro_client, grant_id)
    _ask(holder_client, a, day="2026-12-03", at="09:05")
    a = _one(app)
    clock.freeze(datetime(2026, 12, 3, 8, 10, tzinfo=UTC))  # 9:10 in Paris: that time went by
    r = _pro_post(pro_client, grant_id, f"{a.id}/confirmer", {"version": a.sequence})
    assert r.status_code == 303
    assert _one(app).status == "countered"
    # a past time in the professional's form is refused in words, in place
    r = pro_client.post(
        f"/agenda/dossier/{grant_id}/{a.id}/autre-horaire",
        data={
            f"a{a.id[:8]}-day": "2026-12-03",
            f"a{a.id[:8]}-at": "09:00",
            "version": a.sequence,
            "csrf_token": csrf_token(pro_client, f"/agenda/dossier/{grant_id}"),
        },
        headers={"HX-Request": "true", "HX-Target": f"again-{a.id}"},
    )
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert f'id="again-{a.id}"' in body and 'role="alert"' in body and "Cette heure est passée" in body
    assert _one(app).status == "countered"
