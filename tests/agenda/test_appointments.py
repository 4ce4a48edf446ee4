"""Appointments both ways: the holder's own, a professional's proposal answered (accepted,
declined, another time asked and confirmed), who sees what, traces and notices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

from blueprints.agenda.models import Appointment
from core import clock, notify
from core.audit import Action
from core.db import db
from core.grants import Grant
from tests.helpers import csrf_token, rows, traces


def _post(client, url, data=None, token_page="/agenda/"):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, token_page)})


def _add(client, **kw):
    data = {
        "with_name": "Dr Martin, dentiste",
        "day": "2026-12-10",
        "at": "09:30",
        "duration": "30",
        "place": "12 rue de la Paix, Paris",
        "reason": "Détartrage",
        "notes": "Apporter la carte Vitale",
        "reminder": "1440",
        **kw,
    }
    return _post(client, "/agenda/nouveau", data)


def _propose(pro_client, grant_id, **kw):
    data = {"day": "2026-12-15", "at": "14:00", "duration": "20", "place": "Cabinet", "reason": "Suivi tension", **kw}
    return _post(pro_client, f"/agenda/dossier/{grant_id}/proposer", data, token_page=f"/agenda/dossier/{grant_id}")


def test_holder_adds_and_sees_an_appointment(app, me):
    client, account = me
    r = _add(client)
    assert r.status_code == 303
    [a] = rows(app, Appointment)
    assert a.patient_id == account.patient_id and a.status == "confirmed" and a.proposed_by == "holder"
    # typed in Paris time, stored in UTC
    assert clock.aware(a.starts_at) == datetime(2026, 12, 10, 8, 30, tzinfo=UTC)
    page = client.get("/agenda/").get_data(as_text=True)
    assert "Dr Martin, dentiste" in page and "10 décembre 2026" in page
    home = client.get("/").get_data(as_text=True)
    assert 'id="card-agenda"' in home and "Dr Martin, dentiste" in home
    [t] = traces(app, Action.APPOINTMENT_ADDED)
    assert t.target_label == "Dr Martin, dentiste" and "Détartrage" not in str(t.detail)


def test_bad_input_is_refused_in_french_and_nothing_is_saved(app, me):
    client, _ = me
    r = _add(client, with_name="", day="2026-12-01", duration="0")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "Indiquez qui vous verrez" in page and "Cette date est passée" in page
    assert rows(app, Appointment) == []


def test_holder_edits_and_removes_their_own(app, me):
    client, _ = me
    _add(client)
    [a] = rows(app, Appointment)
    form = client.get(f"/agenda/rendez-vous/{a.id}/modifier").get_data(as_text=True)
    assert 'value="Dr Martin, dentiste"' in form and 'value="2026-12-10"' in form and 'value="09:30"' in form
    r = _post(
        client,
        f"/agenda/rendez-vous/{a.id}/modifier",
        {"with_name": "Dr Martin", "day": "2026-12-11", "at": "10:00", "duration": "45", "reminder": ""},
    )
    assert r.status_code == 303
    [a2] = rows(app, Appointment)
    assert a2.reminder_minutes is None and a2.duration_minutes == 45 and a2.sequence == 1
    r = _post(client, f"/agenda/rendez-vous/{a.id}/supprimer")
    assert r.status_code == 303 and rows(app, Appointment) == []
    assert [t.action for t in traces(app) if t.action.startswith("appointment")] == [
        "appointment_added",
        "appointment_updated",
        "appointment_deleted",
    ]


def test_professional_proposes_and_holder_accepts(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    page = pro_client.get(f"/agenda/dossier/{grant_id}")
    assert page.status_code == 200 and "Proposer ce rendez-vous" in page.get_data(as_text=True)
    r = _propose(pro_client, grant_id)
    assert r.status_code == 303
    [a] = rows(app, Appointment)
    assert a.status == "proposed" and a.professional_id == pro.professional_id and a.with_name.startswith("Dr ")
    # the holder is told in Carnet and by mail
    [note] = rows(app, notify.Notification, notify.Notification.kind == "appointment")
    assert note.detail["event"] == "proposed" and note.detail["appointment"] == a.id
    with app.app_context():
        mail = notify.latest_to(holder.email)
    assert "rendez-vous" in mail.subject.lower() and "15 décembre 2026" in mail.body
    notices = holder_client.get("/partage").get_data(as_text=True)
    assert "propose un rendez-vous" in notices and f"/agenda/rendez-vous/{a.id}" in notices
    home = holder_client.get("/").get_data(as_text=True)
    assert "À répondre" in home
    # accepted with a reminder of the holder's choice; the professional hears of it
    r = _post(holder_client, f"/agenda/rendez-vous/{a.id}/accepter", {"reminder": "60", "version": a.sequence})
    assert r.status_code == 303
    [a] = rows(app, Appointment)
    assert a.status == "confirmed" and a.reminder_minutes == 60
    with app.app_context():
        assert "accepté" in notify.latest_to(pro.email).body
    assert {t.action for t in traces(app)} >= {"appointment_proposed", "appointment_accepted", "record_viewed"}
    # a second answer is refused politely, nothing changes
    _post(holder_client, f"/agenda/rendez-vous/{a.id}/refuser", {"version": a.sequence})
    assert rows(app, Appointment)[0].status == "confirmed"


def test_holder_asks_another_time_and_the_professional_takes_it(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    _propose(pro_client, grant_id)
    [a] = rows(app, Appointment)
    r = _post(
        holder_client,
        f"/agenda/rendez-vous/{a.id}/autre-horaire",
        {"day": "2026-12-16", "at": "17:30", "version": a.sequence},
    )
    assert r.status_code == 303
    [a] = rows(app, Appointment)
    assert a.status == "countered" and clock.aware(a.counter_starts_at) == datetime(2026, 12, 16, 16, 30, tzinfo=UTC)
    with app.app_context():
        assert "16 décembre 2026" in notify.latest_to(pro.email).body
    assert "Le patient demande" in pro_client.get(f"/agenda/dossier/{grant_id}").get_data(as_text=True)
    r = _post(
        pro_client,
        f"/agenda/dossier/{grant_id}/{a.id}/confirmer",
        {"version": a.sequence},
        token_page=f"/agenda/dossier/{grant_id}",
    )
    assert r.status_code == 303
    [a] = rows(app, Appointment)
    assert a.status == "confirmed" and clock.aware(a.starts_at) == datetime(2026, 12, 16, 16, 30, tzinfo=UTC)
    assert a.counter_starts_at is None and a.sequence == 3  # proposed, asked, confirmed


def test_holder_declines(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    _propose(pro_client, grant_id)
    [a] = rows(app, Appointment)
    _post(holder_client, f"/agenda/rendez-vous/{a.id}/refuser", {"version": a.sequence})
    assert rows(app, Appointment)[0].status == "declined"
    page = holder_client.get("/agenda/").get_data(as_text=True)
    assert f"/agenda/rendez-vous/{a.id}" not in page  # declined: no longer among what is coming
    with app.app_context():
        assert "refusé" in notify.latest_to(pro.email).body


def test_a_professional_sees_only_their_own_and_only_with_a_live_grant(app, granted, make_pro, login_as):
    holder_client, holder, pro_client, pro, grant_id = granted
    _add(holder_client, with_name="Kiné Dupont", reason="Rééducation genou")
    _propose(pro_client, grant_id)
    page = pro_client.get(f"/agenda/dossier/{grant_id}").get_data(as_text=True)
    assert "Kiné Dupont" not in page and "Rééducation" not in page and "Suivi tension" in page
    [own] = [a for a in rows(app, Appointment) if a.professional_id is None]
    assert (
        pro_client.post(
            f"/agenda/dossier/{grant_id}/{own.id}/annuler",
            data={"csrf_token": csrf_token(pro_client, f"/agenda/dossier/{grant_id}")},
        ).status_code
        == 404
    )
    # another professional, no grant: nothing
    other = app.test_client()
    login_as(other, make_pro())
    assert other.get(f"/agenda/dossier/{grant_id}").status_code == 404
    # the grant ends: the professional is out at once; the holder keeps the appointment
    with app.app_context():
        db.session.get(Grant, grant_id).ended_at = clock.utcnow()
        db.session.commit()
    assert pro_client.get(f"/agenda/dossier/{grant_id}").status_code == 404
    assert "Suivi tension" in holder_client.get("/agenda/").get_data(as_text=True)


def test_another_holder_never_sees_an_appointment(app, me, make_holder, login_as):
    client, _ = me
    _add(client)
    [a] = rows(app, Appointment)
    other = app.test_client()
    login_as(other, make_holder()[0])
    assert other.get(f"/agenda/rendez-vous/{a.id}").status_code == 404
    assert other.get(f"/agenda/rendez-vous/{a.id}/rendez-vous.ics").status_code == 404
    assert "Dr Martin" not in other.get("/agenda/").get_data(as_text=True)


def test_a_past_appointment_links_the_documents_of_that_day(app, me, make_document, login_as):
    client, account = me
    _add(client, day="2026-12-04", at="10:00")
    make_document(account, title="Compte rendu dentaire", act_date=date(2026, 12, 4))
    make_document(account, title="Ordonnance ancienne", act_date=date(2026, 1, 4))
    clock.advance(timedelta(days=3))
    login_as(client, account)
    [a] = rows(app, Appointment)
    page = client.get("/agenda/").get_data(as_text=True)
    assert "Rendez-vous passés" in page and "Compte rendu dentaire" in page and "Ordonnance ancienne" not in page
    detail = client.get(f"/agenda/rendez-vous/{a.id}").get_data(as_text=True)
    assert "Documents de ce jour" in detail and "Compte rendu dentaire" in detail


def test_the_holder_cancels_a_professionals_appointment(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    _propose(pro_client, grant_id)
    [a] = rows(app, Appointment)
    _post(holder_client, f"/agenda/rendez-vous/{a.id}/accepter", {"reminder": ""})
    _post(holder_client, f"/agenda/rendez-vous/{a.id}/supprimer")
    [a] = rows(app, Appointment)
    assert a.status == "cancelled"
    with app.app_context():
        assert "annulé" in notify.latest_to(pro.email).body


def test_the_agenda_is_in_the_navigation_and_says_when_empty(app, me):
    client, _ = me
    page = client.get("/agenda/").get_data(as_text=True)
    assert "Aucun rendez-vous à venir" in page and 'href="/agenda/nouveau"' in page
    side = page.split('class="sidenav"', 1)[1].split("</nav>", 1)[0]
    bottom = page.split('class="bottomnav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/agenda/" aria-current="page"' in side and 'href="/compte"' in side  # every entry
    # The phone's bar keeps five entries; there the agenda is the home page's card.
    assert 'href="/agenda/"' not in bottom and bottom.count("<li>") == 5
    assert 'href="/agenda/"' in client.get("/").get_data(as_text=True)


def test_what_people_type_renders_inert(app, granted):
    """Names, places, reasons and notes come from people: escaped everywhere they show, and
    inside hx-disable where htmx would otherwise act on attributes."""
    holder_client, holder, pro_client, pro, grant_id = granted
    evil = '<img src=x onerror=alert(1)><a hx-get="/compte" hx-trigger="load">x</a>'
    _propose(pro_client, grant_id, place=evil, reason=evil, notes=evil)
    _add(holder_client, with_name=evil, place=evil, reason=evil, notes=evil)
    pages = [
        holder_client.get("/agenda/").get_data(as_text=True),
        holder_client.get("/").get_data(as_text=True),
        pro_client.get(f"/agenda/dossier/{grant_id}").get_data(as_text=True),
        *(holder_client.get(f"/agenda/rendez-vous/{a.id}").get_data(as_text=True) for a in rows(app, Appointment)),
    ]
    for page in pages:
        assert "<img src=x" not in page and '<a hx-get="/compte"' not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        checker = _InertText("<img src=x")
        checker.feed(page)
        assert checker.seen and not checker.exposed, checker.exposed


class _InertText(HTMLParser):
    """Finds text containing `needle` inside <main> with no hx-disable ancestor."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, needle):
        super().__init__()
        self.needle, self.stack, self.seen, self.exposed = needle, [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append((tag, any(k == "hx-disable" for k, _ in attrs)))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if self.needle in data and "main" in tags:
            self.seen += 1
            if not any(disabled for _, disabled in self.stack):
                self.exposed.append((tags[-3:], data[:40]))


def test_another_time_must_be_a_coming_one(app, granted):
    holder_client, holder, pro_client, pro, grant_id = granted
    _propose(pro_client, grant_id)
    [a] = rows(app, Appointment)
    r = holder_client.post(
        f"/agenda/rendez-vous/{a.id}/autre-horaire",
        data={
            "day": "2026-12-02",
            "at": "10:00",
            "version": a.sequence,
            "csrf_token": csrf_token(holder_client, "/agenda/"),
        },
        headers={"HX-Request": "true", "HX-Target": "counter-form"},
    )
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'id="counter-form"' in page and 'role="alert"' in page and "Cette date est passée" in page
    assert rows(app, Appointment)[0].status == "proposed"
