"""The kinds of health measures ("constantes"): LOINC code, UCUM unit, plausible range,
reference bands, and the units other systems send them in.

Values are stored in the kind's canonical UCUM unit; every importer and the entry form go
through `to_canonical()` and `check()`, so the same typo is refused the same way everywhere.
Labels are English msgids; the French wording sits in the comment beside each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Band:
    """A reference band drawn behind a chart: [low, high) in the canonical unit."""

    low: float | None
    high: float | None
    label: object
    tone: str  # ok | watch | alert


@dataclass(frozen=True)
class Kind:
    key: str
    slug: str  # in URLs (French)
    label: object  # lazy, translated
    loinc: str
    unit: str  # UCUM, canonical storage unit
    unit_label: str  # what a person reads beside the number
    low: float  # plausible range, inclusive, canonical unit
    high: float
    decimals: int = 0
    icon: str = "activity"
    entered: bool = True  # False: derived (BMI), never typed
    pair: bool = False  # blood pressure: two values in one measure
    daily: bool = False  # steps: one total per day
    units: dict = field(default_factory=dict)  # UCUM or device unit -> (factor, offset)
    bands: tuple = ()

    def convert(self, value: float, unit: str | None) -> float:
        """Value in the canonical unit; raises UnknownUnit for a unit this kind cannot take."""
        if unit is None or unit == "" or unit == self.unit:
            return value
        try:
            factor, offset = self.units[unit]
        except KeyError:
            raise UnknownUnit(unit) from None
        return value * factor + offset

    @property
    def step(self) -> str:
        return "1" if self.decimals == 0 else "0." + "0" * (self.decimals - 1) + "1"


class UnknownUnit(ValueError):
    pass


class Implausible(ValueError):
    """A value outside the kind's plausible range: `str()` is not for people, use `message()`."""

    def __init__(self, kind: Kind, part: str | None = None):
        super().__init__(kind.key)
        self.kind, self.part = kind, part


_LB = 0.45359237
_MASS = {"g": (0.001, 0), "[lb_av]": (_LB, 0), "lb": (_LB, 0), "kg": (1, 0)}
_LENGTH_CM = {
    "m": (100, 0),
    "mm": (0.1, 0),
    "[in_i]": (2.54, 0),
    "in": (2.54, 0),
    "[ft_i]": (30.48, 0),
    "ft": (30.48, 0),
    "cm": (1, 0),
}
_PER_MIN = {"{beats}/min": (1, 0), "{breaths}/min": (1, 0), "count/min": (1, 0), "bpm": (1, 0), "/min": (1, 0)}
_GLUCOSE_MMOL = 18.0156  # mg/dL per mmol/L (molar mass of glucose / 10)

MEAL_CONTEXTS = {
    "fasting": (_l("Fasting"), "53049-3"),  # À jeun
    "before_meal": (_l("Before a meal"), "88365-2"),  # Avant un repas
    "after_meal": (_l("After a meal"), "16915-1"),  # Après un repas
}

KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind("weight", "poids", _l("Weight"), "29463-7", "kg", "kg", 0.3, 350, 1, "scale", units=_MASS),  # Poids
        Kind("height", "taille", _l("Height"), "8302-2", "cm", "cm", 20, 250, 1, "ruler", units=_LENGTH_CM),  # Taille
        Kind(
            "bmi",
            "imc",
            _l("Body mass index"),
            "39156-5",
            "kg/m2",
            "kg/m²",
            5,
            100,
            1,
            "scale",  # IMC
            entered=False,
            units={"kg/m²": (1, 0), "count": (1, 0)},
            bands=(
                Band(None, 18.5, _l("Underweight"), "watch"),  # Insuffisance pondérale
                Band(18.5, 25, _l("Normal weight"), "ok"),  # Corpulence normale
                Band(25, 30, _l("Overweight"), "watch"),  # Surpoids
                Band(30, None, _l("Obesity"), "alert"),  # Obésité
            ),
        ),
        Kind(
            "heart_rate",
            "frequence-cardiaque",
            _l("Heart rate"),
            "8867-4",
            "/min",
            "bpm",
            20,
            250,
            0,  # Fréquence cardiaque
            "heart-pulse",
            units=_PER_MIN,
        ),
        Kind(
            "blood_pressure",
            "tension",
            _l("Blood pressure"),
            "85354-9",
            "mm[Hg]",
            "mmHg",
            40,
            280,
            0,  # Tension artérielle
            "gauge",
            pair=True,
            units={"mmHg": (1, 0), "kPa": (7.50062, 0)},
            bands=(
                Band(None, 120, _l("Optimal"), "ok"),  # Optimale
                Band(120, 140, _l("Normal to high normal"), "watch"),  # Normale à normale haute
                Band(140, None, _l("High blood pressure"), "alert"),  # Hypertension
            ),
        ),
        Kind(
            "temperature",
            "temperature",
            _l("Body temperature"),
            "8310-5",
            "Cel",
            "°C",
            30,
            44,
            1,  # Température
            "thermometer",
            units={"[degF]": (5 / 9, -160 / 9), "degF": (5 / 9, -160 / 9), "degC": (1, 0), "°C": (1, 0)},
        ),
        # One decimal: watches send averages such as 14.5 breaths/min (shown "14,5"; a whole number stays "14").
        Kind(
            "respiratory_rate",
            "frequence-respiratoire",
            _l("Respiratory rate"),
            "9279-1",
            "/min",
            "/min",
            4,
            80,
            1,  # Fréquence respiratoire
            "wind",
            units=_PER_MIN,
        ),
        Kind(
            "spo2",
            "saturation",
            _l("Oxygen saturation"),
            "59408-5",
            "%",
            "%",
            50,
            100,
            0,
            "droplet",  # Saturation en oxygène
            units={"1": (100, 0)},
            bands=(
                Band(None, 90, _l("Very low"), "alert"),  # Très basse
                Band(90, 95, _l("Low"), "watch"),  # Basse
                Band(95, None, _l("Normal"), "ok"),  # Normale
            ),
        ),
        Kind(
            "glucose",
            "glycemie",
            _l("Blood glucose"),
            "2345-7",
            "mg/dL",
            "mg/dL",
            10,
            1000,
            0,
            "droplet",  # Glycémie
            units={
                "g/L": (100, 0),
                "mmol/L": (_GLUCOSE_MMOL, 0),
                "mg/dl": (1, 0),
                "mmol<180.1558800000541>/L": (_GLUCOSE_MMOL, 0),
            },
            bands=(
                Band(None, 70, _l("Low (hypoglycaemia)"), "alert"),  # Basse (hypoglycémie)
                Band(70, 110, _l("Normal when fasting"), "ok"),  # Normale à jeun
                Band(110, 126, _l("High when fasting"), "watch"),  # Élevée à jeun
                Band(126, None, _l("Very high"), "alert"),  # Très élevée
            ),
        ),
        Kind(
            "hba1c",
            "hba1c",
            _l("HbA1c (glycated haemoglobin)"),
            "4548-4",
            "%",
            "%",
            3,
            20,
            1,
            "droplet",  # HbA1c
            units={"mmol/mol": (0.09148, 2.152)},
        ),
        Kind(
            "waist",
            "tour-de-taille",
            _l("Waist circumference"),
            "8280-0",
            "cm",
            "cm",
            30,
            250,
            1,
            "ruler",  # Tour de taille
            units=_LENGTH_CM,
        ),
        Kind(
            "head",
            "perimetre-cranien",
            _l("Head circumference"),
            "8287-5",
            "cm",
            "cm",
            20,
            70,
            1,
            "ruler",  # Périmètre crânien
            units=_LENGTH_CM,
        ),
        Kind(
            "steps",
            "pas",
            _l("Steps"),
            "41950-7",
            "/d",
            "pas",
            0,
            150000,
            0,
            "footprints",  # Nombre de pas
            daily=True,
            units={"{steps}/d": (1, 0), "count": (1, 0), "{steps}": (1, 0)},
        ),
        Kind(
            "pain",
            "douleur",
            _l("Pain"),
            "72514-3",
            "{score}",
            "/10",
            0,
            10,
            0,
            "activity",  # Douleur
            units={"{score}/10": (1, 0), "1": (1, 0)},
        ),
    )
}

