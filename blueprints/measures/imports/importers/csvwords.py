"""The words and formats CSV files use, in French, English and German: column names for each
field, kind, role and unit (`kind_table`, `wide_column`, `role_of`), and dates and time zones
as spreadsheets and devices write them (`parse_date`). csvfile reads files with them."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from flask_babel import force_locale

from blueprints.measures import kinds
from blueprints.measures.imports.importers.common import canonical, instant
from core.clock import PARIS

FIELDS = {
    "kind": ("type", "kind", "mesure", "measure", "constante"),
    "loinc": ("loinc", "code loinc"),
    "label": ("label", "libelle", "nom"),
    "date": ("date", "date et heure", "datetime", "horodatage", "date/heure"),
    "value": ("valeur", "value", "valeur1", "value1", "systolique", "systolic"),
    "value2": ("valeur2", "value2", "valeur 2", "diastolique", "diastolic"),
    "unit": ("unite", "unit", "unites", "units"),
    "context": ("contexte", "context"),
    "source": ("source", "appareil", "device"),
}
# The French names a spreadsheet uses, matched even before the translations are compiled.
FRENCH_KINDS = {
    "poids": "weight",
    "taille": "height",
    "imc": "bmi",
    "frequence cardiaque": "heart_rate",
    "pouls": "heart_rate",
    "tension arterielle": "blood_pressure",
    "pression arterielle": "blood_pressure",
    "temperature corporelle": "temperature",
    "frequence respiratoire": "respiratory_rate",
    "saturation en oxygene": "spo2",
    "spo2": "spo2",
    "glycemie": "glucose",
    "hemoglobine glyquee": "hba1c",
    "tour de taille": "waist",
    "perimetre cranien": "head",
    "nombre de pas": "steps",
    "douleur": "pain",
}
FRENCH_CONTEXTS = {
    "a jeun": "fasting",
    "avant un repas": "before_meal",
    "avant le repas": "before_meal",
    "avant repas": "before_meal",
    "apres un repas": "after_meal",
    "apres le repas": "after_meal",
    "apres repas": "after_meal",
}
_TIME = r"(?:[ T,]+(\d{1,2})[:hH.](\d{2})(?:[:.](\d{2})(?:\.\d+)?)?)?\s*(?:([AaPp])\.?[Mm]\.?)?\s*(?:[Uu]hr)?"
_FR_DATE = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})" + _TIME + "$")  # 28/11/2026 08:30, 13.02.2014
_YMD_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + r"(Z|[+-]\d{2}:?\d{2})?$"
)  # 2014-02-13 6:04 Uhr, 2024/01/15 08:30
_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)

# Wide files: a header names a kind (folded, without its unit), a role, or nothing Carnet keeps.
WIDE_KINDS = {
    "weight": ("weight", "poids", "gewicht", "body weight", "body mass", "korpergewicht", "masse corporelle"),
    "height": ("height", "taille", "grosse", "groesse", "korpergrosse", "body height", "stature"),
    "heart_rate": (
        "heart rate",
        "pulse",
        "pouls",
        "frequence cardiaque",
        "herzfrequenz",
        "puls",
        "pr",
        "hr",
        "heartrate",
        "pulse rate",
        "rythme cardiaque",
        "fc",
    ),
    "blood_pressure.sys": (
        "systolic",
        "systolique",
        "systole",
        "sys",
        "systolisch",
        "pression systolique",
        "tension systolique",
        "systolic blood pressure",
    ),
    "blood_pressure.dia": (
        "diastolic",
        "diastolique",
        "diastole",
        "dia",
        "diastolisch",
        "pression diastolique",
        "tension diastolique",
        "diastolic blood pressure",
    ),
    "temperature": ("temperature", "body temperature", "temperature corporelle", "korpertemperatur"),
    "respiratory_rate": ("respiratory rate", "frequence respiratoire", "atemfrequenz"),
    "spo2": ("spo2", "sp02", "oxygen saturation", "saturation", "saturation en oxygene", "sauerstoffsattigung"),
    "glucose": ("glucose", "blood glucose", "glycemie", "blutzucker", "glykamie", "blood sugar"),
    "hba1c": ("hba1c", "hemoglobine glyquee", "a1c"),
    "waist": ("waist", "waist circumference", "tour de taille", "taillenumfang"),
    "head": ("head circumference", "perimetre cranien", "kopfumfang"),
    "steps": ("steps", "step count", "nombre de pas", "schritte"),
    "pain": ("pain", "douleur", "schmerz", "schmerzen"),
    "bmi": ("bmi", "imc", "body mass index"),
}
_WIDE = {name: key for key, names in WIDE_KINDS.items() for name in names}
ROLES = {
    "date": (
        "date",
        "datum",
        "measurement date",
        "date et heure",
        "datetime",
        "date time",
        "horodatage",
        "date/heure",
        "timestamp",
        "date de mesure",
        "messdatum",
        "zeitstempel",
        "date heure",
    ),
    "time": ("time", "heure", "uhrzeit", "zeit", "measurement time", "heure de mesure"),
    "tz": ("timezone", "time zone", "fuseau horaire", "zeitzone", "tz"),
    "source": ("device", "appareil", "source", "gerat", "device name", "model", "modele"),
}
_ROLES = {name: role for role, names in ROLES.items() for name in names}
# A header's unit, as people write it → the spelling the kinds convert.
UNITS = {
    "kg": "kg",
    "kilogram": "kg",
    "kilogrammes": "kg",
    "lb": "lb",
    "lbs": "lb",
    "pounds": "lb",
    "g": "g",
    "m": "m",
    "cm": "cm",
    "mm": "mm",
    "in": "in",
    "inch": "in",
    "inches": "in",
    "ft": "ft",
    "mmhg": "mmHg",
    "mm hg": "mmHg",
    "mm[hg]": "mmHg",
    "kpa": "kPa",
    "bpm": "/min",
    "/min": "/min",
    "min-1": "/min",
    "beats/min": "/min",
    "battements/min": "/min",
    "schlage/min": "/min",
    "1/min": "/min",
    "breaths/min": "/min",
    "c": "°C",
    "°c": "°C",
    "degc": "°C",
    "celsius": "°C",
    "f": "degF",
    "°f": "degF",
    "degf": "degF",
    "%": "%",
    "pct": "%",
    "mg/dl": "mg/dL",
    "g/l": "g/L",
    "mmol/l": "mmol/L",
    "mmol/mol": "mmol/mol",
    "steps": "pas",
    "pas": "pas",
    "schritte": "pas",
    "/10": "/10",
    "kg/m2": "kg/m²",
    "kg/m²": "kg/m²",
}
# What the column chooser offers, per kind: the units a person may find in a file.
_HEADER_UNIT = re.compile(r"^(.*?)\s*[(\[]\s*([^)\]]*?)\s*[)\]]?\s*$")


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: how headers and kind names are compared."""
    text = unicodedata.normalize("NFKD", text.replace("\ufeff", "")).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace("_", " ").replace("-", " ").split())


