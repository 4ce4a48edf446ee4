"""Apple Health exports: DTD accepted, entities refused, units, correlations, steps per day."""

from __future__ import annotations

import io
import zipfile

import pytest

from blueprints.measures.imports import upload
from blueprints.measures.imports.importers import apple
from blueprints.measures.imports.importers.common import IGNORED_NAMED, Collector, Refused
from core.blobs import BlobKey
from core.db import db
from tests.helpers import measures
from tests.samples import DTD, apple_xml, apple_zip, pressure, record

D = "2024-03-01 {} +0100"
MEAL = '<MetadataEntry key="HKBloodGlucoseMealTime" value="{}"/>'


def _by_kind(app, patient_id):
    out = {}
    for m in measures(app, patient_id):
        out.setdefault(m.kind, []).append(m)
    return out


def test_a_zipped_export_with_its_dtd_brings_every_supported_kind(app, holder_space, run_import):
    viewer, _ = holder_space
    xml = apple_xml(
        record("BodyMass", 160, "lb", D.format("07:58:00"), "Balance Withings"),
        record("BodyTemperature", 98.6, "degF", D.format("08:00:00")),
        record("HeartRate", 62, "count/min", D.format("08:00:00")),
        record("OxygenSaturation", 0.97, "%", D.format("08:01:00")),
        record("BloodGlucose", 5.5, "mmol<180.1558800000541>/L", D.format("09:00:00"), inner=MEAL.format(1)),
        record("BloodGlucose", 140, "mg/dL", D.format("13:30:00"), inner=MEAL.format(2)),
        pressure(125, 82, D.format("09:05:00")),
        record("BloodPressureSystolic", 125, "mmHg", D.format("09:05:00")),  # duplicate of the correlation
        record("BloodPressureDiastolic", 82, "mmHg", D.format("09:05:00")),
        record("Height", 5.5, "ft", D.format("07:00:00")),
        record("DietaryWater", 250, "mL", D.format("10:00:00")),
        record("ActiveEnergyBurned", 12, "kcal", D.format("10:00:00")),
    )
    imp = run_import(viewer, "apple", apple_zip(xml), "export.zip")
    assert (imp.status, imp.error, imp.rejected) == ("done", None, 0)
    assert imp.added == 8 and imp.present == 0 and imp.ignored == 2
    assert imp.reasons["_ignored"] == {"DietaryWater": 1, "ActiveEnergyBurned": 1}
    got = _by_kind(app, viewer.patient_id)
    assert round(got["weight"][0].value, 1) == 72.6 and got["weight"][0].source == "apple"
    assert got["weight"][0].source_name == "Balance Withings" and got["weight"][0].import_id == imp.id
    assert got["weight"][0].when.isoformat() == "2024-03-01T07:58:00+01:00"
    assert round(got["temperature"][0].value, 1) == 37.0
    assert got["spo2"][0].value == 97
    assert round(got["height"][0].value, 1) == 167.6
    assert [(round(g.value), g.context) for g in got["glucose"]] == [(99, "before_meal"), (140, "after_meal")]
    assert len(got["blood_pressure"]) == 1 and (got["blood_pressure"][0].value, got["blood_pressure"][0].value2) == (
        125,
        82,
    )
    assert got["blood_pressure"][0].source_name == "Omron Connect"


def test_steps_are_one_total_per_local_day_from_the_busiest_source(app, holder_space, run_import):
    viewer, _ = holder_space
    xml = apple_xml(
        record("StepCount", 1000, "count", D.format("09:00:00"), "iPhone"),
        record("StepCount", 1500, "count", D.format("18:00:00"), "iPhone"),
        record("StepCount", 3000, "count", D.format("10:00:00"), "Apple Watch"),  # same walk, seen twice
        record("StepCount", 400, "count", "2024-03-02 00:30:00 +0100", "iPhone"),
    )
    imp = run_import(viewer, "apple", xml, "export.xml")
    assert imp.status == "done" and imp.added == 2
    steps = _by_kind(app, viewer.patient_id)["steps"]
    assert [(s.when.isoformat(), s.value, s.source_name) for s in steps] == [
        ("2024-03-01T00:00:00+01:00", 3000, "Apple Watch"),
        ("2024-03-02T00:00:00+01:00", 400, "iPhone"),
    ]


