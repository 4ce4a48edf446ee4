"""Apple Health `export.xml`, read as a stream with pyexpat: one pass, bounded memory,
whatever the size (real exports are gigabytes).

Safety: the file opens with an internal DTD of ELEMENT/ATTLIST declarations, which is
accepted; any ENTITY declaration (how "billion laughs" expands) or external entity refuses
the whole file, and nothing is ever fetched (parameter entities are never parsed).
Speed: dates like "2024-03-01 07:58:00 +0100" are sliced, with the day and the time of day
cached, and units are looked up once per (type, unit) pair.
"""
from __future__ import annotations

from typing import Iterable
from xml.parsers import expat

from blueprints.constants import kinds
from blueprints.constants.importers import EPOCH_ORDINAL, Collector, Refused, canonical, day_start

_TYPES = {t: kinds.KINDS[k] for t, k in kinds.APPLE_TYPES.items()}
_SPO2 = kinds.KINDS["spo2"]
_GLUCOSE = kinds.KINDS["glucose"]
_STEPS = kinds.KINDS["steps"]
_BP = kinds.KINDS["blood_pressure"]
_PREFIXES = ("HKQuantityTypeIdentifier", "HKCategoryTypeIdentifier", "HKCorrelationTypeIdentifier",
             "HKDataType")


def _short(type_name: str) -> str:
    for prefix in _PREFIXES:
        if type_name.startswith(prefix):
            return type_name[len(prefix):]
    return type_name[:60]


class _Dates:
    """'2024-03-01 07:58:00 +0100' → (UTC seconds, offset minutes), without strptime."""

    def __init__(self):
        self.days: dict[str, tuple[int, int]] = {}
        self.times: dict[str, int] = {}

    def __call__(self, s: str) -> tuple[int, int]:
        key = s[:10] + s[19:]
        day = self.days.get(key)
        if day is None:
            from datetime import date

            off = s[20:25]
            minutes = (int(off[1:3]) * 60 + int(off[3:5])) * (-1 if off[0] == "-" else 1)
            if off[0] not in "+-" or len(s) != 25:
                raise ValueError(s)
            base = (date(int(s[:4]), int(s[5:7]), int(s[8:10])).toordinal() - EPOCH_ORDINAL) * 86400
            day = self.days[key] = (base - minutes * 60, minutes)
        hms = s[11:19]
        t = self.times.get(hms)
        if t is None:
            t = self.times[hms] = int(hms[:2]) * 3600 + int(hms[3:5]) * 60 + int(hms[6:8])
        return day[0] + t, day[1]


def _refuse(*_args):
    raise Refused("entities")


