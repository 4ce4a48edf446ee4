"""CSV from a spreadsheet, a device's app, or Carnet's own export.

Two layouts:
- long: one measure a row, its kind in a column (`kind;loinc;label;date;value;value2;unit;
  context;source`, Carnet's own export, decimal comma, UTF-8 BOM);
- wide: one column per kind, the unit in the header, as devices write them: Withings Health
  Mate (`Date,"Weight (kg)","Fat mass (kg)",...`, `Date,"Heart rate",Systolic,Diastolic,
  Comments`, `"Gewicht (kg)"`, `"Grösse (m)"`, `Systole`...), OMRON connect (`Measurement
  Date,Timezone,SYS(mmHg),DIA(mmHg),Pulse(bpm),...,Device`), in French, English or German.
A file whose columns stay unknown is not refused: its layout is "unknown" until the person
says, column by column, what each holds (`apply_choice`).

`sniff()` decides the encoding, the delimiter, the decimal separator and which column holds
what, from the first bytes; `preview()` shows the first rows as they will be saved (and the
ones that would be rejected) before anything is; `parse()` streams the whole file.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Iterable
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext

from blueprints.measures import kinds
from blueprints.measures.imports.importers.common import ChunkReader, Collector, Refused, canonical, instant, number
from core.clock import PARIS

SNIFF_BYTES = 64 * 1024
MAX_COLUMNS = 100  # columns a person is asked about (a wider file keeps the first ones)
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
FRENCH_KINDS = {"poids": "weight", "taille": "height", "imc": "bmi", "frequence cardiaque": "heart_rate",
                "pouls": "heart_rate", "tension arterielle": "blood_pressure", "pression arterielle": "blood_pressure",
                "temperature corporelle": "temperature", "frequence respiratoire": "respiratory_rate",
                "saturation en oxygene": "spo2", "spo2": "spo2", "glycemie": "glucose", "hemoglobine glyquee": "hba1c",
                "tour de taille": "waist", "perimetre cranien": "head", "nombre de pas": "steps", "douleur": "pain"}
FRENCH_CONTEXTS = {"a jeun": "fasting", "avant un repas": "before_meal", "avant le repas": "before_meal",
                   "avant repas": "before_meal", "apres un repas": "after_meal", "apres le repas": "after_meal",
                   "apres repas": "after_meal"}
_TIME = r"(?:[ T,]+(\d{1,2})[:hH.](\d{2})(?:[:.](\d{2})(?:\.\d+)?)?)?\s*(?:([AaPp])\.?[Mm]\.?)?\s*(?:[Uu]hr)?"
_FR_DATE = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})" + _TIME + "$")     # 28/11/2026 08:30, 13.02.2014
_YMD_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + r"(Z|[+-]\d{2}:?\d{2})?$")  # 2014-02-13 6:04 Uhr, 2024/01/15 08:30
_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)

# Wide files: a header names a kind (folded, without its unit), a role, or nothing Carnet keeps.
WIDE_KINDS = {
    "weight": ("weight", "poids", "gewicht", "body weight", "body mass", "korpergewicht", "masse corporelle"),
    "height": ("height", "taille", "grosse", "groesse", "korpergrosse", "body height", "stature"),
    "heart_rate": ("heart rate", "pulse", "pouls", "frequence cardiaque", "herzfrequenz", "puls", "pr", "hr",
                   "heartrate", "pulse rate", "rythme cardiaque", "fc"),
    "blood_pressure.sys": ("systolic", "systolique", "systole", "sys", "systolisch", "pression systolique",
                           "tension systolique", "systolic blood pressure"),
    "blood_pressure.dia": ("diastolic", "diastolique", "diastole", "dia", "diastolisch", "pression diastolique",
                           "tension diastolique", "diastolic blood pressure"),
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
    "date": ("date", "datum", "measurement date", "date et heure", "datetime", "date time", "horodatage",
             "date/heure", "timestamp", "date de mesure", "messdatum", "zeitstempel", "date heure"),
    "time": ("time", "heure", "uhrzeit", "zeit", "measurement time", "heure de mesure"),
    "tz": ("timezone", "time zone", "fuseau horaire", "zeitzone", "tz"),
    "source": ("device", "appareil", "source", "gerat", "device name", "model", "modele"),
}
_ROLES = {name: role for role, names in ROLES.items() for name in names}
# A header's unit, as people write it → the spelling the kinds convert.
UNITS = {"kg": "kg", "kilogram": "kg", "kilogrammes": "kg", "lb": "lb", "lbs": "lb", "pounds": "lb", "g": "g",
         "m": "m", "cm": "cm", "mm": "mm", "in": "in", "inch": "in", "inches": "in", "ft": "ft",
         "mmhg": "mmHg", "mm hg": "mmHg", "mm[hg]": "mmHg", "kpa": "kPa",
         "bpm": "/min", "/min": "/min", "min-1": "/min", "beats/min": "/min", "battements/min": "/min",
         "schlage/min": "/min", "1/min": "/min", "breaths/min": "/min",
         "c": "°C", "°c": "°C", "degc": "°C", "celsius": "°C", "f": "degF", "°f": "degF", "degf": "degF",
         "%": "%", "pct": "%", "mg/dl": "mg/dL", "g/l": "g/L", "mmol/l": "mmol/L", "mmol/mol": "mmol/mol",
         "steps": "pas", "pas": "pas", "schritte": "pas", "/10": "/10", "kg/m2": "kg/m²", "kg/m²": "kg/m²"}
# What the column chooser offers, per kind: the units a person may find in a file.
CHOICE_UNITS = {"weight": ("kg", "lb"), "height": ("cm", "m", "in"), "heart_rate": ("/min",),
                "blood_pressure": ("mmHg", "kPa"), "temperature": ("°C", "degF"), "respiratory_rate": ("/min",),
                "spo2": ("%",), "glucose": ("mg/dL", "g/L", "mmol/L"), "hba1c": ("%", "mmol/mol"),
                "waist": ("cm", "in"), "head": ("cm",), "steps": ("pas",), "pain": ("/10",), "bmi": ("kg/m²",)}
UNIT_LABELS = {"/min": "/min", "degF": "°F", "pas": "pas", "/10": "/10"}
_HEADER_UNIT = re.compile(r"^(.*?)\s*[(\[]\s*([^)\]]*?)\s*[)\]]?\s*$")


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: how headers and kind names are compared."""
    text = unicodedata.normalize("NFKD", text.replace("\ufeff", "")).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace("_", " ").replace("-", " ").split())