BY_SLUG = {k.slug: k for k in KINDS.values()}
# Other LOINC codes that other systems send for the same measure: the alternatives the FHIR
# vital signs profile and US Core allow (Synthea and many EHRs code a blood pressure with the
# panel 55284-4, an oral temperature with 8331-1, a pulse oximeter's SpO2 with 2708-6), and
# laboratory codes of the same analyte in the same kind of sample. The value's own unit
# (valueQuantity) says how to read it.
LOINC_ALIASES = {
    "weight": ("3141-9", "3142-7", "8350-1", "8351-9"),  # measured, stated, with/without clothes
    "height": ("8306-3", "8308-9", "3137-7", "3138-5"),  # lying, standing, measured, stated
    "heart_rate": ("8889-8", "8893-0", "40443-4"),  # pulse oximetry, palpation, resting
    "blood_pressure": ("55284-4", "35094-2"),  # systolic and diastolic, BP panel
    "temperature": (
        "8331-1",
        "8332-9",
        "8328-7",
        "8333-7",
        "75539-7",
        "8329-5",
    ),  # oral, rectal, axillary, tympanic, temporal, core
    "spo2": ("2708-6", "20564-1", "2710-2"),  # arterial, blood, capillary by oximetry
    "glucose": ("2339-0", "41653-7", "15074-8", "14749-6", "14743-9"),  # blood, glucometer, in mmol/L
    "hba1c": ("17856-6", "4549-2", "59261-8"),  # HPLC, electrophoresis, IFCC (mmol/mol)
    "waist": ("56086-2",),
    "head": ("9843-4",),  # the vital signs profile's code
    "pain": ("38208-5",),
}
BY_LOINC = {k.loinc: k for k in KINDS.values()}
BY_LOINC.update({code: KINDS[key] for key, codes in LOINC_ALIASES.items() for code in codes})
# Glucose codes that carry their meal context in the code itself.
LOINC_MEAL_ALIASES = {"1558-6": "fasting", "14771-0": "fasting"}  # fasting glucose, mass and moles
# Blood pressure's two values, each with its own LOINC code inside the panel.
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
DIASTOLIC_RANGE = (20, 200)

# Apple Health quantity types → kind. Blood pressure arrives as a correlation of two records.
APPLE_TYPES = {
    "HKQuantityTypeIdentifierBodyMass": "weight",
    "HKQuantityTypeIdentifierHeight": "height",
    "HKQuantityTypeIdentifierHeartRate": "heart_rate",
    "HKQuantityTypeIdentifierBodyTemperature": "temperature",
    "HKQuantityTypeIdentifierRespiratoryRate": "respiratory_rate",
    "HKQuantityTypeIdentifierOxygenSaturation": "spo2",
    "HKQuantityTypeIdentifierBloodGlucose": "glucose",
    "HKQuantityTypeIdentifierWaistCircumference": "waist",
    "HKQuantityTypeIdentifierStepCount": "steps",
}
APPLE_BLOOD_PRESSURE = "HKCorrelationTypeIdentifierBloodPressure"
APPLE_SYSTOLIC = "HKQuantityTypeIdentifierBloodPressureSystolic"
APPLE_DIASTOLIC = "HKQuantityTypeIdentifierBloodPressureDiastolic"
# The meal context of a glucose record. HealthKit's constant HKMetadataKeyBloodGlucoseMealTime
# holds the string "HKBloodGlucoseMealTime": that is the key an export.xml writes, with the
# enum's raw value ("1" preprandial, "2" postprandial); some tools write the case's name.
APPLE_MEAL_KEYS = frozenset({"HKBloodGlucoseMealTime", "HKMetadataKeyBloodGlucoseMealTime"})
APPLE_MEAL_CONTEXTS = {
    "1": "before_meal",
    "2": "after_meal",
    "HKBloodGlucoseMealTimePreprandial": "before_meal",
    "HKBloodGlucoseMealTimePostprandial": "after_meal",
    "preprandial": "before_meal",
    "postprandial": "after_meal",
}


def get(key: str) -> Kind:
    return KINDS[key]


def check(kind: Kind, value: float, value2: float | None = None) -> None:
    """Raise Implausible when a value cannot be a real measure (a typo, a wrong unit)."""
    if not (kind.low <= value <= kind.high):
        raise Implausible(kind, "systolic" if kind.pair else None)
    if kind.pair:
        if value2 is None or not (DIASTOLIC_RANGE[0] <= value2 <= DIASTOLIC_RANGE[1]):
            raise Implausible(kind, "diastolic")
        if value2 >= value:
            raise Implausible(kind, "order")


def dedup_key(kind: Kind, value: float, value2: float | None = None, context: str | None = None) -> str:
    """What tells two measures of one kind at one instant apart, so that importing the same
    file twice adds nothing. Rounded as shown, so that a value read back in another unit
    (159.6 lb for 72.4 kg) is still the same measure. A daily total has one row per day."""
    if kind.daily:
        return ""
    key = f"{value:.{kind.decimals}f}"
    if value2 is not None:
        key += f"/{value2:.{kind.decimals}f}"
    if context:
        key += f"|{context}"
    return key