def header_field(name: str) -> str | None:
    name = fold(name)
    for candidate in (name, name.split("(")[0].strip()):
        for field, names in FIELDS.items():
            if candidate in names:
                return field
    return None


def kind_table() -> dict:
    """Every way a file may name a kind: key, slug, LOINC, English and French labels."""
    table = {}
    for k in kinds.KINDS.values():
        table[fold(k.key)] = table[fold(k.slug)] = table[k.loinc] = k
        for lang in ("en", "fr"):
            with force_locale(lang):
                table[fold(str(k.label))] = k
    for t, key in kinds.APPLE_TYPES.items():
        table[fold(t)] = kinds.KINDS[key]
    table.update({name: kinds.KINDS[key] for name, key in FRENCH_KINDS.items()})
    return table


def context_table() -> dict:
    table = {}
    for key, (label, code) in kinds.MEAL_CONTEXTS.items():
        table[fold(key)] = table[code] = key
        for lang in ("en", "fr"):
            with force_locale(lang):
                table[fold(str(label))] = key
    table.update(FRENCH_CONTEXTS)
    return table


def moment(text: str) -> datetime:
    """'2026-11-28T08:30:00+01:00', '2024/01/15 08:30', '2014-02-13 6:04 Uhr', '28/11/2026 08:30',
    '13.02.2014', '1/15/2024 8:30 AM' is not (day first, as in France): naive when it has no offset."""
    text = text.strip()
    m = _FR_DATE.match(text)
    if m:
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    else:
        m = _YMD_DATE.match(text)
        if m is None:
            if len(text) < 10:
                raise ValueError(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    h, mi, sec = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
    if m[7]:  # 12-hour clock
        if not 1 <= h <= 12:
            raise ValueError(text)
        h = h % 12 + (12 if m[7] in "Pp" else 0)
    found = datetime(y, mo, d, h, mi, sec)
    offset = m.groups()[7] if len(m.groups()) > 7 else None
    if offset:
        found = found.replace(tzinfo=zone(offset))
    return found


def zone(text: str) -> tzinfo | None:
    """A time zone column's value: 'Europe/Paris', 'Asia/Manila', 'UTC', '+01:00', 'GMT+1',
    'UTC-05:00'; None when it says nothing readable."""
    text = (text or "").strip()
    if not text:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    m = _OFFSET.match(text)
    if m:
        minutes = int(m[2]) * 60 + int(m[3] or 0)
        if minutes > 14 * 60:
            return None
        return timezone(timedelta(minutes=minutes if m[1] == "+" else -minutes))
    if len(text) <= 64 and re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*", text):
        try:
            return ZoneInfo(text)
        except (ValueError, OSError, KeyError):
            return None
    return None


def parse_date(text: str, tz: tzinfo | None = None) -> tuple[int, int]:
    """A date cell → (UTC seconds, offset minutes). Without an offset of its own, the time is
    local to `tz` (a time zone column), else to Paris."""
    found = moment(text)
    if found.tzinfo is None:
        found = found.replace(tzinfo=tz or PARIS)
    return instant(found)


def split_header(name: str) -> tuple[str, str | None]:
    """'Weight (kg)' → ('weight', 'kg'); 'SYS(mmHg)' → ('sys', 'mmHg'); 'Systolic' → ('systolic', None)."""
    name = name.replace("\ufeff", "").strip()
    m = _HEADER_UNIT.match(name)
    if m and m[1].strip():
        return fold(m[1]), m[2].strip() or None
    return fold(name), None


def _unit(kind: kinds.Kind, raw: str | None) -> str | None:
    """The header's unit in a spelling the kind converts, or None when the kind cannot take it."""
    if raw is None:
        return kind.unit
    unit = UNITS.get(raw.lower().replace(" ", "")) or UNITS.get(raw.lower()) or raw
    if kind.key == "heart_rate" or kind.key == "respiratory_rate":
        unit = "/min" if unit in ("/min", "bpm") else unit
    try:
        canonical(kind, 1.0, unit)
    except kinds.UnknownUnit:
        return None
    return unit


def wide_column(header: str) -> dict | None:
    """What a wide file's column holds, from its header: {'kind', 'unit'[, 'part']}, or None."""
    name, raw = split_header(header)
    key = _WIDE.get(name)
    if key is None:
        return None
    kind_key, _, part = key.partition(".")
    unit = _unit(kinds.KINDS[kind_key], raw)
    if unit is None:
        return None
    column = {"kind": kind_key, "unit": unit}
    if part:
        column["part"] = part
    return column


def role_of(header: str) -> str | None:
    name, _ = split_header(header)
    return _ROLES.get(name) or _ROLES.get(fold(header))
