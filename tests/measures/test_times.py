"""One rule for the times of measures: Paris time everywhere on a page (summary, table, list,
home card), with the local time said once when a measure was taken in another offset; a
daily total on its own day; each kind's precision kept (a respiratory rate of 14.5)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale

from blueprints.measures import charts, kinds, series
from blueprints.measures.models import Measure
from core import access, clock
from core.db import db
from core.formatting import clock_time, elsewhere, instants, utc_offset, when
from core.i18n import gettext

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
NB = "\u00a0"


@pytest.fixture
def frozen(app):
    clock.freeze(NOW)
    yield


@pytest.fixture
def holder(frozen, app, client, make_holder, login_as):
    account, _code = make_holder()
    login_as(client, account)
    return client, account


def put(app, patient_id, kind, when: datetime, value, offset: int, value2=None):
    k = kinds.KINDS[kind]
    with app.app_context():
        db.session.execute(
            Measure.__table__.insert(),
            [
                {
                    "id": str(uuid.uuid4()),
                    "patient_id": patient_id,
                    "kind": kind,
                    "taken_at": int(when.timestamp()),
                    "utc_offset": offset,
                    "value": value,
                    "value2": value2,
                    "context": None,
                    "source": "manual",
                    "created_at": NOW,
                    "dedup": kinds.dedup_key(k, value, value2),
                }
            ],
        )
        db.session.commit()


def test_offsets_read_the_french_way():
    assert utc_offset(-300) == "UTC\u22125" and utc_offset(330) == "UTC+5:30" and utc_offset(0) == "UTC"


def test_a_measure_taken_abroad_shows_one_time_on_the_page(app, holder):
    client, account = holder
    # 08:05 in New York (UTC−5) is 13:05 UTC, 14:05 in Paris
    put(app, account.patient_id, "weight", datetime(2026, 11, 20, 13, 5, tzinfo=UTC), 72.4, -300)
    html = client.get("/constantes/poids").get_data(as_text=True)
    paris, local = f"14{NB}h{NB}05", f"8{NB}h{NB}05 heure locale, UTC\u22125"
    assert html.count(paris) >= 2 and html.count(local) >= 2  # the summary and the list agree
    assert "08:05" not in html and "13:05" not in html and "13" + NB + "h" not in html
    assert "heure de Paris" in html or "Heures de Paris" in html  # the rule is said on the page
    measures = client.get("/constantes").get_data(as_text=True)
    assert paris in measures and local in measures
    home = client.get("/").get_data(as_text=True)
    assert paris in home

    # taken in Paris: no note
    put(app, account.patient_id, "heart_rate", datetime(2026, 11, 21, 7, 30, tzinfo=UTC), 62, 60)
    html = client.get("/constantes/frequence-cardiaque").get_data(as_text=True)
    assert f"8{NB}h{NB}30" in html and "heure locale, UTC" not in html


def test_a_daily_total_stays_on_its_own_day(app, holder):
    client, account = holder
    # 20 November in Tokyo (UTC+9) starts at 15:00 UTC on 19 November (16:00 in Paris)
    put(app, account.patient_id, "steps", datetime(2026, 11, 19, 15, 0, tzinfo=UTC), 8452, 540)
    # and a day in New York: its midnight is 06:00 in Paris, the same date anyway
    put(app, account.patient_id, "steps", datetime(2026, 11, 22, 5, 0, tzinfo=UTC), 3100, -300)
    with app.test_request_context(method="POST"):
        viewer = access.Viewer("holder", None, account.patient_id, rights=access.HOLDER_RIGHTS)
        s = series.load(viewer, kinds.KINDS["steps"], "1m", buckets=1)
        by_day = {p.start: p.count for p in s.periods if p.count}
        assert by_day == {date(2026, 11, 20): 1, date(2026, 11, 22): 1}
        table = charts.chart(viewer, kinds.KINDS["steps"], "1m", svg=False)["table"]
        assert [r[0] for r in table["rows"]] == ["22 nov. 2026", "20 nov. 2026"]
    html = client.get("/constantes/pas").get_data(as_text=True)
    assert "20 novembre 2026" in html and "19 novembre 2026" not in html


def test_respiratory_rate_keeps_its_decimal(app, holder):
    client, account = holder
    put(app, account.patient_id, "respiratory_rate", datetime(2026, 11, 25, 7, 0, tzinfo=UTC), 14.5, 60)
    put(app, account.patient_id, "respiratory_rate", datetime(2026, 11, 26, 7, 0, tzinfo=UTC), 16, 60)
    assert kinds.dedup_key(kinds.KINDS["respiratory_rate"], 14.5) == "14.5"
    html = client.get("/constantes/frequence-respiratoire").get_data(as_text=True)
    assert f"14,5{NB}/min" in html and f"16{NB}/min" in html and f"16,0{NB}/min" not in html
    with app.test_request_context(method="POST"):
        viewer = access.Viewer("holder", None, account.patient_id, rights=access.HOLDER_RIGHTS)
        data = charts.chart(viewer, kinds.KINDS["respiratory_rate"], "1m", svg=False)
    assert data["summary"]["min"]["text"] == f"14,5{NB}/min"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_tables_instants_read_as_when_and_elsewhere_write_them(app, lang):
    """formatting.instants() writes a table's rows with the language and sentences asked once
    (docs/performance.md, 84): row by row, what when(), clock_time() and elsewhere() write, across
    both changes of Paris's offset, taken in Paris, abroad, at UTC and with no offset known."""
    moments = [datetime(2026, 3, 29, 0, 30, tzinfo=UTC) + timedelta(minutes=37 * i) for i in range(12)]
    moments += [datetime(2026, 10, 25, 0, 10, tzinfo=UTC) + timedelta(minutes=23 * i) for i in range(12)]
    offsets = [60, 120, -300, 330, 0, None]
    with app.test_request_context(), force_locale(lang):
        write = instants("d MMM y")
        for at in moments:
            for offset in offsets:
                there = datetime.fromtimestamp(int(at.timestamp()), timezone(timedelta(minutes=offset or 0)))
                text = gettext("%(date)s at %(time)s", date=when(at, "d MMM y"), time=clock_time(at))
                note = elsewhere(there)
                assert write(int(at.timestamp()), offset) == (f"{text} ({note})" if note else text)
        with pytest.raises(ValueError):
            instants("d MMM y HH:mm")