def _header_field(name: str) -> str | None:
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
        return timezone.utc
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


def _wide_options(header: list[str]) -> dict:
    """Which column is the date, the time, the time zone, the source, and each kind; layout
    "wide" when a date and at least one complete kind were found, else "unknown"."""
    roles: dict[str, int | None] = {"date": None, "time": None, "tz": None, "source": None}
    columns = []
    for i, name in enumerate(header[:MAX_COLUMNS]):
        role = role_of(name)
        if role is not None and roles[role] is None:
            roles[role] = i
            continue
        column = wide_column(name)
        if column is not None:
            columns.append({"index": i, **column})
    parts = {c.get("part") for c in columns if c["kind"] == "blood_pressure"}
    if parts and parts != {"sys", "dia"}:  # half a blood pressure cannot be saved
        columns = [c for c in columns if c["kind"] != "blood_pressure"]
    if roles["date"] is None or not columns:
        return {"layout": "unknown", **roles, "columns": columns}
    return {"layout": "wide", **roles, "columns": columns}


def sniff(head: bytes) -> dict:
    """Options for this file (encoding, delimiter, decimal, layout and mapping); Refused when
    it is not a table at all (one column, binary data)."""
    if not head.strip():
        raise Refused("empty")
    if b"\x00" in head:
        raise Refused("csv_columns")
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        text, encoding = head.decode("cp1252", errors="replace"), "cp1252"
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    delimiter = max(";,\t", key=first.count)
    header = next(csv.reader([first], delimiter=delimiter), [])
    if len(header) < 2:
        raise Refused("csv_columns")
    mapping: dict[str, int] = {}
    for i, name in enumerate(header):
        field = _header_field(name)
        if field and field not in mapping:
            mapping[field] = i
    sample = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))[1:200]
    if "date" in mapping and "value" in mapping and {"kind", "loinc", "label"} & mapping.keys():
        options = {"layout": "long", "mapping": mapping}
        value_columns = [mapping["value"]]
    else:
        options = {**_wide_options(header), "mapping": {}}
        value_columns = range(len(header))  # any column may become a kind's
    values = [r[i] for r in sample for i in value_columns if len(r) > i]
    decimal = "," if any(re.search(r"\d,\d", v) for v in values) else "."
    return {"encoding": encoding, "delimiter": delimiter, "decimal": decimal, "headers": header[:MAX_COLUMNS],
            **options}


def layout(options: dict) -> str:
    return options.get("layout", "long")  # imports sniffed before wide files were read


