"""The prevention calendar: the rules file read and checked, the items of each age band and
sex, vaccinations of the profile counting as done, and the holder's marks and switch."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from blueprints.agenda.models import PreventionMark
from blueprints.agenda.prevention import rules as R
from blueprints.profile.models import Vaccination
from core.audit import Action
from core.db import db
from core.people import Patient
from tests.helpers import csrf_token, rows, traces

TODAY = date(2026, 12, 3)


def _keys(born, sex=None, vaccinations=(), marks=None, states=None):
    items = R.items_for(born, sex, TODAY, list(vaccinations), marks or {})
    return {i.key: i.state for i in items if states is None or i.state in states}


def test_the_rules_file_is_whole():
    rules = R.load()
    ids = {r.id for r in rules.rules}
    assert {"dtp-adult", "flu", "child-exam", "dental", "colorectal", "breast", "cervical-cytology"} <= ids
    exams = next(r for r in rules.rules if r.id == "child-exam")
    assert len(exams.ages) == 20  # the 20 compulsory examinations
    adult = next(r for r in rules.rules if r.id == "dtp-adult")
    assert [a.text for a in adult.ages][:5] == ["25y", "45y", "65y", "75y", "85y"]
    for r in rules.rules:
        assert r.source in rules.sources and r.title["fr"] and r.why["en"]


def test_a_baby_of_six_months():
    got = _keys(date(2026, 6, 1), "F")
    assert got["child-exam@6m"] == "due"
    assert got["hexavalent@4m"] == "late" and got["meningococcal-b@5m"] == "late"
    assert got["hexavalent@11m"] == "coming" and got["mmr@12m"] == "coming"
    assert not any(k.startswith(("dental", "colorectal", "dtp-adult", "flu")) for k in got)


def test_a_child_of_six_sees_the_booster_the_examination_and_the_dentist():
    got = _keys(date(2020, 11, 20), "M")
    assert got["dtcap-6@6y"] == "due" and got["child-exam@6y"] == "due" and got["dental@6y"] == "due"
    assert "hpv@11y" not in got


def test_a_teenager_of_eleven_girl_or_boy_is_offered_hpv():
    for sex in ("F", "M"):
        got = _keys(date(2015, 10, 1), sex)
        assert got["hpv@11y"] in ("due", "late") and got["meningococcal-acwy-teen@11y"] in ("due", "late")
        assert got["hpv@11y6m"] == "coming" and got["dtcap-11@11y"] in ("due", "late")


def test_a_woman_of_twenty_five():
    got = _keys(date(2001, 11, 20), "F")
    assert got["dtp-adult@25y"] == "due" and got["cervical-cytology@25y"] == "due"
    assert not any(k.startswith("dental") for k in got)  # M'T dents ends at 24
    assert got["cervical-cytology@26y"] == "coming"
    assert not any(k.startswith("cervical") for k in _keys(date(2001, 11, 20), "M"))


def test_at_forty_five_the_booster():
    got = _keys(date(1981, 12, 20), "M")
    # the booster of 25 never done stays late until the one of 45 is due
    assert got == {"dtp-adult@25y": "late", "dtp-adult@45y": "coming"}


def test_at_fifty_two_screenings_by_sex():
    woman = _keys(date(1974, 11, 10), "F")
    man = _keys(date(1974, 11, 10), "M")
    assert woman["colorectal@52y"] == "due" and woman["breast@52y"] == "due" and woman["cervical-hpv@52y"] == "due"
    assert man["colorectal@52y"] == "due" and not any(k.startswith(("breast", "cervical")) for k in man)
    unknown = _keys(date(1974, 11, 10), None)
    assert "colorectal@52y" in unknown and not any(k.startswith(("breast", "cervical")) for k in unknown)


def test_at_sixty_six_flu_every_autumn_and_the_boosters_of_sixty_five():
    got = _keys(date(1960, 6, 1), "F")
    assert got["flu@2026"] == "due" and got["flu@2027"] == "coming"
    assert got["dtp-adult@65y"] == "late" and got["pneumococcal-adult@65y"] == "late" and got["shingles@65y"] == "late"
    assert got["colorectal@66y"] == "late" and got["breast@66y"] == "late"


def test_at_eighty_the_ten_yearly_booster_and_the_end_of_screenings():
    got = _keys(date(1946, 5, 1), "F")
    assert got["dtp-adult@75y"] == "late"  # due at 75, still to do until 85
    assert not any(k.startswith(("colorectal", "breast", "cervical")) for k in got)
    assert got["flu@2026"] == "due"


def test_a_vaccination_of_the_profile_counts_as_done():
    flu = R.Vaccination("v1", "Vaxigrip Tetra (grippe)", date(2026, 10, 20))
    dtp = R.Vaccination("v2", "Rappel dTP — Revaxis", date(2025, 7, 1))
    got = R.items_for(date(1960, 6, 1), "F", TODAY, [flu, dtp], {})
    by_key = {i.key: i for i in got}
    assert by_key["flu@2026"].state == "done" and by_key["flu@2026"].from_profile
    assert by_key["dtp-adult@65y"].state == "done" and by_key["dtp-adult@65y"].vaccination_id == "v2"
    # a dose counts once: the infant series takes them in order
    doses = [R.Vaccination(f"h{i}", "Hexyon", d) for i, d in enumerate([date(2026, 8, 2), date(2026, 10, 3)])]
    baby = {i.key: i.state for i in R.items_for(date(2026, 6, 1), "M", TODAY, doses, {})}
    assert baby["hexavalent@2m"] == "done" and baby["hexavalent@4m"] == "done"
    assert baby["hexavalent@11m"] == "coming"


def test_marks_done_and_dismissed():
    marks = {"colorectal@52y": R.Mark("done", date(2026, 11, 30)), "breast@52y": R.Mark("dismissed")}
    got = _keys(date(1974, 11, 10), "F", marks=marks)
    assert got["colorectal@52y"] == "done" and got["breast@52y"] == "dismissed"


@pytest.fixture
def woman_of_52(app, me):
    client, account = me
    with app.app_context():
        db.session.execute(
            update(Patient).where(Patient.id == account.patient_id).values(birth_date=date(1974, 11, 10), sex="F")
        )
        db.session.add(Vaccination(patient_id=account.patient_id, name="Grippe", on_date=date(2026, 10, 1)))
        db.session.commit()
    return client, account


def _post(client, url, **data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/agenda/")}, headers={"HX-Request": "true"})


def test_the_page_explains_each_item_and_its_rule(app, woman_of_52):
    client, _ = woman_of_52
    page = client.get("/agenda/prevention").get_data(as_text=True)
    assert "Dépistage du cancer du sein" in page and "Dépistage du cancer colorectal" in page
    assert "Pourquoi cette suggestion" in page and "INCa" in page and "à 52 ans" in page
    assert "Grippe saisonnière" not in page  # 52: not yet


def test_mark_done_with_a_document_dismiss_and_bring_back(app, woman_of_52, make_document):
    client, account = woman_of_52
    doc = make_document(account.patient_id, title="Résultat test colorectal", act_date=date(2026, 11, 28))
    page = client.get("/agenda/prevention").get_data(as_text=True)
    assert '<option value="">Rien</option>' in page  # what the done mark may be linked to
    assert f'<option value="d:{doc.id}">Document\xa0: Résultat test colorectal (28/11/2026)</option>' in page
    r = _post(client, "/agenda/prevention/fait", item="colorectal@52y", done_on="2026-11-28", link=f"d:{doc.id}")
    assert r.status_code == 200 and "Résultat test colorectal" in r.get_data(as_text=True)
    [mark] = rows(app, PreventionMark)
    assert mark.status == "done" and mark.document_id == doc.id and mark.done_on == date(2026, 11, 28)
    r = _post(client, "/agenda/prevention/ecarter", item="breast@52y")
    assert r.status_code == 200 and "Écarté" in r.get_data(as_text=True)
    r = _post(client, "/agenda/prevention/retablir", item="breast@52y")
    assert r.status_code == 200 and "À faire maintenant" in r.get_data(as_text=True)
    assert [m.item for m in rows(app, PreventionMark)] == ["colorectal@52y"]
    statuses = [t.detail["status"] for t in traces(app, Action.PREVENTION_MARKED)]
    assert sorted(statuses) == ["dismissed", "done", "restored"]


def test_a_future_date_an_unknown_item_or_someone_elses_document_are_refused(
    app, woman_of_52, make_holder, make_document
):
    client, _ = woman_of_52
    r = _post(client, "/agenda/prevention/fait", item="colorectal@52y", done_on="2027-01-01", link="")
    assert r.status_code == 422 and "Choisissez une date passée" in r.get_data(as_text=True)
    assert _post(client, "/agenda/prevention/ecarter", item="colorectal@60y").status_code == 404
    other, _ = make_holder()
    foreign = make_document(other, title="Pas à vous")
    r = _post(client, "/agenda/prevention/fait", item="colorectal@52y", done_on="", link=f"d:{foreign.id}")
    assert r.status_code == 422 and rows(app, PreventionMark) == []


def test_the_whole_calendar_turns_off_and_on(app, woman_of_52):
    client, _ = woman_of_52
    r = client.post("/agenda/prevention/reglage", data={"csrf_token": csrf_token(client, "/agenda/")})
    assert r.status_code == 303
    page = client.get("/agenda/prevention").get_data(as_text=True)
    assert "Calendrier de prévention désactivé" in page and "Dépistage du cancer du sein" not in page
    client.post("/agenda/prevention/reglage", data={"prevention": "y", "csrf_token": csrf_token(client, "/agenda/")})
    assert "Dépistage du cancer du sein" in client.get("/agenda/prevention").get_data(as_text=True)
    assert len(traces(app, Action.PREVENTION_SETTINGS_UPDATED)) == 2
