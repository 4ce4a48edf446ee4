"""CSV from a spreadsheet, a scale's app, or Carnet's own export
(`kind;loinc;label;date;value;value2;unit;context;source`, decimal comma, UTF-8 BOM).

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
from datetime import datetime
from typing import Iterable

from blueprints.constants import kinds
from blueprints.constants.importers import ChunkReader, Collector, Refused, canonical, instant, number

SNIFF_BYTES = 64 * 1024
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
_FR_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T,]+(\d{1,2})[:hH](\d{2})(?::(\d{2}))?)?$")


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
    from flask_babel import force_locale

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
    from flask_babel import force_locale

    table = {}
    for key, (label, code) in kinds.MEAL_CONTEXTS.items():
        table[fold(key)] = table[code] = key
        for lang in ("en", "fr"):
            with force_locale(lang):
                table[fold(str(label))] = key
    table.update(FRENCH_CONTEXTS)
    return table


def parse_date(text: str) -> tuple[int, int]:
    """ISO 8601 with or without offset, '28/11/2026 08:30', '28/11/2026'; no offset: Paris."""
    text = text.strip()
    m = _FR_DATE.match(text)
    if m:
        d, mo, y, h, mi, s = (int(x) if x else 0 for x in m.groups())
        return instant(datetime(y, mo, d, h, mi, s))
    if len(text) < 10:
        raise ValueError(text)
    return instant(datetime.fromisoformat(text.replace("Z", "+00:00")))


def sniff(head: bytes) -> dict:
    """Options for this file (encoding, delimiter, decimal, mapping); Refused if unreadable."""
    if not head.strip():
        raise Refused("empty")
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        text, encoding = head.decode("cp1252", errors="replace"), "cp1252"
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    delimiter = max(";,\t", key=first.count)
    header = next(csv.reader([first], delimiter=delimiter))
    mapping: dict[str, int] = {}
    for i, name in enumerate(header):
        field = _header_field(name)
        if field and field not in mapping:
            mapping[field] = i
    if "date" not in mapping or "value" not in mapping or not ({"kind", "loinc", "label"} & mapping.keys()):
        raise Refused("csv_columns")
    sample = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))[1:200]
    values = [r[mapping["value"]] for r in sample if len(r) > mapping["value"]]
    decimal = "," if any(re.search(r"\d,\d", v) for v in values) else "."
    return {"encoding": encoding, "delimiter": delimiter, "decimal": decimal, "mapping": mapping,
            "headers": header}


class _Rows:
    """Turns CSV rows into checked values for a Collector (shared by preview and parse)."""

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


def _reader(chunks: Iterable[bytes], options: dict):
    raw = ChunkReader(chunks)
    text = io.TextIOWrapper(io.BufferedReader(raw, 1024 * 1024), encoding=options["encoding"],
                            errors="replace", newline="")
    reader = csv.reader(text, delimiter=options["delimiter"])
    next(reader, None)  # header
    return raw, reader


def parse(chunks: Iterable[bytes], col: Collector, options: dict) -> None:
    raw, reader = _reader(chunks, options)
    rows = _Rows(options)
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
    """The first rows as they will be saved, and the rejected ones among the first `scanned`."""
    col = Collector(batch=10 ** 9)
    raw, reader = _reader(chunks, options)
    rows = _Rows(options)
    for n, row in enumerate(reader):
        if n >= scanned:
            break
        if any(c.strip() for c in row):
            rows.feed(row, reader.line_num, col)
    return {"rows": col.rows[:shown], "valid": col.valid, "rejected": col.rejected, "reasons": col.reasons,
            "scanned": min(n + 1, scanned) if "n" in locals() else 0}
