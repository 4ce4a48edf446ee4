"""Six months of measures for the demo space: a weekly weight, a height, morning blood
pressure a few times a week, fasting glucose now and then, and a resting heart rate.
Deterministic (seeded), so every demo looks the same."""

from __future__ import annotations

import random
from datetime import timedelta

from blueprints.measures import kinds
from blueprints.measures.models import Measure
from core import clock
from core.db import db


def add_demo_measures(patient_id: str, days: int = 180) -> int:
    rng = random.Random(2026)
    today = clock.paris_now().replace(hour=7, minute=45, second=0, microsecond=0)
    rows = []

    def add(kind_key: str, when, value: float, value2: float | None = None, context: str | None = None):
        kind = kinds.get(kind_key)
        value = round(value, kind.decimals)
        value2 = round(value2) if value2 is not None else None
        rows.append(
            Measure(
                patient_id=patient_id,
                kind=kind_key,
                taken_at=int(when.timestamp()),
                utc_offset=int(when.utcoffset().total_seconds() // 60),
                value=value,
                value2=value2,
                context=context,
                source="manual",
                dedup=kinds.dedup_key(kind, value, value2, context),
            )
        )

    add("height", today - timedelta(days=days), 166)
    weight = 71.8
    for day in range(days, 0, -1):
        when = today - timedelta(days=day)
        if day % 7 == 0:
            weight += rng.uniform(-0.45, 0.3)
            add("weight", when, weight)
        if day % 3 == 0:
            add("blood_pressure", when + timedelta(minutes=5), rng.gauss(128, 6), rng.gauss(81, 4))
            add("heart_rate", when + timedelta(minutes=6), rng.gauss(66, 4))
        if day % 15 == 0:
            add("glucose", when - timedelta(minutes=30), rng.gauss(98, 7), context="fasting")
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)
