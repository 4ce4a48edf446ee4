"""Units, plausibility and identity of measures: the rules every entry path shares."""

from __future__ import annotations

import pytest

from blueprints.measures import kinds


def test_every_kind_of_the_domain_is_there_with_its_loinc_code_and_ucum_unit():
    expected = {
        "weight": ("29463-7", "kg"),
        "height": ("8302-2", "cm"),
        "bmi": ("39156-5", "kg/m2"),
        "heart_rate": ("8867-4", "/min"),
        "blood_pressure": ("85354-9", "mm[Hg]"),
        "temperature": ("8310-5", "Cel"),
        "respiratory_rate": ("9279-1", "/min"),
        "spo2": ("59408-5", "%"),
        "glucose": ("2345-7", "mg/dL"),
        "hba1c": ("4548-4", "%"),
        "waist": ("8280-0", "cm"),
        "head": ("8287-5", "cm"),
        "steps": ("41950-7", "/d"),
        "pain": ("72514-3", "{score}"),
    }
    assert {k: (v.loinc, v.unit) for k, v in kinds.KINDS.items()} == expected
    assert (kinds.SYSTOLIC, kinds.DIASTOLIC) == ("8480-6", "8462-4")
    assert {code for _label, code in kinds.MEAL_CONTEXTS.values()} == {"53049-3", "88365-2", "16915-1"}
    assert len(kinds.BY_SLUG) == len(kinds.KINDS)


@pytest.mark.parametrize(
    "kind, value, unit, expected",
    [
        ("weight", 160, "[lb_av]", 72.575),
        ("weight", 72400, "g", 72.4),
        ("height", 1.66, "m", 166),
        ("height", 65, "[in_i]", 165.1),
        ("temperature", 98.6, "[degF]", 37.0),
        ("glucose", 0.95, "g/L", 95),
        ("glucose", 5.5, "mmol/L", 99.09),
        ("spo2", 0.97, "1", 97),
        ("hba1c", 48, "mmol/mol", 6.54),
        ("blood_pressure", 16, "kPa", 120.01),
    ],
)
def test_units_are_converted_to_the_canonical_one(kind, value, unit, expected):
    assert kinds.get(kind).convert(value, unit) == pytest.approx(expected, abs=0.01)


def test_the_canonical_unit_or_none_is_taken_as_is_and_an_unknown_unit_is_refused():
    weight = kinds.get("weight")
    assert weight.convert(72.4, "kg") == 72.4 and weight.convert(72.4, None) == 72.4
    with pytest.raises(kinds.UnknownUnit):
        weight.convert(72.4, "stone")


@pytest.mark.parametrize(
    "kind, value, value2",
    [
        ("weight", 700, None),
        ("weight", 0.1, None),
        ("temperature", 3, None),
        ("temperature", 98.6, None),
        ("heart_rate", 400, None),
        ("spo2", 101, None),
        ("pain", 11, None),
        ("steps", -5, None),
        ("blood_pressure", 300, 80),
        ("blood_pressure", 120, None),
        ("blood_pressure", 120, 5),
    ],
)
def test_implausible_values_are_refused(kind, value, value2):
    with pytest.raises(kinds.Implausible):
        kinds.check(kinds.get(kind), value, value2)


def test_blood_pressure_low_number_must_be_below_the_high_one():
    with pytest.raises(kinds.Implausible) as error:
        kinds.check(kinds.get("blood_pressure"), 80, 120)
    assert error.value.part == "order"
    kinds.check(kinds.get("blood_pressure"), 120, 80)


@pytest.mark.parametrize(
    "kind, value",
    [
        ("weight", 3.2),
        ("weight", 72.4),
        ("temperature", 37.8),
        ("spo2", 97),
        ("glucose", 95),
        ("pain", 0),
        ("steps", 12000),
        ("head", 35),
    ],
)
def test_plausible_values_pass(kind, value):
    kinds.check(kinds.get(kind), value)


def test_the_same_measure_read_in_another_unit_has_the_same_identity():
    weight = kinds.get("weight")
    assert kinds.dedup_key(weight, 72.4) == kinds.dedup_key(weight, weight.convert(159.6, "[lb_av]"))
    assert kinds.dedup_key(weight, 72.4) != kinds.dedup_key(weight, 72.5)
    bp = kinds.get("blood_pressure")
    assert kinds.dedup_key(bp, 120, 80) != kinds.dedup_key(bp, 120, 81)
    glucose = kinds.get("glucose")
    assert kinds.dedup_key(glucose, 95, context="fasting") != kinds.dedup_key(glucose, 95, context="after_meal")
    assert kinds.dedup_key(kinds.get("steps"), 8000) == kinds.dedup_key(kinds.get("steps"), 9000)  # one total a day
