"""CSV files: French spreadsheets, English ones, Carnet's own export; the preview."""
from __future__ import annotations

import io

import pytest

from blueprints.constants.importers import Refused
from tests.constants.conftest import measures

FRENCH = ("Type;Date;Valeur;Diastolique;Unité;Contexte;Source\r\n"
          "Poids;28/11/2026 08:30;72,4;;kg;;Balance\r\n"
          "tension;28/11/2026 08:35;120/80;;mmHg;;Tensiomètre\r\n"
          "Glycémie;28/11/2026;1,05;;g/L;à jeun;\r\n"
          "Température;27/11/2026 20:00;101,3;;degF;;\r\n"
          "Poids;29/11/2026 08:30;720;;kg;;\r\n"
          "Humeur;29/11/2026 08:30;3;;;;\r\n"
          "Poids;le 30;72;;kg;;\r\n").encode("utf-8")


def test_a_french_spreadsheet_with_semicolons_and_decimal_commas(app, space, run_import):
    viewer, _ = space
    imp = run_import(viewer, "csv", b"\xef\xbb\xbf" + FRENCH, "mesures.csv")
    assert imp.options["delimiter"] == ";" and imp.options["decimal"] == ","
    assert (imp.status, imp.added, imp.rejected) == ("done", 4, 3)
    assert {k: [e["where"] for e in v["examples"]] for k, v in imp.reasons.items()} == {
        "implausible": [6], "unknown_kind": [7], "bad_date": [8]}
    got = {m.kind: m for m in measures(app, viewer.patient_id)}
    assert got["weight"].value == 72.4 and got["weight"].source == "csv" and got["weight"].source_name == "Balance"
    assert got["weight"].when.isoformat() == "2026-11-28T08:30:00+01:00"
    assert (got["blood_pressure"].value, got["blood_pressure"].value2) == (120, 80)
    assert got["glucose"].value == 105 and got["glucose"].context == "fasting"
    assert round(got["temperature"].value, 1) == 38.5


def test_an_english_file_with_commas_iso_dates_and_loinc_codes(app, space, run_import):
    viewer, _ = space
    content = ("kind,date,value,value2,unit\n"
               "8867-4,2026-07-01T08:00:00+02:00,64,,/min\n"
               "weight,2026-07-01 07:00,154.3,,lb\n"
               "blood_pressure,2026-07-01T09:00:00Z,118,76,mm[Hg]\n").encode()
    imp = run_import(viewer, "csv", content, "export.csv")
    assert imp.options["delimiter"] == "," and imp.options["decimal"] == "."
    assert (imp.added, imp.rejected) == (3, 0)
    got = {m.kind: m for m in measures(app, viewer.patient_id)}
    assert got["heart_rate"].when.isoformat() == "2026-07-01T08:00:00+02:00"
    assert got["weight"].when.isoformat() == "2026-07-01T07:00:00+02:00"  # no offset: Paris
    assert round(got["weight"].value, 1) == 70.0
    assert got["blood_pressure"].utc_offset == 0


CARNET_EXPORT = ("\ufeffkind;loinc;label;date;value;value2;unit;context;source\r\n"
                 "weight;29463-7;Poids;2026-11-28T08:30:00+01:00;72,4;;kg;;Saisie manuelle\r\n"
                 "blood_pressure;85354-9;Tension artérielle;2026-11-28T08:35:00+01:00;120;80;mmHg;;Saisie manuelle\r\n"
                 "glucose;2345-7;Glycémie;2026-11-28T12:00:00+01:00;95;;mg/dL;before_meal;Apple Santé\r\n"
                 "steps;41950-7;Nombre de pas;2026-11-28T00:00:00+01:00;8500;;pas;;Apple Santé\r\n").encode()


def test_carnet_reads_back_its_own_export_and_twice_adds_nothing(app, space, run_import):
    viewer, _ = space
    first = run_import(viewer, "csv", CARNET_EXPORT, "carnet-mesures.csv")
    assert (first.added, first.rejected) == (4, 0)
    got = {m.kind: m for m in measures(app, viewer.patient_id)}
    assert got["glucose"].context == "before_meal" and got["steps"].value == 8500
    second = run_import(viewer, "csv", CARNET_EXPORT, "carnet-mesures.csv")
    assert (second.added, second.present) == (0, 4)


def test_the_preview_shows_the_mapping_rows_and_rejects_before_anything_is_saved(app, space):
    from blueprints.constants import imports
    from core.db import db

    viewer, _ = space
    imp = imports.store_upload(viewer, "csv", "mesures.csv", io.BytesIO(FRENCH))
    assert imp.status == "preview"
    assert imp.options["mapping"] == {"kind": 0, "date": 1, "value": 2, "value2": 3, "unit": 4, "context": 5,
                                      "source": 6}
    p = imports.preview(imp)
    assert [r[0] for r in p["rows"]] == ["weight", "blood_pressure", "glucose", "temperature"]
    assert p["rejected"] == 3 and set(p["reasons"]) == {"implausible", "unknown_kind", "bad_date"}
    db.session.commit()
    assert measures(app, viewer.patient_id) == []


@pytest.mark.parametrize("content", [b"nom;prenom\nMartin;Camille\n", b"", "Poids\u00a0: 72 kg".encode()])
def test_a_file_without_the_needed_columns_is_refused_at_once(app, space, content):
    from blueprints.constants import imports

    viewer, _ = space
    with pytest.raises(Refused) as exc:
        imports.store_upload(viewer, "csv", "x.csv", io.BytesIO(content))
    assert exc.value.reason in ("csv_columns", "empty")


def test_a_windows_1252_file_is_read(app, space, run_import):
    viewer, _ = space
    content = "Mesure;Date;Valeur;Unité\r\nPoids;01/02/2026 07:00;71,5;kg\r\n".encode("cp1252")
    imp = run_import(viewer, "csv", content)
    assert imp.options["encoding"] == "cp1252" and imp.added == 1
