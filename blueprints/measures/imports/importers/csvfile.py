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
from collections.abc import Iterable
from datetime import tzinfo

from blueprints.measures import kinds
from blueprints.measures.imports.importers.common import ChunkReader, Collector, Refused, canonical, number
from blueprints.measures.imports.importers.csvwords import (
    context_table,
    fold,
    header_field,
    kind_table,
    parse_date,
    role_of,
    wide_column,
    zone,
)
from core.i18n import gettext

SNIFF_BYTES = 64 * 1024
MAX_COLUMNS = 100  # columns a person is asked about (a wider file keeps the first ones)
CHOICE_UNITS = {
    "weight": ("kg", "lb"),
    "height": ("cm", "m", "in"),
    "heart_rate": ("/min",),
    "blood_pressure": ("mmHg", "kPa"),
    "temperature": ("°C", "degF"),
    "respiratory_rate": ("/min",),
    "spo2": ("%",),
    "glucose": ("mg/dL", "g/L", "mmol/L"),
    "hba1c": ("%", "mmol/mol"),
    "waist": ("cm", "in"),
    "head": ("cm",),
    "steps": ("pas",),
    "pain": ("/10",),
    "bmi": ("kg/m²",),
}
UNIT_LABELS = {"/min": "/min", "degF": "°F", "pas": "pas", "/10": "/10"}


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
        field = header_field(name)
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
    return {
        "encoding": encoding,
        "delimiter": delimiter,
        "decimal": decimal,
        "headers": header[:MAX_COLUMNS],
        **options,
    }


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
    text = io.TextIOWrapper(
        io.BufferedReader(raw, 1024 * 1024), encoding=options["encoding"], errors="replace", newline=""
    )
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
    col = Collector(batch=10**9)
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
    return {
        "rows": col.rows[:shown],
        "valid": col.valid,
        "rejected": col.rejected,
        "reasons": col.reasons,
        "scanned": min(n + 1, scanned),
        "sample": sample,
    }
