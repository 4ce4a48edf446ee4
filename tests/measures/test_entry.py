"""Measures typed by the holder: entry, plausibility, correction, removal, overview, export."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from blueprints.measures.models import Measure
from core import clock
from core.audit import AuditEvent
from core.db import db
from tests.helpers import csrf_token

HX = {"HX-Request": "true"}
NOW = datetime.fromisoformat("2026-11-28T09:30:00+00:00")  # 10:30 in Paris


@pytest.fixture
def holder(app, client, make_holder, login_as):
    clock.freeze(NOW)
    account, _ = make_holder()
    login_as(client, account)
    yield client, account
    clock.reset()


def _post(client, path, htmx=True, **data):
    data["csrf_token"] = csrf_token(client, "/constantes/ajouter")
    return client.post(path, data=data, headers=HX if htmx else {})


def _measures(app, **where):
    with app.app_context():
        stmt = select(Measure).order_by(Measure.taken_at)
        for k, v in where.items():
            stmt = stmt.where(getattr(Measure, k) == v)
        return list(db.session.scalars(stmt))


def _traces(app):

    with app.app_context():
        return [
            (e.action, e.detail, e.target_label)
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("measure%")).order_by(AuditEvent.id)
            )
        ]


def test_overview_starts_empty_and_offers_every_kind(holder):
    client, _ = holder
    html = client.get("/constantes").get_data(as_text=True)
    assert (
        'class="empty-state"' in html and "/constantes/poids/ajouter" in html and "/constantes/tension/ajouter" in html
    )
    choose = client.get("/constantes/ajouter").get_data(as_text=True)
    assert "/constantes/glycemie/ajouter" in choose and "/constantes/imc/ajouter" not in choose
    assert client.get("/constantes/imc/ajouter").status_code == 404  # BMI is worked out, never typed


def test_the_form_defaults_to_now_in_local_time(holder):
    client, _ = holder
    html = client.get("/constantes/poids/ajouter").get_data(as_text=True)
    assert 'value="2026-11-28"' in html and 'value="10:30"' in html and "kg" in html


def test_a_weight_typed_the_french_way_is_saved_in_kilograms(app, holder):
    client, _ = holder
    r = _post(client, "/constantes/poids/ajouter", value="72,4", day="2026-11-28", at="08:15")
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/constantes/poids"
    [m] = _measures(app)
    assert (m.kind, m.value, m.source, m.utc_offset) == ("weight", 72.4, "manual", 60)
    assert m.when.isoformat() == "2026-11-28T08:15:00+01:00"
    assert _traces(app) == [("measure_added", {"kind": "weight"}, None)]  # the kind, never the value


def test_summer_time_is_kept(app, holder):
    client, _ = holder
    _post(client, "/constantes/temperature/ajouter", value="38,2", day="2026-07-14", at="21:00")
    [m] = _measures(app)
    assert m.utc_offset == 120 and m.when.isoformat() == "2026-07-14T21:00:00+02:00"


def test_blood_pressure_is_one_measure_with_two_values(app, holder):
    client, _ = holder
    r = _post(client, "/constantes/tension/ajouter", value="128", value2="82", day="2026-11-28", at="08:00")
    assert r.status_code == 204
    [m] = _measures(app)
    assert (m.kind, m.value, m.value2) == ("blood_pressure", 128, 82)


def test_glucose_in_grams_per_litre_with_its_meal_context(app, holder):
    client, _ = holder
    _post(
        client,
        "/constantes/glycemie/ajouter",
        value="0,95",
        unit="g/L",
        context="fasting",
        day="2026-11-28",
        at="07:00",
    )
    [m] = _measures(app)
    assert (m.value, m.context) == (pytest.approx(95), "fasting")
    html = client.get("/constantes").get_data(as_text=True)
    assert "0,95\u00a0g/L (95\u00a0mg/dL)" in html


@pytest.mark.parametrize(
    "slug, data, field, message",
    [
        ("poids", {"value": "700"}, "value", "entre 0,3 et 350 kg"),
        ("temperature", {"value": "3"}, "value", "entre 30 et 44 °C"),
        ("poids", {"value": "soixante"}, "value", "Saisissez un nombre"),
        ("tension", {"value": "120", "value2": "130"}, "value2", "doit être plus petit"),
        ("tension", {"value": "120", "value2": ""}, "value2", "Saisissez le chiffre du bas"),
        ("glycemie", {"value": "95", "unit": "g/L"}, "value", "entre 0,1 et 10 g/L"),
    ],
)
def test_typos_come_back_as_a_422_fragment_naming_the_expected_range(app, holder, slug, data, field, message):
    client, _ = holder
    r = _post(client, f"/constantes/{slug}/ajouter", day="2026-11-28", at="08:00", **data)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and message in html
    assert f'id="{field}-error"' in html and f'aria-describedby="{field}-hint {field}-error' in html
    assert _measures(app) == []


def test_a_moment_in_the_future_is_refused(app, holder):
    client, _ = holder
    r = _post(client, "/constantes/poids/ajouter", value="72", day="2026-11-29", at="08:00")
    assert r.status_code == 422 and "dans le futur" in r.get_data(as_text=True)


def test_the_same_measure_twice_is_refused_without_htmx_too(app, holder):
    client, _ = holder
    first = _post(client, "/constantes/poids/ajouter", htmx=False, value="72,4", day="2026-11-28", at="08:00")
    assert first.status_code == 303 and first.headers["Location"].endswith("/constantes/poids")
    again = _post(client, "/constantes/poids/ajouter", htmx=False, value="72.4", day="2026-11-28", at="08:00")
    assert again.status_code == 422 and "déjà enregistrée" in again.get_data(as_text=True)
    assert "<html" in again.get_data(as_text=True)  # a whole page without htmx
    assert len(_measures(app)) == 1


def test_correct_then_delete(app, holder):
    client, _ = holder
    _post(client, "/constantes/poids/ajouter", value="74,2", day="2026-11-27", at="08:00")
    [m] = _measures(app)
    form = client.get(f"/constantes/poids/{m.id}/modifier").get_data(as_text=True)
    assert 'value="74,2"' in form and 'value="2026-11-27"' in form and 'value="08:00"' in form
    r = _post(client, f"/constantes/poids/{m.id}/modifier", value="72,4", day="2026-11-27", at="08:00")
    assert r.status_code == 204
    assert [x.value for x in _measures(app)] == [72.4]
    r = _post(client, f"/constantes/poids/{m.id}/supprimer")
    assert r.status_code == 204 and _measures(app) == []
    assert [a for a, _d, _l in _traces(app)] == ["measure_added", "measure_corrected", "measure_deleted"]


def test_history_tells_what_happened_without_the_value(app, holder):
    client, _ = holder
    _post(client, "/constantes/poids/ajouter", value="72,4", day="2026-11-28", at="08:00")
    html = client.get("/historique").get_data(as_text=True)
    assert "Mesure ajoutée\u00a0: poids" in html and "72,4" not in html


def test_another_holders_measure_is_not_found(app, client, holder, make_holder, make_measure):
    other, _ = make_holder(email="other@example.fr")
    mid = make_measure(other, "weight", 80).id
    assert client.get(f"/constantes/poids/{mid}/modifier").status_code == 404
    assert _post(client, f"/constantes/poids/{mid}/supprimer").status_code == 404
    assert _post(client, f"/constantes/tension/{mid}/modifier", value="1").status_code == 404
    assert "80\u00a0kg" not in client.get("/constantes").get_data(as_text=True)
    assert len(_measures(app)) == 1


def test_anonymous_visitors_are_sent_to_login(app):
    client = app.test_client()
    for path in ("/constantes", "/constantes/ajouter", "/constantes/poids/ajouter", "/constantes/export.csv"):
        r = client.get(path)
        assert r.status_code in (302, 303, 401) and "/connexion" in r.headers.get("Location", "/connexion")


def test_overview_shows_latest_values_counts_and_bmi(app, holder):
    client, _ = holder
    _post(client, "/constantes/poids/ajouter", value="80", day="2026-11-20", at="08:00")
    _post(client, "/constantes/poids/ajouter", value="79,5", day="2026-11-27", at="08:00")
    _post(client, "/constantes/taille/ajouter", value="175", day="2026-01-01", at="08:00")
    html = client.get("/constantes").get_data(as_text=True)
    assert "79,5\u00a0kg" in html and "80\u00a0kg" not in html
    assert "26\u00a0kg/m²" in html and "Surpoids" in html  # 79.5 / 1.75² = 25.96
    assert "/constantes/poids/ajouter" not in html  # weight is no longer "missing"


def test_export_needs_a_fresh_login_and_reads_back_as_french_csv(app, holder):
    client, _ = holder
    _post(client, "/constantes/poids/ajouter", value="72,4", day="2026-11-28", at="08:00")
    _post(client, "/constantes/tension/ajouter", value="128", value2="82", day="2026-11-28", at="08:05")
    clock.advance(timedelta(minutes=6))
    r = client.get("/constantes/export.csv")
    assert r.status_code in (302, 303) and "/compte/confirmer" in r.headers["Location"]
    clock.freeze(NOW)
    r = client.get("/constantes/export.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    text = r.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["kind", "loinc", "label", "date", "value", "value2", "unit", "context", "source"]
    assert [
        "blood_pressure",
        "85354-9",
        "Tension artérielle",
        "2026-11-28T08:05:00+01:00",
        "128",
        "82",
        "mm[Hg]",
        "",
        "Saisie par vous",
    ] in rows
    assert ["weight", "29463-7", "Poids", "2026-11-28T08:00:00+01:00", "72,4", "", "kg", "", "Saisie par vous"] in rows
    assert ("measures_exported", {}, None) in _traces(app)


def test_steps_are_a_total_for_the_day_kept_at_local_midnight(app, holder):
    client, _ = holder
    form = client.get("/constantes/pas/ajouter").get_data(as_text=True)
    assert 'name="at"' not in form
    r = _post(client, "/constantes/pas/ajouter", value="8 452", day="2026-11-27")
    assert r.status_code == 204
    [m] = _measures(app)
    assert (m.value, m.when.isoformat()) == (8452, "2026-11-27T00:00:00+01:00")
    again = _post(client, "/constantes/pas/ajouter", value="9000", day="2026-11-27")
    assert again.status_code == 422 and len(_measures(app)) == 1


def test_row_actions_read_well_for_a_measure_of_today(app, holder):
    """ "Corriger la mesure (aujourd’hui à 8 h 15)", never "la mesure du aujourd’hui"."""
    client, _ = holder
    _post(client, "/constantes/poids/ajouter", value="72,4", day="2026-11-28", at="08:15")
    html = client.get("/constantes/poids").get_data(as_text=True)
    assert "du aujourd" not in html and "de aujourd" not in html
    assert "Corriger la mesure (aujourd’hui à" in html and "Supprimer la mesure (aujourd’hui à" in html
