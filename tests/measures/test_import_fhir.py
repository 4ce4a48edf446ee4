"""FHIR R4 Bundles: LOINC codes, UCUM units converted, blood pressure components."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from blueprints.measures import kinds
from blueprints.measures.imports import upload
from blueprints.measures.imports.importers import fhir
from blueprints.measures.imports.importers.common import Refused
from tests.helpers import measures
from tests.samples import bundle, observation


def test_a_bundle_of_observations_is_converted_to_canonical_units(app, holder_space, run_import):
    viewer, _ = holder_space
    content = bundle(
        observation("29463-7", 160, "[lb_av]", device={"display": "Balance connectée"}),
        observation("8310-5", 100.4, "[degF]", when="2026-03-01T07:00:00Z"),
        observation("88365-2", 5.5, "mmol/L"),
        observation(
            "85354-9",
            components=[("8480-6", 132), ("8462-4", 85)],
            effectivePeriod={"start": "2026-03-02T09:00:00+01:00"},
            effectiveDateTime=None,
        ),
        observation("59408-5", 96, "%", when="2026-03-03"),
        observation("1234-5", 3, "mg"),  # a code Carnet does not keep
        {"resourceType": "Patient", "id": "p1"},
    )
    imp = run_import(viewer, "fhir", content, "bundle.json")
    assert (imp.status, imp.added, imp.rejected, imp.ignored) == ("done", 5, 0, 2)
    got = {m.kind: m for m in measures(app, viewer.patient_id)}
    assert round(got["weight"].value, 1) == 72.6 and got["weight"].source == "fhir"
    assert got["weight"].source_name == "Balance connectée"
    assert round(got["temperature"].value, 1) == 38.0 and got["temperature"].utc_offset == 0
    assert round(got["glucose"].value) == 99 and got["glucose"].context == "before_meal"
    assert (got["blood_pressure"].value, got["blood_pressure"].value2) == (132, 85)
    assert got["blood_pressure"].when.isoformat() == "2026-03-02T09:00:00+01:00"
    assert got["spo2"].when.isoformat() == "2026-03-03T00:00:00+01:00"


def test_incomplete_or_implausible_observations_are_rejected(app, holder_space, run_import):
    viewer, _ = holder_space
    content = bundle(
        observation("85354-9", components=[("8480-6", 132)]),
        observation("29463-7", 7000, "kg"),
        observation("29463-7", 70, "stone"),
        observation("29463-7", 70, "kg", when="bientôt"),
        observation("8867-4", 64, "/min"),
    )
    imp = run_import(viewer, "fhir", content)
    assert (imp.added, imp.rejected) == (1, 4)
    assert {k: v["count"] for k, v in imp.reasons.items()} == {
        "incomplete": 1,
        "implausible": 1,
        "unknown_unit": 1,
        "bad_date": 1,
    }
    assert imp.reasons["incomplete"]["examples"] == [{"where": 1, "kind": "blood_pressure"}]


def test_same_bundle_twice_adds_nothing(app, holder_space, run_import):
    viewer, _ = holder_space
    content = bundle(observation("8867-4", 64, "/min"), observation("29463-7", 72.4, "kg"))
    assert run_import(viewer, "fhir", content).added == 2
    again = run_import(viewer, "fhir", content)
    assert (again.added, again.present) == (0, 2)


def test_not_json_or_not_fhir_fails_with_a_reason(app, holder_space, run_import):
    viewer, _ = holder_space
    assert run_import(viewer, "fhir", b"{not json").error == "json"
    assert run_import(viewer, "fhir", json.dumps({"resourceType": "Patient"}).encode()).error == "not_fhir"


def test_a_json_file_above_the_bound_is_refused(app, holder_space, monkeypatch):

    viewer, _ = holder_space
    monkeypatch.setattr(fhir, "MAX_BYTES", 100)
    with pytest.raises(Refused) as exc:
        upload.store_upload(viewer, "fhir", "big.json", io.BytesIO(bundle(*[observation("8867-4", 64, "/min")] * 5)))
    assert exc.value.reason == "too_large"


def test_a_synthea_bundle_keeps_its_blood_pressures_and_every_vital_sign(app, holder_space, run_import):
    """Synthea 2.x (and many EHRs) code a blood pressure with the panel 55284-4, an oral
    temperature 8331-1, SpO2 2708-6: the vital signs profile's alternatives are all kept."""

    viewer, _ = holder_space
    content = (Path(__file__).parent / "fixtures" / "synthea_vitals.json").read_bytes()
    imp = run_import(viewer, "fhir", content, "Camille_Martin.json")
    assert (imp.status, imp.rejected) == ("done", 0)
    assert imp.added == 14 and imp.ignored == 3  # Patient, Encounter, smoking status
    assert imp.reasons["_ignored"] == {"72166-2": 1, "Encounter": 1, "Patient": 1}
    got = {}
    for m in measures(app, viewer.patient_id):
        got.setdefault(m.kind, []).append(m)
    bp = got["blood_pressure"]
    assert [(m.value, m.value2, m.when.isoformat()) for m in bp] == [(131, 84, "2019-03-27T10:37:24+01:00")]
    assert [m.value for m in got["weight"]] == [71.9, 72.3]
    assert [m.value for m in got["height"]] == [166.2, 52.0]
    assert [round(m.value, 1) for m in got["temperature"]] == [37.1]
    assert [m.value for m in got["spo2"]] == [97]
    assert [m.value for m in got["heart_rate"]] == [77] and [m.value for m in got["respiratory_rate"]] == [14]
    assert [round(m.value, 1) for m in got["glucose"]] == [92.6] and [m.value for m in got["hba1c"]] == [5.9]
    assert [m.value for m in got["head"]] == [35.1] and [m.value for m in got["pain"]] == [2]
    assert [round(m.value, 2) for m in got["bmi"]] == [26.03]


def test_every_alternative_code_maps_onto_a_kind():

    for key, codes in kinds.LOINC_ALIASES.items():
        for code in codes:
            assert kinds.BY_LOINC[code].key == key
    assert kinds.BY_LOINC["55284-4"].key == kinds.BY_LOINC["85354-9"].key == "blood_pressure"
