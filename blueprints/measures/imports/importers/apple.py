"""Apple Health `export.xml`, read as a stream with pyexpat: one pass, bounded memory,
whatever the size (real exports are gigabytes).

Safety: the file opens with an internal DTD of ELEMENT/ATTLIST declarations, which is
accepted; any ENTITY declaration (how "billion laughs" expands) or external entity refuses
the whole file, and nothing is ever fetched (parameter entities are never parsed).
Speed: dates like "2024-03-01 07:58:00 +0100" are sliced, with the day and the time of day
cached; each (type, unit) pair is planned once and each value string of it converted, checked
and given its dedup key once (an export repeats the same few values a million times).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from xml.parsers import expat

from blueprints.measures import kinds
from blueprints.measures.imports.importers.common import EPOCH_ORDINAL, Collector, Refused, canonical, day_start

_TYPES = {t: kinds.KINDS[k] for t, k in kinds.APPLE_TYPES.items()}
_SPO2 = kinds.KINDS["spo2"]
_GLUCOSE = kinds.KINDS["glucose"]
_STEPS = kinds.KINDS["steps"]
_BP = kinds.KINDS["blood_pressure"]
_PREFIXES = ("HKQuantityTypeIdentifier", "HKCategoryTypeIdentifier", "HKCorrelationTypeIdentifier", "HKDataType")


def _short(type_name: str) -> str:
    for prefix in _PREFIXES:
        if type_name.startswith(prefix):
            return type_name[len(prefix) :]
    return type_name[:60]


_TIMES = {
    f"{h:02d}:{m:02d}:{sec:02d}": h * 3600 + m * 60 + sec for h in range(24) for m in range(60) for sec in range(60)
}


class _Dates:
    """'2024-03-01 07:58:00 +0100' → (UTC seconds, offset minutes), without strptime."""

    def __init__(self):
        self.days: dict[str, tuple[int, int]] = {}
        self.times: dict[str, int] = dict(_TIMES)  # a watch's records meet nearly every second of the day

    def __call__(self, s: str) -> tuple[int, int]:
        key = s[:10] + s[19:]
        day = self.days.get(key)
        if day is None:
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


ROOT = "HealthData"


def _parser():
    """An expat parser that reads an internal DTD but refuses every entity and fetches nothing."""
    p = expat.ParserCreate()
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.EntityDeclHandler = _refuse
    p.UnparsedEntityDeclHandler = _refuse
    p.ExternalEntityRefHandler = _refuse
    return p


class _Root(Exception):
    pass


def root_element(head: bytes) -> str | None:
    """The name of the root element found in the first bytes of an XML file, or None when
    those bytes end before it (a long DTD) or cannot be read (entities, broken XML): the
    parser checks all of it again and says why it refuses."""
    p = _parser()
    found: list[str] = []

    def start(name, _attrs):
        found.append(name)
        raise _Root

    p.StartElementHandler = start
    try:
        p.Parse(head, False)
    except _Root:
        return found[0]
    except (expat.ExpatError, Refused):
        return None
    return None


_PLAIN, _STEPS_MODE, _GLUCOSE_MODE, _IGNORE, _SKIP = range(5)  # how a record type is read
_VALUES = 8192  # value strings remembered per record type (a cache: cleared when full)
_BUFFER = 2048  # checked rows handed to the collector at once


def parse(chunks: Iterable[bytes], col: Collector) -> None:
    """Feed every supported value of the export to `col`; raise Refused for a bad file.

    Most of a real export is a few record types repeating a few values with one unit, so the
    common Record is handled inline: one look-up by type, one by the value string (its
    conversion, plausibility and dedup key worked out once), two for the date. Rows of plain
    kinds are buffered and handed to the collector already checked (Collector.extend). The
    end-element handler is only installed while a correlation or a glucose record is open.
    """
    when = _Dates()
    days, times = when.days, when.times
    factors: dict[tuple, tuple[float, float] | None] = {}  # (type, unit) → (factor, offset)
    plans: dict[str | None, tuple] = {}  # type → (mode, unit, values, kind, key)
    steps: dict[tuple[str, str], float] = {}  # (local day, source) → total
    step_offsets: dict[str, int] = {}
    corr = sys_a = dia_a = glucose = None
    other_corr = 0
    ending = False  # is the end handler installed?
    buf: list[tuple] = []
    buffer = min(_BUFFER, col.batch)  # never hold more than a batch: batches stay the collector's size
    reject, extend = col.reject, col.extend

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

    def convert(text, type_name: str, kind, unit):
        """The value string in the kind's unit, or why it is rejected."""
        try:
            v = float(text)
        except (TypeError, ValueError):
            return "bad_value"
        f = factor(type_name, kind, unit)
        if f is None:
            return "unknown_unit"
        v = v * f[0] + f[1]
        if kind is _SPO2 and v <= 1.0:  # Apple writes a fraction with unit "%": 0.97 is 97 %
            v *= 100
        return v

    def value_of(a: dict, type_name: str, kind) -> float | None:
        v = convert(a.get("value"), type_name, kind, a.get("unit"))
        if v.__class__ is str:
            reject(v, a.get("startDate"), kind.key)
            return None
        return v

    def checked(v: float, kind) -> tuple | str:
        """What Collector.add would keep of a value: (rounded value, dedup key), or 'implausible'."""
        try:
            kinds.check(kind, v)
        except kinds.Implausible:
            return "implausible"
        v = round(v, 3)
        return v, kinds.dedup_key(kind, v)

    def plan(t, unit):
        """How records of type `t` with this unit are read; values met are remembered."""
        kind = _TYPES.get(t)
        if kind is None:
            mode = _SKIP if t == kinds.APPLE_SYSTOLIC or t == kinds.APPLE_DIASTOLIC else _IGNORE
            found = (mode, unit, _short(t or ""), kind, None)
        else:
            found = (
                _STEPS_MODE if kind is _STEPS else _GLUCOSE_MODE if kind is _GLUCOSE else _PLAIN,
                unit,
                {},
                kind,
                kind.key,
            )
        if t not in plans or len(plans) < 256:  # a file with endless types or units stays bounded
            plans[t] = found
        return found

    def slow_value(e, t, text):
        """Fill the value cache of plan `e` for this value string."""
        values = e[2]
        if len(values) >= _VALUES:
            values.clear()
        kind = e[3]
        v = convert(text, t, kind, e[1])
        if v.__class__ is not str and e[0] == _PLAIN:
            v = checked(v, kind)
        values[text] = v
        return v

    def date_of(s: str):
        try:
            return when(s)
        except (ValueError, IndexError, TypeError):
            return None

    def emit_glucose():
        nonlocal glucose
        a, v, taken, off, context = glucose
        glucose = None
        col.add(_GLUCOSE, taken, off, v, None, context, a.get("sourceName"), a["startDate"])

    def install():
        nonlocal ending
        want = corr is not None or other_corr > 0 or glucose is not None
        if want is not ending:
            p.EndElementHandler = end if want else None
            ending = want

    def start(name: str, a: dict):
        if name == "Record":
            if not ending:  # the bulk of a file: a known type and unit, a value and a date met before
                try:
                    e = plans[a["type"]]
                    mode = e[0]
                    if mode >= _IGNORE:
                        if mode == _IGNORE:
                            col.ignore(e[2])
                        return
                    if e[1] == a.get("unit"):
                        v = e[2][a["value"]]
                        s = a["startDate"]
                        day = days[s[:10] + s[19:]]
                        second = times[s[11:19]]
                        if mode == _PLAIN and v.__class__ is tuple:
                            buf.append((e[4], day[0] + second, day[1], v[0], None, None, a.get("sourceName"), v[1]))
                            if len(buf) >= buffer:
                                extend(buf)
                                buf.clear()
                            return
                        if mode == _STEPS_MODE and v.__class__ is float:
                            d = s[:10]
                            key = (d, a.get("sourceName") or "")
                            steps[key] = steps.get(key, 0.0) + v
                            if d not in step_offsets:
                                step_offsets[d] = day[1]
                            return
                except KeyError:
                    pass
            record(a)
        elif name == "MetadataEntry":
            if glucose is not None:  # the meal of the glucose record open; other metadata is not kept
                other(name, a)
        elif name == "Correlation":
            other(name, a)

    def record(a: dict):
        """Any Record, the general way (the cases the fast path above leaves, and the first
        of each type, unit, value and date)."""
        nonlocal sys_a, dia_a, glucose
        t = a.get("type")
        if corr is not None or other_corr or glucose is not None:
            if corr is not None:
                if t == kinds.APPLE_SYSTOLIC:
                    sys_a = a
                elif t == kinds.APPLE_DIASTOLIC:
                    dia_a = a
                return
            if other_corr:
                return
            emit_glucose()
            install()
        unit = a.get("unit")
        e = plans.get(t)
        if e is None or e[1] != unit:
            e = plan(t, unit)
        mode = e[0]
        if mode >= _IGNORE:
            if mode == _IGNORE:
                col.ignore(e[2])
            return
        text = a.get("value")
        v = e[2].get(text)
        if v is None:
            v = slow_value(e, t, text)
        kind = e[3]
        if v.__class__ is str and v != "implausible":
            reject(v, a.get("startDate"), kind.key)
            return
        s = a.get("startDate", "")
        day = days.get(s[:10] + s[19:])
        second = times.get(s[11:19])
        if day is None or second is None:
            found = date_of(s)
            if found is None:
                reject("bad_date", None, kind.key)
                return
            taken, off = found
        else:
            taken, off = day[0] + second, day[1]
        if mode == _PLAIN:
            if v.__class__ is str:
                reject(v, s, kind.key)
                return
            buf.append((kind.key, taken, off, v[0], None, None, a.get("sourceName"), v[1]))
            if len(buf) >= buffer:
                extend(buf)
                buf.clear()
        elif mode == _STEPS_MODE:
            d = s[:10]
            key = (d, a.get("sourceName") or "")
            steps[key] = steps.get(key, 0.0) + v
            if d not in step_offsets:
                step_offsets[d] = off
        else:
            glucose = (a, v, taken, off, None)
            install()

    def other(name: str, a: dict):
        nonlocal corr, sys_a, dia_a, glucose, other_corr
        if name == "MetadataEntry":
            g = glucose
            if g is not None and a.get("key") in kinds.APPLE_MEAL_KEYS:
                glucose = g[:4] + (kinds.APPLE_MEAL_CONTEXTS.get(a.get("value", "")),)
        elif name == "Correlation":
            if glucose is not None:
                emit_glucose()
            if a.get("type") == kinds.APPLE_BLOOD_PRESSURE:
                corr, sys_a, dia_a = a, None, None
            else:
                other_corr += 1
                col.ignore(_short(a.get("type") or ""))
            install()

    def end(name: str):
        nonlocal corr, other_corr
        if name == "Record":
            if glucose is not None and corr is None:
                emit_glucose()
                install()
        elif name == "Correlation":
            if other_corr:
                other_corr -= 1
            elif corr is not None:
                c, corr = corr, None
                _pressure(c, sys_a, dia_a)
            install()

    def _pressure(corr, sys_a, dia_a):
        stamp = corr.get("startDate") or (sys_a or {}).get("startDate", "")
        if sys_a is None or dia_a is None:
            reject("incomplete", stamp, _BP.key)
            return
        high = value_of(sys_a, kinds.APPLE_SYSTOLIC, _BP)
        low = value_of(dia_a, kinds.APPLE_DIASTOLIC, _BP)
        if high is None or low is None:
            return
        found = date_of(stamp)
        if found is None:
            reject("bad_date", None, _BP.key)
            return
        col.add(_BP, found[0], found[1], high, low, None, corr.get("sourceName") or sys_a.get("sourceName"), stamp)

    def first(name: str, a: dict):
        """The root element: an Apple export's is <HealthData>; any other XML (a GPX route,
        a CDA document...) is refused rather than read as an export with nothing in it."""
        if name != ROOT:
            raise Refused("no_export")
        p.StartElementHandler = start

    p = _parser()
    p.StartElementHandler = first
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
    extend(buf)
    if glucose is not None:
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