def test_implausible_values_and_unknown_units_are_rejected_with_reasons(app, holder_space, run_import):
    viewer, _ = holder_space
    xml = apple_xml(
        record("BodyMass", 700, "kg", D.format("07:00:00")),
        record("BodyMass", 70, "stone", D.format("07:10:00")),
        record("HeartRate", "abc", "count/min", D.format("07:20:00")),
        record("HeartRate", 60, "count/min", "hier matin"),
        pressure(80, 120, D.format("09:00:00")),  # diastolic above systolic
        record("HeartRate", 61, "count/min", D.format("07:30:00")),
    )
    imp = run_import(viewer, "apple", xml)
    assert imp.status == "done" and imp.added == 1 and imp.rejected == 5
    assert {k: v["count"] for k, v in imp.reasons.items()} == {
        "implausible": 2,
        "unknown_unit": 1,
        "bad_value": 1,
        "bad_date": 1,
    }
    assert imp.reasons["implausible"]["examples"][0] == {"where": D.format("07:00:00"), "kind": "weight"}


def test_importing_the_same_file_twice_adds_nothing(app, holder_space, run_import):
    viewer, _ = holder_space
    content = apple_zip(
        apple_xml(
            record("BodyMass", 72.4, "kg", D.format("07:00:00")),
            record("StepCount", 500, "count", D.format("09:00:00")),
            pressure(120, 80, D.format("09:00:00")),
        )
    )
    first = run_import(viewer, "apple", content)
    second = run_import(viewer, "apple", content)
    assert (first.added, first.present) == (3, 0)
    assert (second.added, second.present, second.status) == (0, 3, "done")
    assert len(measures(app, viewer.patient_id)) == 3


BILLION_LAUGHS = """<!DOCTYPE HealthData [
<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
"""
EXTERNAL = """<!DOCTYPE HealthData [
<!ENTITY secret SYSTEM "file:///etc/passwd">
]>
"""


@pytest.mark.parametrize(
    "doctype, body", [(BILLION_LAUGHS, "&lol3;"), (EXTERNAL, "&secret;")], ids=["entity-expansion", "external-entity"]
)
def test_entity_declarations_refuse_the_whole_file(app, holder_space, run_import, doctype, body):
    viewer, _ = holder_space
    xml = apple_xml(record("BodyMass", 72, "kg", D.format("07:00:00"), source=body), doctype=doctype)
    imp = run_import(viewer, "apple", apple_zip(xml))
    assert (imp.status, imp.error, imp.added) == ("failed", "entities", 0)
    assert measures(app, viewer.patient_id) == [] and imp.blob_id is None


def test_a_damaged_export_fails_with_a_reason_and_keeps_nothing_of_the_file(app, holder_space, run_import):

    viewer, _ = holder_space
    xml = apple_xml(record("BodyMass", 72, "kg", D.format("07:00:00")))[:-40]
    imp = run_import(viewer, "apple", xml)
    assert (imp.status, imp.error) == ("failed", "xml")
    assert db.session.query(BlobKey).count() == 0


def test_a_french_iphone_export_and_a_bare_file_are_found(app, holder_space, run_import):
    viewer, _ = holder_space
    xml = apple_xml(record("BodyMass", 72, "kg", D.format("07:00:00")), doctype=DTD)
    imp = run_import(viewer, "apple", apple_zip(xml, "apple_health_export/exportation.xml"))
    assert imp.status == "done" and imp.added == 1


