"""FHIR R4: a Bundle of Observations with LOINC codes and UCUM quantities.

JSON is read whole, so the file is bounded (MAX_BYTES) before it is parsed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from blueprints.measures import kinds
from blueprints.measures.imports.importers.common import Collector, Refused, canonical, instant

MAX_BYTES = 50 * 1024 * 1024
LOINC = "http://loinc.org"
_CONTEXT_BY_LOINC = {code: key for key, (_label, code) in kinds.MEAL_CONTEXTS.items()} | kinds.LOINC_MEAL_ALIASES
_BP = kinds.KINDS["blood_pressure"]
_GLUCOSE = kinds.KINDS["glucose"]


def _codes(concept: dict | None) -> list[str]:
    codings = (concept or {}).get("coding") or []
    return [c.get("code") for c in codings if isinstance(c, dict) and c.get("system", LOINC) == LOINC]


def _quantity(q: dict | None, kind) -> float:
    """valueQuantity → canonical value; ValueError / UnknownUnit when it cannot be read."""
    if not isinstance(q, dict) or not isinstance(q.get("value"), (int, float)) or isinstance(q.get("value"), bool):
        raise ValueError("no value")
    unit = q.get("code") or q.get("unit")
    try:
        return canonical(kind, float(q["value"]), unit)
    except kinds.UnknownUnit:
        if q.get("unit") and q.get("unit") != unit:
            return canonical(kind, float(q["value"]), q["unit"])
        raise


def _when(obs: dict) -> tuple[int, int]:
    text = (
        obs.get("effectiveDateTime") or (obs.get("effectivePeriod") or {}).get("start") or obs.get("effectiveInstant")
    )
    if not isinstance(text, str) or len(text) < 10:
        raise ValueError("no date")
    if len(text) == 10:
        text += "T00:00:00"  # a date alone: local midnight in Paris, as CSV dates and daily steps
    return instant(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _source(obs: dict) -> str | None:
    for ref in [obs.get("device")] + list(obs.get("performer") or []):
        if isinstance(ref, dict) and isinstance(ref.get("display"), str):
            return ref["display"][:120]
    return None


def read_all(chunks: Iterable[bytes], col: Collector, limit: int = MAX_BYTES) -> bytes:
    data = bytearray()
    for chunk in chunks:
        data += chunk
        col.done_bytes = len(data)
        if len(data) > limit:
            raise Refused("too_large")
    return bytes(data)


def parse(chunks: Iterable[bytes], col: Collector) -> None:
    raw = read_all(chunks, col)
    if not raw.strip():
        raise Refused("empty")
    try:
        bundle = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise Refused("json") from None
    del raw
    if not isinstance(bundle, dict) or bundle.get("resourceType") not in ("Bundle", "Observation"):
        raise Refused("not_fhir")
    entries = [{"resource": bundle}] if bundle["resourceType"] == "Observation" else (bundle.get("entry") or [])
    for n, entry in enumerate(entries, 1):
        obs = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(obs, dict) or obs.get("resourceType") != "Observation":
            col.ignore((obs or {}).get("resourceType", "?") if isinstance(obs, dict) else "?")
            continue
        if obs.get("status") in ("entered-in-error", "cancelled"):
            col.ignore("entered-in-error")
            continue
        _observation(obs, n, col)


def _observation(obs: dict, n: int, col: Collector) -> None:
    codes = _codes(obs.get("code"))
    kind, context = None, None
    for code in codes:
        if code in _CONTEXT_BY_LOINC:
            kind, context = _GLUCOSE, _CONTEXT_BY_LOINC[code]
            break
        if code in kinds.BY_LOINC:
            kind = kinds.BY_LOINC[code]
            break
    if kind is None:
        col.ignore(codes[0] if codes else "?")
        return
    try:
        taken, off = _when(obs)
    except (ValueError, TypeError):
        col.reject("bad_date", n, kind.key)
        return
    value2 = None
    try:
        if kind is _BP:
            parts = {}
            for comp in obs.get("component") or []:
                for code in _codes(comp.get("code") if isinstance(comp, dict) else None):
                    if code in (kinds.SYSTOLIC, kinds.DIASTOLIC):
                        parts[code] = _quantity(comp.get("valueQuantity"), kind)
            if kinds.SYSTOLIC not in parts or kinds.DIASTOLIC not in parts:
                col.reject("incomplete", n, kind.key)
                return
            value, value2 = parts[kinds.SYSTOLIC], parts[kinds.DIASTOLIC]
        else:
            value = _quantity(obs.get("valueQuantity"), kind)
    except kinds.UnknownUnit:
        col.reject("unknown_unit", n, kind.key)
        return
    except (ValueError, TypeError):
        col.reject("bad_value", n, kind.key)
        return
    if kind.key == "spo2" and value <= 1.0:
        value *= 100
    col.add(kind, taken, off, value, value2, context, _source(obs), n)


def observation(obs: dict, col: Collector) -> None:
    """One Observation, checked as in a file (an app's API call goes through here too)."""
    if obs.get("status") in ("entered-in-error", "cancelled"):
        col.ignore("entered-in-error")
        return
    _observation(obs, 1, col)
