"""CSV files: French spreadsheets, English ones, Carnet's own export; the preview."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from blueprints.measures.imports import upload
from blueprints.measures.imports.importers import csvfile, csvwords
from blueprints.measures.imports.importers.common import Refused, local_iso
from core.db import db
from tests.helpers import measures

FIXTURES = Path(__file__).parent / "fixtures"

FRENCH = (
    "Type;Date;Valeur;Diastolique;Unité;Contexte;Source\r\n"
    "Poids;28/11/2026 08:30;72,4;;kg;;Balance\r\n"
    "tension;28/11/2026 08:35;120/80;;mmHg;;Tensiomètre\r\n"
    "Glycémie;28/11/2026;1,05;;g/L;à jeun;\r\n"
    "Température;27/11/2026 20:00;101,3;;degF;;\r\n"
    "Poids;29/11/2026 08:30;720;;kg;;\r\n"
    "Humeur;29/11/2026 08:30;3;;;;\r\n"
    "Poids;le 30;72;;kg;;\r\n"
).encode()


def test_a_french_spreadsheet_with_semicolons_and_decimal_commas(app, holder_space, run_import):
    viewer, _ = holder_space
    imp = run_import(viewer, "csv", b"\xef\xbb\xbf" + FRENCH, "mesures.csv")
    assert imp.options["delimiter"] == ";" and imp.options["decimal"] == ","
    assert (imp.status, imp.added, imp.rejected) == ("done", 4, 3)
    assert {k: [e["where"] for e in v["examples"]] for k, v in imp.reasons.items()} == {
        "implausible": [6],
        "unknown_kind": [7],
        "bad_date": [8],
    }
    got = {m.kind: m for m in measures(app, viewer.patient_id)}
    assert got["weight"].value == 72.4 and got["weight"].source == "csv" and got["weight"].source_name == "Balance"
    assert got["weight"].when.isoformat() == "2026-11-28T08:30:00+01:00"
    assert (got["blood_pressure"].value, got["blood_pressure"].value2) == (120, 80)
    assert got["glucose"].value == 105 and got["glucose"].context == "fasting"
    assert round(got["temperature"].value, 1) == 38.5


def test_an_english_file_with_commas_iso_dates_and_loinc_codes(app, holder_space, run_import):
    viewer, _ = holder_space
    content = (
        b"kind,date,value,value2,unit\n"
        b"8867-4,2026-07-01T08:00:00+02:00,64,,/min\n"
        b"weight,2026-07-01 07:00,154.3,,lb\n"
        b"blood_pressure,2026-07-01T09:00:00Z,118,76,mm[Hg]\n"
    )
    imp = run_import(viewer, "csv", content, "export.csv")
    assert imp.options["delimiter"] == "," and imp.options["decimal"] == "."
    assert (imp.added, imp.rejected) == (3, 0)
    got = {m.kind: m for m in measures(app, viewer.patient_id)}
    assert got["heart_rate"].when.isoformat() == "2026-07-01T08:00:00+02:00"
    assert got["weight"].when.isoformat() == "2026-07-01T07:00:00+02:00"  # no offset: Paris
    assert round(got["weight"].value, 1) == 70.0
    assert got["blood_pressure"].utc_offset == 0


CARNET_EXPORT = (
    "\ufeffkind;loinc;label;date;value;value2;unit;context;source\r\n"
    "weight;29463-7;Poids;2026-11-28T08:30:00+01:00;72,4;;kg;;Saisie manuelle\r\n"
    "blood_pressure;85354-9;Tension artérielle;2026-11-28T08:35:00+01:00;120;80;mmHg;;Saisie manuelle\r\n"
    "glucose;2345-7;Glycémie;2026-11-28T12:00:00+01:00;95;;mg/dL;before_meal;Apple Santé\r\n"
    "steps;41950-7;Nombre de pas;2026-11-28T00:00:00+01:00;8500;;pas;;Apple Santé\r\n"
).encode()


def test_carnet_reads_back_its_own_export_and_twice_adds_nothing(app, holder_space, run_import):
    viewer, _ = holder_space
    first = run_import(viewer, "csv", CARNET_EXPORT, "carnet-mesures.csv")
    assert (first.added, first.rejected) == (4, 0)
    got = {m.kind: m for m in measures(app, viewer.patient_id)}
    assert got["glucose"].context == "before_meal" and got["steps"].value == 8500
    second = run_import(viewer, "csv", CARNET_EXPORT, "carnet-mesures.csv")
    assert (second.added, second.present) == (0, 4)


def test_the_preview_shows_the_mapping_rows_and_rejects_before_anything_is_saved(app, holder_space):

    viewer, _ = holder_space
    imp = upload.store_upload(viewer, "csv", "mesures.csv", io.BytesIO(FRENCH))
    assert imp.status == "preview"
    assert imp.options["mapping"] == {
        "kind": 0,
        "date": 1,
        "value": 2,
        "value2": 3,
        "unit": 4,
        "context": 5,
        "source": 6,
    }
    p = upload.preview(imp)
    assert [r[0] for r in p["rows"]] == ["weight", "blood_pressure", "glucose", "temperature"]
    assert p["rejected"] == 3 and set(p["reasons"]) == {"implausible", "unknown_kind", "bad_date"}
    db.session.commit()
    assert measures(app, viewer.patient_id) == []


@pytest.mark.parametrize("content", [b"", "Poids\u00a0: 72 kg".encode(), b"%PDF-1.7\n\x00\x01;,;"])
def test_a_file_that_is_not_a_table_is_refused_at_once(app, holder_space, content):

    viewer, _ = holder_space
    with pytest.raises(Refused) as exc:
        upload.store_upload(viewer, "csv", "x.csv", io.BytesIO(content))
    assert exc.value.reason in ("csv_columns", "empty")


def test_a_windows_1252_file_is_read(app, holder_space, run_import):
    viewer, _ = holder_space
    content = "Mesure;Date;Valeur;Unité\r\nPoids;01/02/2026 07:00;71,5;kg\r\n".encode("cp1252")
    imp = run_import(viewer, "csv", content)
    assert imp.options["encoding"] == "cp1252" and imp.added == 1


# --------------------------------------------------------------------------- device exports
# Files as Withings Health Mate and OMRON connect write them (tests/measures/fixtures): the
# kind is in each column's header, with its unit; Withings in English, German and French.


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _sniffed(app, holder_space, name):

    viewer, _ = holder_space
    return upload.store_upload(viewer, "csv", name, io.BytesIO(fixture(name)))


@pytest.mark.parametrize(
    "name, columns",
    [
        ("withings_weight.csv", [(1, "weight", None, "kg")]),
        (
            "withings_bp.csv",
            [
                (1, "heart_rate", None, "/min"),
                (2, "blood_pressure", "sys", "mm[Hg]"),
                (3, "blood_pressure", "dia", "mm[Hg]"),
            ],
        ),
        ("withings_height.csv", [(1, "height", None, "m")]),
        ("withings_gewicht_de.csv", [(1, "weight", None, "kg")]),
        (
            "withings_blutdruck_de.csv",
            [
                (1, "heart_rate", None, "/min"),
                (2, "blood_pressure", "sys", "mm[Hg]"),
                (3, "blood_pressure", "dia", "mm[Hg]"),
            ],
        ),
        ("withings_groesse_de.csv", [(1, "height", None, "m")]),
        ("withings_poids_fr.csv", [(1, "weight", None, "kg")]),
        (
            "omron_connect.csv",
            [
                (2, "blood_pressure", "sys", "mmHg"),
                (3, "blood_pressure", "dia", "mmHg"),
                (4, "heart_rate", None, "/min"),
            ],
        ),
    ],
)
def test_device_exports_are_read_as_wide_files(app, holder_space, name, columns):
    imp = _sniffed(app, holder_space, name)
    assert imp.status == "preview" and imp.options["layout"] == "wide" and imp.options["date"] == 0
    assert [(c["index"], c["kind"], c.get("part"), c["unit"]) for c in imp.options["columns"]] == columns


def test_a_withings_weight_export_brings_the_weights_only(app, holder_space, run_import):
    viewer, _ = holder_space
    imp = run_import(viewer, "csv", fixture("withings_weight.csv"), "weight.csv")
    assert (imp.status, imp.added, imp.rejected) == ("done", 3, 0)
    got = measures(app, viewer.patient_id)
    assert [(m.kind, m.value, m.when.isoformat()) for m in got] == [
        ("weight", 82.1, "2026-02-28T07:31:09+01:00"),
        ("weight", 81.9, "2026-03-01T07:05:12+01:00"),
        ("weight", 81.35, "2026-03-02T07:12:41+01:00"),
    ]


def test_a_withings_blood_pressure_export_pairs_the_pressures_and_keeps_the_pulse(app, holder_space, run_import):
    viewer, _ = holder_space
    imp = run_import(viewer, "csv", fixture("withings_bp.csv"), "bp.csv")
    assert (imp.status, imp.added, imp.rejected) == ("done", 5, 0)  # 3 pulses, 2 pressures (one row has none)
    got = {}
    for m in measures(app, viewer.patient_id):
        got.setdefault(m.kind, []).append(m)
    assert [(m.value, m.value2) for m in got["blood_pressure"]] == [(141, 88), (128, 82)]
    assert [m.value for m in got["heart_rate"]] == [70, 61, 64]


def test_heights_in_metres_and_german_dates_are_converted(app, holder_space, run_import):
    viewer, _ = holder_space
    run_import(viewer, "csv", fixture("withings_height.csv"), "height.csv")
    run_import(viewer, "csv", fixture("withings_groesse_de.csv"), "groesse.csv")
    imp = run_import(viewer, "csv", fixture("withings_gewicht_de.csv"), "gewicht.csv")
    assert (imp.added, imp.rejected) == (2, 0)
    got = measures(app, viewer.patient_id)
    assert sorted(m.value for m in got if m.kind == "height") == [172, 180]
    weights = [m for m in got if m.kind == "weight"]
    assert [(m.value, m.when.isoformat()) for m in weights] == [
        (94.89, "2014-02-12T06:09:00+01:00"),
        (94.34, "2014-02-13T06:04:00+01:00"),
    ]


def test_an_omron_export_honours_its_time_zone_column(app, holder_space, run_import):
    viewer, _ = holder_space
    imp = run_import(viewer, "csv", fixture("omron_connect.csv"), "OMRON connect.csv")
    # 2 pressures, 3 pulses; the last row has no diastolic: its pressure is incomplete
    assert (imp.status, imp.added, imp.rejected) == ("done", 5, 1)
    assert imp.reasons["incomplete"]["examples"] == [{"where": 4, "kind": "blood_pressure"}]
    pressures = [m for m in measures(app, viewer.patient_id) if m.kind == "blood_pressure"]
    assert [(m.value, m.value2, m.when.isoformat(), m.source_name) for m in pressures] == [
        (126, 81, "2026-03-02T08:30:00+08:00", "M7 Intelli IT"),
        (133, 85, "2026-03-02T19:05:00+01:00", "M7 Intelli IT"),
    ]


def test_the_same_device_export_twice_adds_nothing(app, holder_space, run_import):
    viewer, _ = holder_space
    assert run_import(viewer, "csv", fixture("omron_connect.csv")).added == 5
    again = run_import(viewer, "csv", fixture("omron_connect.csv"))
    assert (again.added, again.present) == (0, 5)


def test_unknown_columns_wait_for_the_person_to_say_what_they_hold(app, holder_space, run_import):

    imp = _sniffed(app, holder_space, "unknown_columns.csv")
    assert imp.status == "preview" and imp.options["layout"] == "unknown" and imp.options["decimal"] == ","
    p = upload.preview(imp)
    assert p["rows"] == [] and p["sample"] == ["02/03/2026", "5,4", "7,9", "RAS"]
    with pytest.raises(Refused):
        csvfile.parse([fixture("unknown_columns.csv")], csvfile.Collector(), imp.options)
    with pytest.raises(csvfile.ChoiceError) as exc:
        csvfile.apply_choice(imp.options, "", {1: "glucose|mmol/L"})
    assert exc.value.args[0] == "no_date"
    with pytest.raises(csvfile.ChoiceError) as exc:
        csvfile.apply_choice(imp.options, "0", {1: "blood_pressure.sys|mmHg"})
    assert exc.value.args[0] == "half_pressure"
    with pytest.raises(csvfile.ChoiceError) as exc:
        csvfile.apply_choice(imp.options, "0", {3: "nothing I know"})
    assert exc.value.args[0] == "no_kind"
    chosen = csvfile.apply_choice(imp.options, "0", {1: "glucose|mmol/L", 2: "glucose|mmol/L", 3: ""})
    assert chosen["layout"] == "wide" and [c["index"] for c in chosen["columns"]] == [1, 2]
    p = csvfile.preview([fixture("unknown_columns.csv")], chosen)
    assert [(r[0], round(r[3])) for r in p["rows"]] == [
        ("glucose", 97),
        ("glucose", 142),
        ("glucose", 92),
        ("glucose", 150),
    ]


@pytest.mark.parametrize(
    "text, tz, expected",
    [
        ("2024/01/15 08:30", "Asia/Manila", "2024-01-15T08:30:00+08:00"),
        ("2024-01-15 08:30:00", "+05:30", "2024-01-15T08:30:00+05:30"),
        ("2024-01-15 08:30", "GMT-5", "2024-01-15T08:30:00-05:00"),
        ("2024-01-15T08:30:00Z", "Asia/Manila", "2024-01-15T08:30:00+00:00"),  # the cell's own offset wins
        ("2014-02-13 6:04 Uhr", None, "2014-02-13T06:04:00+01:00"),
        ("13.02.2014 06:04", None, "2014-02-13T06:04:00+01:00"),
        ("2024/07/15 8:30 PM", "", "2024-07-15T20:30:00+02:00"),
        ("2024-07-15 08:30", "Nowhere/Land", "2024-07-15T08:30:00+02:00"),  # unreadable: Paris
    ],
)
def test_dates_and_time_zones_as_devices_write_them(text, tz, expected):

    taken, off = csvwords.parse_date(text, csvwords.zone(tz or ""))
    assert local_iso(taken, off) == expected[:16] + expected[19:]