def unit_label(kind_key: str, unit: str) -> str:
    """A column's unit as a person reads it ('bpm' rather than '/min', '°F' rather than 'degF')."""
    kind = kinds.KINDS[kind_key]
    return kind.unit_label if unit == kind.unit else UNIT_LABELS.get(unit, unit)


def choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """What the column chooser offers: (group label, [(value, label)]) for each kind."""
    groups = []
    for key, units in CHOICE_UNITS.items():
        kind = kinds.KINDS[key]
        if key == "blood_pressure":
            parts = (("sys", gettext("Blood pressure, systolic")), ("dia", gettext("Blood pressure, diastolic")))
            options = [(f"{key}.{part}|{u}", f"{label} ({unit_label(key, u)})") for part, label in parts for u in units]
        else:
            options = [(f"{key}|{u}", f"{kind.label} ({unit_label(key, u)})") for u in units]
        groups.append((str(kind.label), options))
    return groups


def choice_of(column: dict) -> str:
    """The chooser's value for a column of the options."""
    part = f".{column['part']}" if column.get("part") else ""
    return f"{column['kind']}{part}|{column['unit']}"


class ChoiceError(ValueError):
    """The chooser's answer cannot be used; `args[0]` says why (no_date, no_kind, half_pressure, date_twice)."""


def apply_choice(options: dict, date: str | None, picks: dict[int, str]) -> dict:
    """The options once the person has said which column is the date and what each other
    column holds ('' ignore, 'time', 'tz', 'source', or a kind and unit from `choices()`)."""
    n = len(options.get("headers") or [])
    try:
        date_index = int(date or "")
    except ValueError:
        raise ChoiceError("no_date") from None
    if not 0 <= date_index < n:
        raise ChoiceError("no_date")
    valid = {value for _group, opts in choices() for value, _label in opts}
    roles: dict[str, int | None] = {"date": date_index, "time": None, "tz": None, "source": None}
    columns = []
    for i in range(n):
        pick = picks.get(i) or ""
        if not pick:
            continue
        if i == date_index:
            raise ChoiceError("date_twice")
        if pick in ("time", "tz", "source"):
            if roles[pick] is None:
                roles[pick] = i
            continue
        if pick not in valid:
            continue
        key, unit = pick.split("|", 1)
        kind_key, _, part = key.partition(".")
        column = {"index": i, "kind": kind_key, "unit": unit}
        if part:
            column["part"] = part
        columns.append(column)
    if not columns:
        raise ChoiceError("no_kind")
    parts = [c["part"] for c in columns if c["kind"] == "blood_pressure"]
    if parts and sorted(parts) != ["dia", "sys"]:
        raise ChoiceError("half_pressure")
    return {**options, "layout": "wide", **roles, "columns": columns, "mapping": {}}


class _Rows:
    """Turns the rows of a long file into checked values for a Collector (shared by preview
    and parse)."""

    def __init__(self, options: dict):
        self.m = options["mapping"]
        self.kinds, self.contexts = kind_table(), context_table()

    def cell(self, row: list[str], field: str) -> str:
        i = self.m.get(field)
        return row[i].strip() if i is not None and i < len(row) else ""

    def feed(self, row: list[str], line: int, col: Collector) -> None:
        kind = None
        for field in ("kind", "loinc", "label"):
            text = self.cell(row, field)
            if text:
                kind = self.kinds.get(fold(text)) or self.kinds.get(text)
                if kind is not None:
                    break
        if kind is None:
            col.reject("unknown_kind", line)
            return
        try:
            taken, off = parse_date(self.cell(row, "date"))
        except (ValueError, OverflowError):
            col.reject("bad_date", line, kind.key)
            return
        raw, raw2 = self.cell(row, "value"), self.cell(row, "value2")
        if kind.pair and "/" in raw and not raw2:
            raw, raw2 = raw.split("/", 1)
        unit = self.cell(row, "unit") or None
        try:
            value = canonical(kind, number(raw), unit)
            value2 = canonical(kind, number(raw2), unit) if kind.pair and raw2.strip() else None
        except kinds.UnknownUnit:
            col.reject("unknown_unit", line, kind.key)
            return
        except ValueError:
            col.reject("bad_value" if raw.strip() else "incomplete", line, kind.key)
            return
        if kind.pair and value2 is None:
            col.reject("incomplete", line, kind.key)
            return
        context = None
        text = self.cell(row, "context")
        if text and kind.key == "glucose":
            context = self.contexts.get(fold(text)) or self.contexts.get(text)
            if context is None:
                col.reject("bad_context", line, kind.key)
                return
        col.add(kind, taken, off, value, value2, context, self.cell(row, "source")[:120] or None, line)


