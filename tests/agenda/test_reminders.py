"""Reminders: sent once, in Carnet and by mail, when their time comes on a controlled clock;
the operator command is idempotent and a moved appointment is reminded again."""

from __future__ import annotations

from datetime import timedelta

from blueprints.agenda import reminders
from blueprints.agenda.models import Appointment
from core import clock, notify
from tests.helpers import csrf_token, rows


def _add(client, **kw):
    data = {
        "with_name": "Dr Petit",
        "day": "2026-12-05",
        "at": "10:00",  # 9:00 UTC, two days after the held clock
        "duration": "30",
        "place": "Centre de santé, 3 rue Haute",
        "reason": "Bilan",
        "reminder": "1440",
        "csrf_token": csrf_token(client, "/agenda/"),
        **kw,
    }
    assert client.post("/agenda/nouveau", data=data).status_code == 303


def _mails_to(app, email):
    with app.app_context():
        return [m for m in notify.read_outbox(200) if m.to == email]


def _send(app):
    with app.app_context():
        return reminders.send_due()


def test_a_reminder_goes_once_when_its_time_comes(app, me, now):
    client, account = me
    _add(client)
    assert _send(app) == 0  # two days ahead: not yet
    clock.advance(timedelta(hours=24, minutes=59))
    assert _send(app) == 0  # a minute too early
    clock.advance(timedelta(minutes=2))
    assert _send(app) == 1
    [note] = rows(app, notify.Notification, notify.Notification.kind == "reminder")
    assert note.patient_id == account.patient_id and note.actor_name == "Dr Petit"
    [mail] = [m for m in _mails_to(app, account.email) if "rappel" in m.subject]
    assert (
        "Dr Petit" in mail.subject and "5 décembre 2026 à 10\u00a0h\u00a000" in mail.body and "3 rue Haute" in mail.body
    )
    assert "Bilan" not in mail.body  # the reason stays in Carnet
    # run again, and again: nothing more
    assert _send(app) == 0
    clock.advance(timedelta(hours=1))
    assert _send(app) == 0
    assert len(rows(app, notify.Notification, notify.Notification.kind == "reminder")) == 1


def test_the_command_sends_due_reminders(app, me, now):
    client, account = me
    _add(client)
    clock.advance(timedelta(days=1, hours=2))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["agenda", "reminders"])
    assert first.exit_code == 0 and "1 reminder(s) sent." in first.output
    second = runner.invoke(args=["agenda", "reminders"])
    assert second.exit_code == 0 and "No reminder due." in second.output


def test_no_reminder_when_none_chosen_or_after_the_start_or_not_confirmed(app, me, granted, now):
    client, account = me
    _add(client, reminder="")
    _add(client, with_name="Dr Passé", day="2026-12-03", at="10:00", reminder="60")
    holder_client, holder, pro_client, pro, grant_id = granted
    pro_client.post(
        f"/agenda/dossier/{grant_id}/proposer",
        data={
            "day": "2026-12-04",
            "at": "09:00",
            "duration": "20",
            "csrf_token": csrf_token(pro_client, f"/agenda/dossier/{grant_id}"),
        },
    )
    clock.advance(timedelta(hours=3))  # the 10:00 appointment has begun; the proposal is unanswered
    assert _send(app) == 0
    assert rows(app, notify.Notification, notify.Notification.kind == "reminder") == []


def test_a_moved_appointment_is_reminded_again(app, me, now, login_as):
    client, account = me
    _add(client, reminder="60")
    clock.advance(timedelta(days=2, minutes=5))  # 5 Dec, 9:05 in Paris: within the hour before
    assert _send(app) == 1
    login_as(client, account)
    [a] = rows(app, Appointment)
    data = {
        "with_name": "Dr Petit",
        "day": "2026-12-06",
        "at": "10:00",
        "duration": "30",
        "reminder": "60",
        "csrf_token": csrf_token(client, "/agenda/"),
    }
    assert client.post(f"/agenda/rendez-vous/{a.id}/modifier", data=data).status_code == 303
    assert rows(app, Appointment)[0].reminded_at is None
    assert _send(app) == 0
    clock.advance(timedelta(days=1))
    assert _send(app) == 1
    assert len(rows(app, notify.Notification, notify.Notification.kind == "reminder")) == 2


def test_two_runs_at_once_remind_once(app, me, now):
    """The claim is a conditional UPDATE: a second run that listed the same appointment before
    the first one claimed it finds nothing to take."""
    client, _ = me
    _add(client)
    clock.advance(timedelta(days=1, hours=1))
    with app.app_context():
        listed = reminders.due(clock.utcnow())
    assert len(listed) == 1
    assert _send(app) == 1
    with app.app_context():
        original = reminders.due
        reminders.due = lambda at: listed  # the second run still holds the old list
        try:
            assert reminders.send_due() == 0
        finally:
            reminders.due = original
    assert len(rows(app, notify.Notification, notify.Notification.kind == "reminder")) == 1