def test_a_zip_without_an_export_or_another_file_is_refused_at_once(app, holder_space):

    viewer, _ = holder_space

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("photos/IMG_0001.jpg", b"\xff\xd8\xff")
    for content, reason in ((out.getvalue(), "no_export"), (b"%PDF-1.7", "no_export"), (b"PK\x03\x04broken", "zip")):
        with pytest.raises(Refused) as exc:
            upload.store_upload(viewer, "apple", "export.zip", io.BytesIO(content))
        assert exc.value.reason == reason


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def test_the_meal_context_is_read_under_the_key_real_exports_write(app, holder_space, run_import):
    """export.xml writes HealthKit's key "HKBloodGlucoseMealTime" with 1 (before a meal) or 2
    (after), some tools the case's name: each reading keeps its meal context."""
    viewer, _ = holder_space
    xml = (FIXTURES / "apple_glucose_export.xml").read_bytes()
    imp = run_import(viewer, "apple", apple_zip(xml), "export.zip")
    assert (imp.status, imp.added, imp.rejected) == ("done", 4, 0)
    got = _by_kind(app, viewer.patient_id)["glucose"]
    assert [(round(g.value), g.context, g.source_name) for g in got] == [
        (115, "before_meal", "Santé"),
        (168, "after_meal", "Santé"),
        (94, "before_meal", "OneTouch Reveal"),
        (121, None, "Santé"),
    ]


def test_an_xml_file_that_is_not_an_apple_export_is_refused(app, holder_space):
    """A GPX route (or any XML whose root is not <HealthData>) is not "0 measures added"."""

    viewer, _ = holder_space
    gpx = (FIXTURES / "route.gpx").read_bytes()
    for content in (gpx, apple_zip(gpx), b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>'):
        with pytest.raises(Refused) as exc:
            upload.store_upload(viewer, "apple", "export.zip", io.BytesIO(content))
        assert exc.value.reason == "no_export"
    assert db.session.query(BlobKey).count() == 0
    with pytest.raises(Refused) as exc:  # the job checks it too (a root beyond the bytes read at upload)
        apple.parse([gpx], Collector())
    assert exc.value.reason == "no_export"


def test_a_zip_that_would_inflate_far_more_than_an_export_is_refused(app, holder_space, monkeypatch):

    viewer, _ = holder_space
    padding = "<!-- " + " " * 300_000 + " -->\n"  # deflates about a thousandfold
    xml = apple_xml(record("BodyMass", 72, "kg", D.format("07:00:00")) + padding)
    content = apple_zip(xml)
    info = [i for i in zipfile.ZipFile(io.BytesIO(content)).infolist() if i.filename.endswith("export.xml")][0]
    assert info.file_size > upload.MAX_RATIO * info.compress_size
    with pytest.raises(Refused) as exc:
        upload.store_upload(viewer, "apple", "export.zip", io.BytesIO(content))
    assert exc.value.reason == "inflates"
    monkeypatch.setattr(upload, "MAX_RATIO", 2000)  # under the bound, the same file is taken
    assert upload.store_upload(viewer, "apple", "export.zip", io.BytesIO(content)).status == "pending"


def test_a_real_export_inflates_well_under_the_bound(app, holder_space):

    viewer, _ = holder_space
    rows = [
        record(
            "HeartRate",
            60 + i % 40,
            "count/min",
            f"2024-03-01 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} +0100",
        )
        for i in range(5000)
    ]
    imp = upload.store_upload(viewer, "apple", "export.zip", io.BytesIO(apple_zip(apple_xml(*rows))))
    assert imp.status == "pending"


def test_the_not_kept_summary_names_every_type_or_counts_the_rest():

    col = Collector()
    for i in range(12):
        col.ignore(f"Type{i:02d}", 12 - i)
    summary = col.summary()
    assert summary["_ignored"] == {f"Type{i:02d}": 12 - i for i in range(12)} and "_ignored_more" not in summary
    for i in range(IGNORED_NAMED + 5):
        col.ignore(f"Other{i:02d}")
    summary = col.summary()
    assert len(summary["_ignored"]) == IGNORED_NAMED
    named = sum(summary["_ignored"].values())
    assert summary["_ignored_more"] == {"types": 17, "count": col.ignored - named}
