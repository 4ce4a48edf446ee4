"""The holder chooses how appointment notices reach them (Sharing, "How to tell me"): in
Carnet and by mail, or in Carnet only. Proposals, confirmations, cancellations and reminders
always make their card; the mail follows the choice. Reminders keep their own delay."""

from __future__ import annotations

from datetime import timedelta

from blueprints.agenda import reminders
from blueprints.agenda.models import Appointment
from core import clock, notify
from core.db import db
from tests.core.test_mail import smtp  # noqa: F401  (the live SMTP server fixture)
from tests.helpers import csrf_token, rows


def _choose(client, appointment: str):
    data = {"access": "mail", "deposit": "mail", "message": "mail", "appointment": appointment}
    r = client.post(
        "/partage/notifications/reglages",
        data={**data, "csrf_token": csrf_token(client, "/partage/notifications/reglages")},
    )
    assert r.status_code == 303


def _mails(app, email):
    with app.app_context():
        return [m for m in notify.read_outbox(200) if m.to == email]


def _post(client, url, data=None, page="/agenda/"):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, page)})


def _cards(app, patient_id):
    return [
        n.detail.get("event", n.kind)
        for n in rows(app, notify.Notification, notify.Notification.patient_id == patient_id)
        if n.kind in ("appointment", "reminder") and not n.muted
    ]


def _round_trip(app, granted):
    """Proposed, then the holder asks another time, the professional confirms it, then cancels."""
    holder_client, holder, pro_client, pro, grant_id = granted
    page = f"/agenda/dossier/{grant_id}"
    _post(pro_client, f"{page}/proposer", {"day": "2026-12-15", "at": "14:00", "duration": "20"}, page=page)
    [a] = rows(app, Appointment)
    _post(
        holder_client,
        f"/agenda/rendez-vous/{a.id}/autre-horaire",
        {"day": "2026-12-16", "at": "9:00", "version": a.sequence},
    )
    [a] = rows(app, Appointment)
    _post(pro_client, f"{page}/{a.id}/confirmer", {"version": a.sequence}, page=page)
    _post(pro_client, f"{page}/{a.id}/annuler", page=page)
    assert rows(app, Appointment)[0].status == "cancelled"


def test_in_carnet_only_makes_every_card_and_no_mail(app, granted):
    holder_client, holder, *_ = granted
    _choose(holder_client, "app")
    assert notify_preference(app, holder.patient_id) == "app"
    _round_trip(app, granted)
    assert _cards(app, holder.patient_id) == ["proposed", "confirmed", "cancelled"]
    assert [m.subject for m in _mails(app, holder.email) if "rendez-vous" in m.subject.lower()] == []


def test_in_carnet_and_by_mail_sends_each_one(app, granted):
    holder_client, holder, *_ = granted
    _round_trip(app, granted)  # the default: by mail too
    assert _cards(app, holder.patient_id) == ["proposed", "confirmed", "cancelled"]
    subjects = [m.subject for m in _mails(app, holder.email)]
    assert any("proposé" in s for s in subjects) and any("confirmé" in s for s in subjects)
    assert any("annulé" in s for s in subjects)


def notify_preference(app, patient_id):
    with app.app_context():
        return notify.preferences(patient_id)["appointment"]


def _own_appointment(client):
    data = {"with_name": "Dr Petit", "day": "2026-12-05", "at": "10:00", "duration": "30", "reminder": "60"}
    assert _post(client, "/agenda/nouveau", data).status_code == 303


def test_reminders_follow_the_choice_over_real_smtp_and_keep_their_delay(app, me, smtp):  # noqa: F811
    client, account = me
    _own_appointment(client)  # 5 December at 10:00 in Paris, reminded an hour before
    clock.advance(timedelta(days=2, minutes=1))  # 5 December, 9:01 in Paris: the reminder is due
    with app.app_context():
        assert reminders.send_due() == 1
    (msg,) = smtp.messages()
    assert msg["To"] == account.email and "rappel" in msg["Subject"].lower()
    # in Carnet only (as the Sharing page saves it): the next reminder makes its card, no mail
    [a] = rows(app, Appointment)
    with app.app_context():
        notify.save_preferences(account.patient_id, {"appointment": "app"})
        db.session.get(Appointment, a.id).reminded_at = None
        db.session.commit()
    with app.app_context():
        assert reminders.send_due() == 1
    assert len(smtp.messages()) == 1
    assert _cards(app, account.patient_id) == ["reminder", "reminder"]
    assert rows(app, Appointment)[0].reminder_minutes == 60


def test_in_carnet_only_cannot_become_not_told(app, me):
    client, account = me
    r = client.post(
        "/partage/notifications/reglages",
        data={
            "access": "mail",
            "deposit": "mail",
            "message": "mail",
            "appointment": "none",
            "csrf_token": csrf_token(client, "/partage/notifications/reglages"),
        },
    )
    assert r.status_code == 422 and 'role="alert"' in r.get_data(as_text=True)
    assert notify_preference(app, account.patient_id) == "mail"


def test_the_reminder_menu_says_how_it_will_come(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    page = f"/agenda/dossier/{grant_id}"
    _post(pro_client, f"{page}/proposer", {"day": "2026-12-15", "at": "14:00", "duration": "20"}, page=page)
    [a] = rows(app, Appointment)
    shown = holder_client.get(f"/agenda/rendez-vous/{a.id}").get_data(as_text=True)
    assert "Dans Carnet et par e-mail." in shown
    _choose(holder_client, "app")
    shown = holder_client.get(f"/agenda/rendez-vous/{a.id}").get_data(as_text=True)
    assert "vous avez choisi de ne pas recevoir de courriel pour les rendez-vous" in shown