class _WideRows:
    """Turns the rows of a wide file (a column per kind) into checked values: each cell of a
    kind's column is one measure, a systolic and a diastolic cell of a row one blood pressure."""

    def __init__(self, options: dict):
        self.date, self.time, self.tz, self.source = (options.get(k) for k in ("date", "time", "tz", "source"))
        self.columns = [(c["index"], kinds.KINDS[c["kind"]], c.get("part"), c["unit"]) for c in options["columns"]]
        self.zones: dict[str, tzinfo | None] = {}
        self.bp = kinds.KINDS["blood_pressure"]

    @staticmethod
    def cell(row: list[str], i: int | None) -> str:
        return row[i].strip() if i is not None and i < len(row) else ""

    def when(self, row: list[str]) -> tuple[int, int]:
        text = self.cell(row, self.date)
        if self.time is not None and self.cell(row, self.time):
            text = f"{text} {self.cell(row, self.time)}"
        tz = None
        if self.tz is not None:
            name = self.cell(row, self.tz)
            if name not in self.zones:
                if len(self.zones) > 64:
                    self.zones.clear()
                self.zones[name] = zone(name)
            tz = self.zones[name]
        return parse_date(text, tz)

    def feed(self, row: list[str], line: int, col: Collector) -> None:
        cells = [(kind, part, unit, self.cell(row, i)) for i, kind, part, unit in self.columns]
        cells = [c for c in cells if c[3]]
        if not cells:  # a row with nothing Carnet keeps (a Withings pulse-only row has empty pressures)
            return
        try:
            taken, off = self.when(row)
        except (ValueError, OverflowError):
            col.reject("bad_date", line, cells[0][0].key)
            return
        source = self.cell(row, self.source)[:120] or None
        pressure: dict[str, float] = {}
        failed = False
        for kind, part, unit, text in cells:
            try:
                value = canonical(kind, number(text), unit)
            except kinds.UnknownUnit:
                col.reject("unknown_unit", line, kind.key)
                failed = failed or part is not None
                continue
            except ValueError:
                col.reject("bad_value", line, kind.key)
                failed = failed or part is not None
                continue
            if part is not None:
                pressure[part] = value
            else:
                col.add(kind, taken, off, value, None, None, source, line)
        if "sys" in pressure and "dia" in pressure:
            col.add(self.bp, taken, off, pressure["sys"], pressure["dia"], None, source, line)
        elif pressure and not failed:
            col.reject("incomplete", line, self.bp.key)


def _rows(options: dict):
    kind = layout(options)
    if kind == "long":
        return _Rows(options)
    if kind == "wide":
        return _WideRows(options)
    raise Refused("csv_columns")  # the person has not said what the columns hold


def _reader(chunks: Iterable[bytes], options: dict):
    raw = ChunkReader(chunks)
    text = io.TextIOWrapper(io.BufferedReader(raw, 1024 * 1024), encoding=options["encoding"],
                            errors="replace", newline="")
    reader = csv.reader(text, delimiter=options["delimiter"])
    next(reader, None)  # header
    return raw, reader


def parse(chunks: Iterable[bytes], col: Collector, options: dict) -> None:
    rows = _rows(options)
    raw, reader = _reader(chunks, options)
    try:
        for n, row in enumerate(reader):
            if any(c.strip() for c in row):
                rows.feed(row, reader.line_num, col)
            if n % 1000 == 0:
                col.done_bytes = raw.consumed
    except csv.Error:
        raise Refused("csv_columns") from None
    col.done_bytes = raw.consumed


def preview(chunks: Iterable[bytes], options: dict, shown: int = 10, scanned: int = 1000) -> dict:
    """The first rows as they will be saved, the rejected ones among the first `scanned`, and
    the first row of the file as it is (what the column chooser shows beside each column)."""
    col = Collector(batch=10 ** 9)
    raw, reader = _reader(chunks, options)
    rows = _rows(options) if layout(options) != "unknown" else None
    sample: list[str] = []
    n = -1
    for n, row in enumerate(reader):
        if n >= scanned:
            break
        if any(c.strip() for c in row):
            if not sample:
                sample = [c.strip()[:40] for c in row[:MAX_COLUMNS]]
            if rows is None:
                break
            rows.feed(row, reader.line_num, col)
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
    return {"rows": col.rows[:shown], "valid": col.valid, "rejected": col.rejected, "reasons": col.reasons,
            "scanned": min(n + 1, scanned), "sample": sample}