def parse(chunks: Iterable[bytes], col: Collector) -> None:
    """Feed every supported value of the export to `col`; raise Refused for a bad file."""
    when = _Dates()
    factors: dict[tuple, tuple[float, float] | None] = {}  # (type, unit) → (factor, offset)
    steps: dict[tuple[str, str], float] = {}               # (local day, source) → total
    step_offsets: dict[str, int] = {}
    state = {"corr": None, "sys": None, "dia": None, "glucose": None, "other_corr": 0}
    types, add, reject = _TYPES, col.add, col.reject

    def factor(type_name: str, kind, unit):
        key = (type_name, unit)
        try:
            return factors[key]
        except KeyError:
            pass
        try:
            found = (canonical(kind, 1.0, unit) - canonical(kind, 0.0, unit), canonical(kind, 0.0, unit))
        except kinds.UnknownUnit:
            found = None
        factors[key] = found
        return found

    def value_of(a: dict, type_name: str, kind) -> float | None:
        try:
            v = float(a["value"])
        except (KeyError, ValueError):
            reject("bad_value", a.get("startDate"), kind.key)
            return None
        f = factor(type_name, kind, a.get("unit"))
        if f is None:
            reject("unknown_unit", a.get("startDate"), kind.key)
            return None
        v = v * f[0] + f[1]
        if kind is _SPO2 and v <= 1.0:  # Apple writes a fraction with unit "%": 0.97 is 97 %
            v *= 100
        return v

    def emit_glucose():
        a, v, taken, off, context = state["glucose"]
        state["glucose"] = None
        add(_GLUCOSE, taken, off, v, None, context, a.get("sourceName"), a["startDate"])

    def start(name: str, a: dict):
        if name == "Record":
            t = a.get("type")
            if state["corr"] is not None:
                if t == kinds.APPLE_SYSTOLIC:
                    state["sys"] = a
                elif t == kinds.APPLE_DIASTOLIC:
                    state["dia"] = a
                return
            if state["other_corr"]:
                return
            if state["glucose"] is not None:
                emit_glucose()
            kind = types.get(t)
            if kind is None:
                if t != kinds.APPLE_SYSTOLIC and t != kinds.APPLE_DIASTOLIC:  # duplicates of correlations
                    col.ignore(_short(t or ""))
                return
            v = value_of(a, t, kind)
            if v is None:
                return
            start_date = a.get("startDate", "")
            try:
                taken, off = when(start_date)
            except (ValueError, IndexError):
                reject("bad_date", None, kind.key)
                return
            if kind is _STEPS:
                day = start_date[:10]
                key = (day, a.get("sourceName") or "")
                steps[key] = steps.get(key, 0.0) + v
                if day not in step_offsets:
                    step_offsets[day] = off
            elif kind is _GLUCOSE:
                state["glucose"] = (a, v, taken, off, None)
            else:
                add(kind, taken, off, v, None, None, a.get("sourceName"), start_date)
        elif name == "MetadataEntry":
            g = state["glucose"]
            if g is not None and a.get("key") == kinds.APPLE_MEAL_TIME:
                state["glucose"] = g[:4] + (kinds.APPLE_MEAL_CONTEXTS.get(a.get("value", "")),)
        elif name == "Correlation":
            if state["glucose"] is not None:
                emit_glucose()
            if a.get("type") == kinds.APPLE_BLOOD_PRESSURE:
                state["corr"], state["sys"], state["dia"] = a, None, None
            else:
                state["other_corr"] += 1
                col.ignore(_short(a.get("type") or ""))

    def end(name: str):
        if name == "Record":
            if state["glucose"] is not None and state["corr"] is None:
                emit_glucose()
        elif name == "Correlation":
            if state["other_corr"]:
                state["other_corr"] -= 1
            elif state["corr"] is not None:
                corr, sys_a, dia_a = state["corr"], state["sys"], state["dia"]
                state["corr"] = None
                _pressure(corr, sys_a, dia_a)

    def _pressure(corr, sys_a, dia_a):
        stamp = corr.get("startDate") or (sys_a or {}).get("startDate", "")
        if sys_a is None or dia_a is None:
            reject("incomplete", stamp, _BP.key)
            return
        high = value_of(sys_a, kinds.APPLE_SYSTOLIC, _BP)
        low = value_of(dia_a, kinds.APPLE_DIASTOLIC, _BP)
        if high is None or low is None:
            return
        try:
            taken, off = when(stamp)
        except (ValueError, IndexError):
            reject("bad_date", None, _BP.key)
            return
        add(_BP, taken, off, high, low, None, corr.get("sourceName") or sys_a.get("sourceName"), stamp)

    p = expat.ParserCreate()
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.EntityDeclHandler = _refuse
    p.UnparsedEntityDeclHandler = _refuse
    p.ExternalEntityRefHandler = _refuse
    p.StartElementHandler = start
    p.EndElementHandler = end
    done = 0
    try:
        for chunk in chunks:
            p.Parse(chunk, False)
            done += len(chunk)
            col.done_bytes = done
        p.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Refused("xml", f"line {exc.lineno}") from None
    if done == 0:
        raise Refused("empty")
    if state["glucose"] is not None:
        emit_glucose()
    _daily_steps(steps, step_offsets, col)


def _daily_steps(steps: dict, offsets: dict, col: Collector) -> None:
    """One total per local day: per source, then the largest source (phone + watch count the
    same steps twice)."""
    best: dict[str, tuple[float, str]] = {}
    for (day, source), total in steps.items():
        if day not in best or total > best[day][0]:
            best[day] = (total, source)
    for day in sorted(best):
        total, source = best[day]
        off = offsets[day]
        try:
            taken = day_start(day, off)
        except ValueError:
            col.reject("bad_date", None, _STEPS.key)
            continue
        col.add(_STEPS, taken, off, float(round(total)), None, None, source or None, day)
