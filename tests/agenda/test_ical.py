"""iCalendar: one appointment as a .ics file, and the private feed, read back with the
`icalendar` parser and with a recurrence-aware reader (recurring-ical-events), as calendar
apps read them. The feed's token is the only credential: revocable, ≥128 bits, stored hashed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import recurring_ical_events
from icalendar import Calendar

from blueprints.agenda.models import AgendaSettings, Appointment
from core.audit import Action
from tests.helpers import csrf_token, rows, traces


def _add(client, **kw):
    data = {
        "with_name": "Dr Martin, dentiste",
        "day": "2026-12-10",
        "at": "09:30",
        "duration": "45",
        "place": "12 rue de la Paix, Paris",
        "reason": "Douleur molaire",
        "notes": "Apporter la radio",
        "reminder": "1440",
        "csrf_token": csrf_token(client, "/agenda/"),
        **kw,
    }
    assert client.post("/agenda/nouveau", data=data).status_code == 303


def _feed_url(client, details: bool = False) -> str:
    data = {"csrf_token": csrf_token(client, "/agenda/abonnement")}
    if details:
        data["details"] = "y"
    page = client.post("/agenda/abonnement/nouveau", data=data).get_data(as_text=True)
    match = re.search(r'id="feed-url"[^>]*value="([^"]+)"', page)
    assert match, "the new link is shown once"
    return match.group(1)


def test_one_appointment_downloads_as_ics(app, me):
    client, _ = me
    _add(client)
    [a] = rows(app, Appointment)
    r = client.get(f"/agenda/rendez-vous/{a.id}/rendez-vous.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    assert "attachment" in r.headers["Content-Disposition"]
    cal = Calendar.from_ical(r.data)
    [ev] = cal.walk("VEVENT")
    assert ev.decoded("dtstart") == datetime(2026, 12, 10, 8, 30, tzinfo=UTC)
    assert ev.decoded("dtend") - ev.decoded("dtstart") == timedelta(minutes=45)
    assert str(ev["summary"]) == "Rendez-vous\u00a0: Dr Martin, dentiste"
    assert str(ev["location"]) == "12 rue de la Paix, Paris"
    assert "Douleur molaire" in str(ev["description"])  # the holder's own file: all of it
    [alarm] = ev.walk("VALARM")
    assert alarm.decoded("trigger") == -timedelta(days=1)
    assert str(ev["uid"]).startswith(a.id)


def test_the_feed_carries_appointments_only_and_no_reasons_unless_asked(app, me, client):
    holder_client, account = me
    _add(holder_client)
    _add(holder_client, with_name="Kiné Dupont", day="2026-12-17", at="18:00", reason="Rééducation", notes="")
    url = _feed_url(holder_client)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 32  # 24 random bytes: 192 bits
    stranger = app.test_client()  # a calendar app: no session, no cookie
    r = stranger.get(url.replace("http://localhost", ""))
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    assert "Set-Cookie" not in r.headers and r.headers["Cache-Control"] == "no-store"  # no session made
    body = r.get_data(as_text=True)
    assert "Douleur molaire" not in body and "Rééducation" not in body and "Apporter la radio" not in body
    cal = Calendar.from_ical(r.data)
    window = recurring_ical_events.of(cal).between(date(2026, 12, 1), date(2027, 1, 1))
    assert sorted(str(e["summary"]) for e in window) == [
        "Rendez-vous\u00a0: Dr Martin, dentiste",
        "Rendez-vous\u00a0: Kiné Dupont",
    ]
    assert recurring_ical_events.of(cal).between(date(2026, 12, 11), date(2026, 12, 12)) == []
    # only a keyed hash is kept
    [own] = rows(app, AgendaSettings)
    assert own.feed_hash and token not in own.feed_hash and own.feed_read_at is not None
    # the holder opts in: reasons and notes follow
    holder_client.post(
        "/agenda/abonnement/details", data={"details": "y", "csrf_token": csrf_token(holder_client, "/agenda/")}
    )
    assert "Douleur molaire" in stranger.get(url.replace("http://localhost", "")).get_data(as_text=True)
    assert {t.action for t in traces(app)} >= {Action.CALENDAR_FEED_CREATED, Action.CALENDAR_FEED_UPDATED}


def test_a_new_link_or_stopping_ends_the_old_one(app, me):
    client, _ = me
    _add(client)
    first = _feed_url(client).replace("http://localhost", "")
    second = _feed_url(client).replace("http://localhost", "")
    calendar_app = app.test_client()
    assert calendar_app.get(first).status_code == 404
    assert calendar_app.get(second).status_code == 200
    client.post("/agenda/abonnement/arreter", data={"csrf_token": csrf_token(client, "/agenda/")})
    assert calendar_app.get(second).status_code == 404
    assert calendar_app.get("/agenda/flux/" + "A" * 32 + ".ics").status_code == 404
    assert Action.CALENDAR_FEED_REVOKED in {t.action for t in traces(app)}


def test_a_feed_shows_one_holder_only_and_cancelled_ones_as_cancelled(app, me, granted):
    client, _ = me
    _add(client)
    holder_client, holder, pro_client, pro, grant_id = granted
    pro_client.post(
        f"/agenda/dossier/{grant_id}/proposer",
        data={"day": "2026-12-20", "at": "11:00", "duration": "20", "csrf_token": csrf_token(pro_client, "/")},
    )
    [proposal] = [a for a in rows(app, Appointment) if a.professional_id]
    url = _feed_url(holder_client).replace("http://localhost", "")
    cal = Calendar.from_ical(app.test_client().get(url).data)
    [ev] = cal.walk("VEVENT")
    assert str(ev["status"]) == "TENTATIVE" and "Dr Martin, dentiste" not in str(ev["summary"])  # one holder's
    holder_client.post(
        f"/agenda/rendez-vous/{proposal.id}/accepter",
        data={"reminder": "", "csrf_token": csrf_token(holder_client, "/agenda/")},
    )
    holder_client.post(
        f"/agenda/rendez-vous/{proposal.id}/supprimer", data={"csrf_token": csrf_token(holder_client, "/agenda/")}
    )
    [ev] = Calendar.from_ical(app.test_client().get(url).data).walk("VEVENT")
    assert str(ev["status"]) == "CANCELLED" and int(ev["sequence"]) == 2
    assert recurring_ical_events.of(Calendar.from_ical(app.test_client().get(url).data)).between(
        date(2026, 12, 1), date(2027, 1, 1)
    ), "a cancelled event is still sent, for calendar apps to remove it"
